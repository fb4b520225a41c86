"""The trial journal: one JSON line per candidate beside a task's MetaSchedule database.

MetaSchedule's records hold run seconds only; the journal says what each one is (a full
measurement, an abandoned candidate timed by its warm-up call, a build/link/run failure), with
the raw per-repeat times and who measured it. Lines are appended and flushed as trials finish;
a damaged line (a run killed mid-write) is skipped when read.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..measure.outcome import Outcome

JOURNAL_NAME = "trials.jsonl"


@dataclass(frozen=True)
class TrialEntry:
    """One candidate's fate."""

    key: int  # structural hash of the scheduled module
    outcome: Outcome
    number: int = 0
    times_s: tuple[float, ...] = ()
    error: str | None = None
    verified: bool = False
    browser: str = ""
    browser_version: str = ""
    host: str = ""  # the machine that measured it (a remote farm entry: its endpoint's host)
    wall_time: float = field(default=0.0)
    warmup_calls: int = 0  # the page's warm-up before the timed repeats
    warmup_stop: str = ""
    restarts: int = 0  # the page restarted the timed repeats (the code got faster)
    tier: str = ""  # "optimized": compiled with the engine's optimizing tier before timing
    warmup_ms: float = 0.0  # time in the warm-up's calls
    untimed_ms: float = 0.0  # time in calls neither warm-up nor timed (calibration batches)

    @property
    def timed_s(self) -> float:
        """Seconds in the calls its times come from (abandoned: its fastest warm-up call)."""
        return self.number * sum(self.times_s)

    @property
    def warmup_s(self) -> float:
        """Seconds in warm-up calls beyond those its times come from."""
        own = self.timed_s if self.outcome is Outcome.ABANDONED else 0.0
        return max(0.0, self.warmup_ms / 1000 - own)

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["outcome"] = self.outcome.value
        data["times_s"] = list(self.times_s)
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialEntry:
        return cls(
            key=int(data["key"]),
            outcome=Outcome(data["outcome"]),
            number=int(data.get("number", 0)),
            times_s=tuple(float(t) for t in data.get("times_s", ())),
            error=data.get("error"),
            verified=bool(data.get("verified", False)),
            browser=str(data.get("browser", "")),
            browser_version=str(data.get("browser_version", "")),
            host=str(data.get("host", "")),
            wall_time=float(data.get("wall_time", 0.0)),
            warmup_calls=int(data.get("warmup_calls", 0)),
            warmup_stop=str(data.get("warmup_stop", "")),
            restarts=int(data.get("restarts", 0)),
            tier=str(data.get("tier", "")),
            warmup_ms=float(data.get("warmup_ms", 0.0)),
            untimed_ms=float(data.get("untimed_ms", 0.0)),
        )


class TrialJournal:
    """Appends entries to `<database dir>/trials.jsonl` and reads them back."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / JOURNAL_NAME

    def read(self) -> list[TrialEntry]:
        """Every complete entry; damaged lines are skipped."""
        if not self.path.exists():
            return []
        entries = []
        for line in self.path.read_text(errors="replace").splitlines():
            try:
                entries.append(TrialEntry.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                continue
        return entries

    def append(self, entries: list[TrialEntry]) -> None:
        if not entries:
            return
        text = "".join(entry.to_json() + "\n" for entry in entries)
        with self.path.open("a") as handle:
            if handle.tell() > 0 and not self._ends_with_newline():
                handle.write("\n")  # never glue a new line onto a damaged last one
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"
