"""Each task's tuned GFLOPS per browser in one row: which engine is fast, which is slow."""

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
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *map(line, rows)]
