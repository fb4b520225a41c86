"""Each task's tuned GFLOPS per browser in one row (which engine is fast, which is slow), and each
browser's best schedule re-measured in the others (does one engine's best win in another?)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def per_browser(tasks: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, float | None]]:
    """`{task: {browser: best GFLOPS (None: no verified best)}}`, in the order tasks came."""
    table: dict[str, dict[str, float | None]] = {}
    for record in tasks:
        table.setdefault(str(record["task"]), {})[str(record["browser"])] = record.get(
            "best_gflops"
        )
    return table


def cross_engine(tasks: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """`{task: {schedule of: {timed in: GFLOPS or None}}}` for the tasks where some browser
    re-measured another's best: each browser's own best (under its database name, e.g.
    "chromium-relaxed-simd") and the foreign bests it timed."""
    records = list(tasks)
    crossed = {str(record["task"]) for record in records if record.get("cross_engine")}
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for record in records:
        task = str(record["task"])
        if task not in crossed:
            continue
        browser = str(record["browser"])
        row = table.setdefault(task, {})
        own = str(record.get("database_name") or browser)
        row.setdefault(own, {})[browser] = record.get("best_gflops")
        for source, figure in (record.get("cross_engine") or {}).items():
            row.setdefault(str(source), {})[browser] = figure.get("gflops")
    return table


def format_side_by_side(tasks: Iterable[Mapping[str, Any]]) -> list[str]:
    """The per-browser table, or nothing when only one browser measured."""
    table = per_browser(tasks)
    browsers = list(dict.fromkeys(b for row in table.values() for b in row))
    if len(browsers) < 2:
        return []
    headers = ["task", *(f"{b} GFLOPS" for b in browsers)]
    rows = [
        [task, *("-" if row.get(b) is None else f"{row[b]:.2f}" for b in browsers)]
        for task, row in table.items()
    ]
    return _aligned(headers, rows, left=1)


def format_cross_engine(tasks: Iterable[Mapping[str, Any]]) -> list[str]:
    """Rows: whose best schedule; columns: the browser it was timed in (GFLOPS)."""
    table = cross_engine(tasks)
    if not table:
        return []
    browsers = list(
        dict.fromkeys(b for row in table.values() for cells in row.values() for b in cells)
    )
    headers = ["task", "best of", *(f"in {b}" for b in browsers)]
    rows = [
        [task, source, *_cells(cells, browsers)]
        for task, row in table.items()
        for source, cells in row.items()
    ]
    return _aligned(headers, rows, left=2)


def _cells(cells: Mapping[str, Any], browsers: list[str]) -> list[str]:
    return ["-" if cells.get(b) is None else f"{cells[b]:.2f}" for b in browsers]


def _aligned(headers: list[str], rows: list[list[str]], left: int) -> list[str]:
    """Columns padded to one width; the first `left` ones left-aligned, numbers right."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *map(line, rows)]
