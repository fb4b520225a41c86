"""The final choice: which schedule a task's last final re-measurement chose, beside its database.

The search ranks records by their search-time medians, and so does MetaSchedule's database when
a model is compiled. The final re-measurement times the default, the best and its runners-up
side by side and picks the fastest verified one; `final_choice.json` in the database directory
keeps that decision for the model compile (models/compile.py) to apply alone:

    {"version": 1, "workload": "<12 hex of its hash>", "chosen": "default" or "<trace>",
     "label": "runner-up 1", "default_s": 1.49e-05, "chosen_s": 1.12e-05,
     "decided_at": "2025-01-31T12:00:00+00:00"}

It is written atomically (a temporary file, then os.replace) at the end of every tuning that
verified a schedule, so a resumed run decides again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import DatabaseError
from .report import atomic_write_text

CHOICE_FILE = "final_choice.json"
DEFAULT = "default"  # `chosen` when no tuned schedule beat the default
CHOICE_VERSION = 1


class FinalChoiceError(DatabaseError):
    """A final choice file cannot be read."""


@dataclass(frozen=True)
class FinalChoice:
    """The schedule the final re-measurement chose for one workload."""

    workload: str  # the workload's key (artifacts.database.workload_key)
    chosen: str  # DEFAULT, or the chosen record's trace as str(record.trace)
    label: str  # its final figure's label: "default", "best", "runner-up 1", ...
    default_s: float | None  # the default's final median (None: it failed)
    chosen_s: float  # the chosen one's final median
    decided_at: str  # ISO 8601, UTC

    @property
    def default_kept(self) -> bool:
        return self.chosen == DEFAULT


def write_choice(directory: Path, choice: FinalChoice) -> Path:
    """Replace `<directory>/final_choice.json` with `choice` in one step; the path written."""
    text = json.dumps({"version": CHOICE_VERSION, **asdict(choice)}, indent=1) + "\n"
    return atomic_write_text(directory / CHOICE_FILE, text)


def read_choice(directory: Path) -> FinalChoice | None:
    """The directory's final choice; None without one (a database tuned before choices were
    kept). Raises FinalChoiceError, naming the file and the fix, if it cannot be read."""
    path = directory / CHOICE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        if data.get("version") != CHOICE_VERSION:
            raise ValueError(f"version {data.get('version')!r}, expected {CHOICE_VERSION}")
        default_s = data["default_s"]
        return FinalChoice(
            workload=str(data["workload"]),
            chosen=_text(data["chosen"], "chosen"),
            label=str(data["label"]),
            default_s=None if default_s is None else float(default_s),
            chosen_s=float(data["chosen_s"]),
            decided_at=str(data["decided_at"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise FinalChoiceError(
            f"final choice {path} cannot be read ({type(error).__name__}: {error}); delete it "
            "to apply the database's fastest search-time record, or tune the task again to "
            "decide anew"
        ) from error


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value
