"""Scores for a task's candidates before its XGBoost cost model has trained: the measured speed
of the schedules nearest in their sampled decisions.

MetaSchedule's XGBoost model scores at random until it has trained on 100 results, so at 64
trials per batch the evolutionary search breeds a 128-trial task's second batch by random
scores: mostly fresh samples, few of them near the fastest schedules of the first. Here each
candidate is scored instead by kernel regression over the task's measured schedules: a weighted
mean of their speeds (fastest = 1, failed = 0), weighted by exp(-distance / tau), where the
distance between two schedules of one design space counts how far their tile factors lie apart
(a factor of 2 moved between two loop levels: 1) and how many other decisions (unroll step,
compute location) differ. Mutants of the fastest schedules score highest.

MetaSchedule's search knows only the schedules it proposed itself as measured: it would propose
again the fastest ones measured outside it (sibling or warm-start seeds, an earlier run's), now
that they score highest, and the tuner would skip them as recorded. Those score 0 here.

    model = with_neighbour_scores(XGBModel(), tau=2.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

STRUCTURE_DISTANCE = 8.0  # between schedules whose traces sample different decisions


class Decisions(NamedTuple):
    """A schedule's sampled decisions, in trace order."""

    structure: tuple[str, ...]  # the kind of each sampling instruction, with its tile's parts
    tiles: tuple[float, ...]  # log2 of every tile factor
    choices: tuple[int, ...]  # categorical and compute-location decisions
    instructions: tuple[str, ...] = ()  # every instruction's kind: tells design spaces apart


def decisions_from(steps: list[tuple[str, Any]]) -> Decisions:
    """The `Decisions` of `steps`: (instruction kind, decision) pairs in trace order, a tile
    decision being its list of factors, an instruction without a decision having None."""
    structure: list[str] = []
    tiles: list[float] = []
    choices: list[int] = []
    for kind, decision in steps:
        if isinstance(decision, list | tuple):
            structure.append(f"{kind}/{len(decision)}")
            tiles.extend(math.log2(max(int(factor), 1)) for factor in decision)
        elif decision is not None:
            structure.append(kind)
            choices.append(int(decision))
    instructions = tuple(kind for kind, _ in steps)
    return Decisions(tuple(structure), tuple(tiles), tuple(choices), instructions)


def decisions_of(trace: Any) -> Decisions:
    """The `Decisions` of a MetaSchedule trace (its postprocessing left out: it follows from
    the decisions)."""
    steps = []
    for inst in trace.insts:
        kind = inst.kind.name
        if kind == "EnterPostproc":
            break
        decision = trace.decisions.get(inst)
        if decision is not None and hasattr(decision, "__len__"):
            decision = [int(factor) for factor in decision]
        steps.append((kind, decision))
    return decisions_from(steps)


def distances(candidates: list[Decisions], measured: list[Decisions]) -> np.ndarray:
    """Distance of every candidate (rows) to every measured schedule (columns)."""
    result = np.full((len(candidates), len(measured)), STRUCTURE_DISTANCE)
    for structure in {c.structure for c in candidates}:
        rows = [i for i, c in enumerate(candidates) if c.structure == structure]
        cols = [j for j, m in enumerate(measured) if m.structure == structure]
        if not cols:
            continue
        tiles = np.array([candidates[i].tiles for i in rows]).reshape(len(rows), -1)
        tiles_m = np.array([measured[j].tiles for j in cols]).reshape(len(cols), -1)
        choices = np.array([candidates[i].choices for i in rows]).reshape(len(rows), -1)
        choices_m = np.array([measured[j].choices for j in cols]).reshape(len(cols), -1)
        apart = np.abs(tiles[:, None, :] - tiles_m[None, :, :]).sum(axis=2) / 2
        differ = (choices[:, None, :] != choices_m[None, :, :]).sum(axis=2)
        result[np.ix_(rows, cols)] = apart + differ
    return result


def speeds(costs: list[float]) -> np.ndarray:
    """Each measured cost as a speed relative to the fastest (failed or unmeasured: 0)."""
    finite = np.array([c if math.isfinite(c) and c > 0 else math.inf for c in costs])
    fastest = finite.min() if len(finite) else math.inf
    if not math.isfinite(fastest):
        return np.zeros(len(finite))
    return fastest / finite


def neighbour_scores(
    candidates: list[Decisions], measured: list[Decisions], costs: list[float], tau: float
) -> np.ndarray:
    """Kernel-regression scores of `candidates` from the `measured` schedules' `costs`."""
    weights = np.exp(-distances(candidates, measured) / tau)
    return (weights @ speeds(costs)) / weights.sum(axis=1)


def _cost(result: Any) -> float:
    """A runner result's median time, or inf where it failed."""
    if result.error_msg or not result.run_secs:
        return math.inf
    return float(np.median([float(s) for s in result.run_secs]))


def with_neighbour_scores(
    inner: Any,
    tau: float,
    measured: Sequence[tuple[Any, float]] = (),
    foreign: Sequence[Any] = (),
) -> Any:
    """The cost model `inner` (an XGBModel), scoring by `neighbour_scores` while it still scores
    at random (it has not yet trained on its warm-up number of results). `measured`: (trace,
    seconds) of the task's schedules measured before (an earlier run's database); `foreign`:
    traces of schedules the search will have measured without proposing them (seeds). These and
    the `measured` score 0 whoever scores: the search would propose them again."""
    from tvm.ir.utils import derived_object
    from tvm.s_tir.meta_schedule.cost_model import PyCostModel

    @derived_object
    class NeighbourScores(PyCostModel):
        def __init__(
            self,
            inner: Any,
            tau: float,
            measured: Sequence[tuple[Any, float]],
            foreign: Sequence[Any],
        ) -> None:
            self.inner = inner
            self.tau = tau
            self.measured = [decisions_of(trace) for trace, _ in measured]
            self.costs = [float(seconds) for _, seconds in measured]
            self.foreign = {*self.measured, *(decisions_of(trace) for trace in foreign)}

        def load(self, path: str) -> None:
            self.inner.load(path)

        def save(self, path: str) -> None:
            self.inner.save(path)

        def update(self, context: Any, candidates: list[Any], results: list[Any]) -> None:
            self.inner.update(context, candidates, results)
            self.measured += [decisions_of(c.sch.trace) for c in candidates]
            self.costs += [_cost(r) for r in results]

        def predict(self, context: Any, candidates: list[Any]) -> np.ndarray:
            inner_ranks = (
                self.inner.booster is not None
                and self.inner.data_size >= self.inner.num_warmup_samples
            )
            inner_scores = inner_ranks or not self.measured
            if inner_scores and not self.foreign:
                return self.inner.predict(context, candidates)  # no trace needs reading
            decisions = [decisions_of(c.sch.trace) for c in candidates]
            if inner_scores:
                scores = np.asarray(self.inner.predict(context, candidates), dtype="float64")
            else:
                scores = neighbour_scores(decisions, self.measured, self.costs, self.tau)
            scores[[d in self.foreign for d in decisions]] = 0.0
            return scores

    return NeighbourScores(inner, tau, measured, foreign)
