"""Measure candidates of a 32³ matmul that differ in one sampled tile, for cost-model tests."""

import tvm
from tvm.s_tir import Schedule
from tvm.s_tir.meta_schedule.arg_info import ArgInfo
from tvm.s_tir.meta_schedule.search_strategy import MeasureCandidate

from pytest_wasm_tune.main_job import matmul_prim_func


def matmul_candidates(factors: list[int]) -> list[MeasureCandidate]:
    """One candidate per factor: the column loop split by a sampled tile of that many columns."""
    mod = tvm.IRModule({"main": matmul_prim_func(32)})
    candidates = []
    for factor in factors:
        sch = Schedule(mod)
        _, j, _ = sch.get_loops(sch.get_sblock("C"))
        outer, inner = sch.sample_perfect_tile(j, n=2, decision=[32 // factor, factor])
        sch.split(j, [outer, inner])
        candidates.append(MeasureCandidate(sch, ArgInfo.from_prim_func(mod["main"])))
    return candidates
