"""search.py: the evolutionary search without tail batches."""

from typing import Any

import tvm
from tvm.s_tir import Schedule
from tvm.s_tir.meta_schedule.arg_info import ArgInfo
from tvm.s_tir.meta_schedule.search_strategy import MeasureCandidate

from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.search import tail_batch_floor, without_tail_batches


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
