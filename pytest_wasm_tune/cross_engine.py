"""Other engines' best schedules of a task, to be re-measured in this engine.

A schedule tuned in one engine is not always the best in another: after a task's search, the
best record of every other browser's database of the same workload (same artifacts, any task
name) joins this browser's final re-measurement, side by side with its own best. The report then
answers "does Chromium's best also win in Firefox and WebKit?".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFIX = "best of "  # label of a foreign best among the final figures


@dataclass(frozen=True)
class ForeignBest:
    """The fastest fully measured schedule of one other database (a browser and target)."""

    source: str  # the database's name: "firefox", "chromium-relaxed-simd", ...
    record: Any  # TuningRecord
    source_median_s: float  # what its own search measured there (not a figure of this engine)

    @property
    def label(self) -> str:
        return f"{PREFIX}{self.source}"


def foreign_bests(work_dir: Path, mod: Any, own_dir: Path) -> list[ForeignBest]:
    """One best per other database name of `mod` under `work_dir`, by name; databases named
    like `own_dir` (this browser and target under another task name) are not foreign."""
    from .warm_start import measured_records, source_databases  # TVM: only when tuning

    best: dict[str, ForeignBest] = {}
    for directory in source_databases(work_dir, mod, own_dir):
        if directory.name == own_dir.name:
            continue
        seed = next(measured_records(directory, mod), None)  # the database's fastest
        known = best.get(directory.name)
        if seed is not None and (known is None or seed.source_median_s < known.source_median_s):
            best[directory.name] = ForeignBest(directory.name, seed.record, seed.source_median_s)
    return [best[name] for name in sorted(best)]


def source_of(label: str) -> str | None:
    """The source database of a final figure's label (None: one of this engine's own)."""
    return label[len(PREFIX) :] if label.startswith(PREFIX) else None
