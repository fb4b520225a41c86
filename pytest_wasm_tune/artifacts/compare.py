"""The regression gate: each task's final best against an earlier run's, with their spreads.

A task regressed when its final best (median of the final re-measurement) got slower by more
than the limit AND the two runs' interquartile ranges do not overlap (this run's first quartile
is above the earlier run's third): a difference within the rounds' own spread fails nothing.
Pure functions on report records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Delta:
    """One task in one browser, now and in the baseline run (seconds per call)."""

    task: str
    browser: str
    current_s: float | None
    baseline_s: float | None
    current_iqr_s: tuple[float, float] | None = None
    baseline_iqr_s: tuple[float, float] | None = None
    limit_pct: float | None = None

    @property
    def change_pct(self) -> float | None:
        """How much slower than the baseline, in % (negative: faster)."""
        if not self.current_s or not self.baseline_s:
            return None
        return 100.0 * (self.current_s - self.baseline_s) / self.baseline_s

    @property
    def beyond_spread(self) -> bool:
        """Slower beyond both interquartile ranges (point values when a spread is missing)."""
        if self.current_s is None or self.baseline_s is None:
            return False
        if self.current_iqr_s is None or self.baseline_iqr_s is None:
            return self.current_s > self.baseline_s
        return self.current_iqr_s[0] > self.baseline_iqr_s[1]

    @property
    def regressed(self) -> bool:
        change = self.change_pct
        return (
            self.limit_pct is not None
            and change is not None
            and change > self.limit_pct
            and self.beyond_spread
        )

    @property
    def verdict(self) -> str:
        change = self.change_pct
        if self.baseline_s is None:
            return "new"
        if change is None:
            return "no result"
        if self.regressed:
            return "REGRESSED"
        if change > 0 and not self.beyond_spread:
            return "within spread"
        if change == 0:
            return "same"
        return "slower" if change > 0 else "faster"

    def message(self, baseline_id: str) -> str:
        """Why the item fails: both figures, their IQRs, the change and the limit."""
        return (
            f"wasm-tune regression: {self.task} in {self.browser}: final best "
            f"{_ms(self.current_s)} ({_iqr(self.current_iqr_s)}) against {_ms(self.baseline_s)} "
            f"({_iqr(self.baseline_iqr_s)}) in run {baseline_id}: {self.change_pct:+.1f} %, "
            f"more than --wasm-tune-compare-fail {self.limit_pct:g}% and beyond both IQRs"
        )


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.4g} ms"


def _iqr(iqr: tuple[float, float] | None) -> str:
    return "IQR unknown" if iqr is None else f"IQR {iqr[0] * 1e3:.4g}–{iqr[1] * 1e3:.4g}"


def _quartiles(record: Mapping[str, Any]) -> tuple[float, float] | None:
    spread = record.get("best_spread_s")
    if not isinstance(spread, Mapping) or spread.get("q1") is None or spread.get("q3") is None:
        return None
    return float(spread["q1"]), float(spread["q3"])


def compare_task(
    current: Mapping[str, Any], baseline: Mapping[str, Any] | None, limit_pct: float | None
) -> Delta:
    """The delta of one task record against its baseline record (None: not in the baseline)."""
    return Delta(
        task=str(current["task"]),
        browser=str(current["browser"]),
        current_s=current.get("best_s"),
        baseline_s=baseline.get("best_s") if baseline else None,
        current_iqr_s=_quartiles(current),
        baseline_iqr_s=_quartiles(baseline) if baseline else None,
        limit_pct=limit_pct,
    )


def baseline_index(report: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(task, browser) → the report's record (the last one when a task ran twice)."""
    return {(str(t["task"]), str(t["browser"])): t for t in report.get("tasks") or ()}


def compare_tasks(
    tasks: Iterable[Mapping[str, Any]], baseline: Mapping[str, Any], limit_pct: float | None
) -> list[Delta]:
    index = baseline_index(baseline)
    return [
        compare_task(task, index.get((str(task["task"]), str(task["browser"]))), limit_pct)
        for task in tasks
    ]


def format_deltas(deltas: Iterable[Delta], baseline_id: str) -> list[str]:
    """The summary's comparison table."""
    rows = [("task", "browser", f"{baseline_id} ms", "now ms", "change", "verdict")]
    for delta in deltas:
        change = delta.change_pct
        rows.append(
            (
                delta.task,
                delta.browser,
                "-" if delta.baseline_s is None else f"{delta.baseline_s * 1e3:.4g}",
                "-" if delta.current_s is None else f"{delta.current_s * 1e3:.4g}",
                "-" if change is None else f"{change:+.1f}%",
                delta.verdict,
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) if column in (0, 1, 5) else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
