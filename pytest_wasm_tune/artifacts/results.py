"""TuneResult → a JSON-serialisable record (what workers send and report.json stores)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..tuning import TuneResult

RECORD_VERSION = 1


def result_to_dict(
    result: TuneResult,
    *,
    nodeid: str,
    mode: str,
    browser_version: str = "",
    keep_database: bool = True,
) -> dict[str, Any]:
    """Everything about one tuned (or checked) task; `keep_database=False` drops the database
    location (the fast check tunes into a scratch directory)."""
    database = None
    if keep_database:
        directory = result.database_dir
        database = {
            "dir": str(directory),
            "files": sorted(path.name for path in directory.glob("database_*.json")),
        }
    return {
        "version": RECORD_VERSION,
        "nodeid": nodeid,
        "task": result.task,
        "browser": result.browser,
        "browser_version": browser_version,
        "mode": mode,
        "flops": result.flops,
        "default_s": result.default_s,
        "best_s": result.best_s,
        "default_gflops": result.default_gflops,
        "best_gflops": result.best_gflops,
        "speedup": result.speedup,
        "trials": result.trials,
        "measured": result.measured,
        "errors": result.errors,
        "error_messages": list(result.error_messages),
        "correct": result.correct,
        "default_correct": result.default_correct,
        "default_error": result.default_error,
        "database": database,
        "best_trace": result.best_trace,
        "phases_s": dict(result.phases_s),
        "wall_s": result.wall_s,
        "trial_log": [_trial(log) for log in result.trial_log],
    }


def _trial(log: Any) -> dict[str, Any]:
    record = dataclasses.asdict(log)
    record["times_s"] = list(record.get("times_s", ()))
    return record
