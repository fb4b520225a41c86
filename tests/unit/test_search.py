"""search.py: the design space, the evolutionary search without tail batches, its cost model."""

import re
from typing import Any

import pytest
import tvm
from tvm.s_tir import Schedule
from tvm.s_tir.meta_schedule.arg_info import ArgInfo
from tvm.s_tir.meta_schedule.runner import RunnerResult
from tvm.s_tir.meta_schedule.search_strategy import MeasureCandidate

from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.search import (
    cost_model,
    design_space,
    tail_batch_floor,
    without_tail_batches,
)

from .matmul_candidates import matmul_candidates


class ProposesFewer:
    """A search that proposes `sizes[i]` candidates in its i-th batch."""

    def __init__(self, sizes: list[int]) -> None:
        self.sizes = list(sizes)
        self.notified: list[int] = []
        mod = tvm.IRModule({"main": matmul_prim_func(8)})
        self.candidate = MeasureCandidate(Schedule(mod), ArgInfo.from_prim_func(mod["main"]))

    def pre_tuning(self, *_args: Any) -> None:
        pass

    def generate_measure_candidates(self) -> list[Any] | None:
        return [self.candidate] * self.sizes.pop(0) if self.sizes else None

    def notify_runner_results(self, candidates: Any, _results: Any) -> None:
        self.notified.append(len(candidates))


def _batches(strategy: Any, max_trials: int) -> list[int]:
    strategy.pre_tuning(max_trials, 64, [], None, None)
    sizes = []
    while (batch := strategy.generate_measure_candidates()) is not None:
        sizes.append(len(batch))
        strategy.notify_runner_results(batch, [])
    return sizes


def test_a_short_batch_that_leaves_a_tail_ends_the_search() -> None:
    inner = ProposesFewer([64, 62, 2])
    assert _batches(without_tail_batches(inner, 8), 128) == [64, 62]
    assert inner.notified == [64, 62], "the inner search hears every result"


def test_a_tail_as_large_as_the_floor_is_still_searched() -> None:
    assert _batches(without_tail_batches(ProposesFewer([64, 56, 8]), 8), 128) == [64, 56, 8]


def test_the_first_batch_always_runs_however_small_the_budget() -> None:
    assert _batches(without_tail_batches(ProposesFewer([3]), 8), 3) == [3]


def test_the_floor_is_an_eighth_of_a_batch() -> None:
    assert (tail_batch_floor(64), tail_batch_floor(24), tail_batch_floor(4)) == (8, 3, 1)


def _trained_scores(warmup: int) -> tuple[list[float], list[float]]:
    """Two predictions of a model with `warmup`, after one update with six results."""
    from tvm.s_tir import meta_schedule as ms
    from tvm.target import Target

    context = ms.TuneContext(mod=matmul_prim_func(32), target=Target("llvm"), num_threads=1)
    model = cost_model(warmup, threads=1)
    candidates = matmul_candidates([1, 2, 4, 8, 16, 32])
    results = [RunnerResult([1e-3 * (k + 1)], None) for k in range(len(candidates))]
    model.update(context, candidates, results)
    return list(model.predict(context, candidates)), list(model.predict(context, candidates))


def test_the_cost_model_ranks_from_its_first_training() -> None:
    first, second = _trained_scores(warmup=1)
    assert first == second, "scores from the trained model, not random draws"


def test_metaschedules_warmup_would_score_at_random_after_one_batch() -> None:
    first, second = _trained_scores(warmup=100)
    assert first != second


def _unroll_steps(space: Any) -> set[str]:
    """The unroll steps that the design space's traces of a 64³ matmul sample from."""
    from tvm.s_tir import meta_schedule as ms

    from pytest_wasm_tune.kernels import wasm_target

    mod = tvm.IRModule({"main": matmul_prim_func(64)})
    context = ms.TuneContext(mod=mod, target=wasm_target(), space_generator=space, task_name="t")
    traces = [str(sch.trace) for sch in context.generate_design_space()]
    return set(re.findall(r"sample_categorical\(candidates=(\[[\d, ]+\])", "\n".join(traces)))


def test_metaschedules_own_space_unless_a_step_is_capped() -> None:
    assert design_space(512) == "post-order-apply"
    assert _unroll_steps("post-order-apply") == {"[0, 16, 64, 512]"}


def test_a_capped_space_samples_only_the_smaller_unroll_steps() -> None:
    assert _unroll_steps(design_space(64)) == {"[0, 16, 64]"}
    assert _unroll_steps(design_space(0)) == {"[0]"}


def test_a_cap_below_every_step_is_an_error() -> None:
    with pytest.raises(ValueError, match="leaves none of the unroll steps"):
        design_space(-1)
