"""Tuning curves from trial logs, and how many trials a warm start saved. Pure functions.

A trial log is a sequence of trial records (`trials.jsonl` lines or report.json's
`trial_log`): `outcome`, `times_s` (seconds per call of each timed repeat) and `wall_time`.
Curves use the search-time medians of fully measured trials: progress, not final figures.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MEASURED = "measured"
TARGET_FRACTION = 0.9  # warm start: trials to reach 90 % of the cold run's best


@dataclass(frozen=True)
class CurvePoint:
    trial: int  # 1-based position in the log (every outcome counts as a trial)
    elapsed_s: float  # since the log's first trial
    gflops: float  # this trial's search-time GFLOPS
    best_gflops: float  # best so far


def curve(trials: Sequence[Mapping[str, Any]], flops: float) -> list[CurvePoint]:
    """One point per fully measured trial."""
    stamps = [float(t.get("wall_time") or 0.0) for t in trials]
    start = min((stamp for stamp in stamps if stamp > 0), default=0.0)
    points: list[CurvePoint] = []
    best = 0.0
    for number, trial in enumerate(trials, 1):
        times = trial.get("times_s") or ()
        if str(trial.get("outcome")) != MEASURED or not times:
            continue
        gflops = flops / statistics.median(float(t) for t in times) / 1e9
        best = max(best, gflops)
        elapsed = float(trial.get("wall_time") or start) - start
        points.append(CurvePoint(number, elapsed, gflops, best))
    return points


def trials_to_reach(points: Sequence[CurvePoint], target_gflops: float) -> int | None:
    """The first trial whose best so far reaches `target_gflops` (None: never)."""
    return next((p.trial for p in points if p.best_gflops >= target_gflops), None)


@dataclass(frozen=True)
class Savings:
    """Trials a warm run needed against a cold one to reach `fraction` of the cold best."""

    fraction: float
    target_gflops: float
    cold_trials: int
    warm_trials: int | None  # None: the warm run never got there

    @property
    def saved(self) -> int | None:
        return None if self.warm_trials is None else self.cold_trials - self.warm_trials

    def to_dict(self) -> dict[str, Any]:
        return {
            "fraction": self.fraction,
            "target_gflops": self.target_gflops,
            "cold_trials": self.cold_trials,
            "warm_trials": self.warm_trials,
            "saved": self.saved,
        }


def savings(
    cold: Sequence[CurvePoint], warm: Sequence[CurvePoint], fraction: float = TARGET_FRACTION
) -> Savings | None:
    """None when the cold run measured nothing."""
    if not cold:
        return None
    target = fraction * cold[-1].best_gflops
    cold_trials = trials_to_reach(cold, target)
    assert cold_trials is not None  # the cold run's own best reaches any fraction of it
    return Savings(fraction, target, cold_trials, trials_to_reach(warm, target))
