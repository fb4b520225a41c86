"""TuneResult → a JSON-serialisable record (what workers send and report.json stores)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ..cross_engine import source_of

if TYPE_CHECKING:
    from ..tuning import TuneResult

RECORD_VERSION = 2


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
        "default_spread_s": _spread(result.default_spread),
        "best_spread_s": _spread(result.best_spread),
        "best_iqr_pct": _iqr_pct(result.best_spread),
        "search_best_s": result.search_best_s,
        "default_gflops": result.default_gflops,
        "best_gflops": result.best_gflops,
        "speedup": result.speedup,
        "default_kept": result.default_kept,
        "trials": result.trials,
        "measured": result.measured,
        "errors": result.errors,
        "outcomes": dict(result.outcomes),
        "error_messages": list(result.error_messages),
        "correct": result.correct,
        "default_correct": result.default_correct,
        "default_error": result.default_error,
        "database": database,
        "best_trace": result.best_trace,
        "phases_s": dict(result.phases_s),
        "search_phases_s": dict(result.search_phases_s),
        "finalists": [_finalist(figure) for figure in result.finalists],
        "batches": [dataclasses.asdict(batch) for batch in result.batches],
        "wall_s": result.wall_s,
        "trial_log": [_trial(log) for log in result.trial_log],
        "warm_start": result.warm_start,
        "siblings": result.siblings,
        "database_name": result.database_dir.name,
        "cross_engine": {
            source_of(figure.label): _cross(figure, result.flops) for figure in result.cross_engine
        },
    }


def _spread(spread: Any) -> dict[str, Any] | None:
    return None if spread is None else spread.to_dict()


def _iqr_pct(spread: Any) -> float | None:
    """Interquartile range of the final rounds in % of their median."""
    if spread is None or not spread.median:
        return None
    return round(100 * (spread.q3 - spread.q1) / spread.median, 2)


def _finalist(figure: Any) -> dict[str, Any]:
    return {
        "label": figure.label,
        "median_s": figure.median_s,
        "spread_s": _spread(figure.spread),
        "verified": figure.verified,
        "search_median_s": figure.search_median_s,
        "error": figure.error,
        "times_s": list(figure.times_s),
    }


def _cross(figure: Any, flops: float) -> dict[str, Any]:
    """Another browser's best as timed here: GFLOPS only when verified."""
    median = figure.median_s if figure.verified else None
    return {
        "gflops": flops / median / 1e9 if median else None,
        "median_s": figure.median_s,
        "spread_s": _spread(figure.spread),
        "verified": figure.verified,
        "error": figure.error,
    }


def _trial(log: Any) -> dict[str, Any]:
    record = dataclasses.asdict(log)
    record["times_s"] = list(record.get("times_s", ()))
    if "outcome" in record:
        record["outcome"] = str(record["outcome"])
    return record
