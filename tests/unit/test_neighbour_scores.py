"""neighbour_scores.py: decisions, distances and the scores of candidates by their neighbours."""

import math

import numpy as np
from tvm.s_tir.meta_schedule.runner import RunnerResult

from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.neighbour_scores import (
    STRUCTURE_DISTANCE,
    decisions_from,
    decisions_of,
    distances,
    neighbour_scores,
    speeds,
    with_neighbour_scores,
)
from pytest_wasm_tune.search import cost_model

from .matmul_candidates import matmul_candidates


def _conv_like(tile: list[int], unroll: int) -> list[tuple[str, object]]:
    return [
        ("SamplePerfectTile", tile),
        ("SamplePerfectTile", [3, 1]),
        ("SampleCategorical", unroll),
    ]


def test_decisions_keep_log2_tiles_and_choices_in_trace_order() -> None:
    decisions = decisions_from(_conv_like([1, 2, 4, 8], unroll=2))
    assert decisions.structure == (
        "SamplePerfectTile/4",
        "SamplePerfectTile/2",
        "SampleCategorical",
    )
    assert decisions.tiles == (0.0, 1.0, 2.0, 3.0, math.log2(3), 0.0)
    assert decisions.choices == (2,)
    assert decisions.instructions == ("SamplePerfectTile", "SamplePerfectTile", "SampleCategorical")


def test_a_factor_of_two_moved_between_levels_is_one_apart() -> None:
    base = decisions_from(_conv_like([1, 2, 4, 8], unroll=2))
    moved = decisions_from(_conv_like([1, 4, 2, 8], unroll=2))
    other_unroll = decisions_from(_conv_like([1, 2, 4, 8], unroll=0))
    other_space = decisions_from([("SamplePerfectTile", [8, 8])])
    assert distances([moved, other_unroll, other_space, base], [base]).tolist() == [
        [1.0],
        [1.0],
        [STRUCTURE_DISTANCE],
        [0.0],
    ]


def test_speeds_are_relative_to_the_fastest_and_failures_are_zero() -> None:
    assert speeds([2.0, 1.0, math.inf]).tolist() == [0.5, 1.0, 0.0]
    assert speeds([math.inf]).tolist() == [0.0]


def test_a_neighbour_of_the_fastest_scores_above_one_of_the_slowest() -> None:
    fast = decisions_from(_conv_like([1, 1, 1, 64], unroll=2))
    slow = decisions_from(_conv_like([64, 1, 1, 1], unroll=0))
    near_fast = decisions_from(_conv_like([1, 1, 2, 32], unroll=2))
    near_slow = decisions_from(_conv_like([32, 2, 1, 1], unroll=0))
    scores = neighbour_scores([near_fast, near_slow], [fast, slow], [1e-3, 4e-3], tau=2.0)
    assert scores[0] > 0.8 > 0.4 > scores[1] >= 0.25


def test_sampled_decisions_are_read_from_a_schedules_trace() -> None:
    (candidate,) = matmul_candidates([8])
    decisions = decisions_of(candidate.sch.trace)
    assert decisions.structure == ("SamplePerfectTile/2",)
    assert decisions.tiles == (2.0, 3.0)
    assert decisions.instructions == ("GetSBlock", "GetLoops", "SamplePerfectTile", "Split")


def _context() -> object:
    from tvm.s_tir import meta_schedule as ms
    from tvm.target import Target

    return ms.TuneContext(mod=matmul_prim_func(32), target=Target("llvm"), num_threads=1)


def test_before_the_model_trains_the_fastest_neighbourhood_ranks_first() -> None:
    context = _context()
    model = cost_model(warmup=100, threads=1, neighbour_tau=2.0)
    measured = matmul_candidates([1, 2, 32])
    times = [8e-3, 4e-3, 1e-3]  # 32 columns per tile: the fastest
    model.update(context, measured, [RunnerResult([t], None) for t in times])
    scores = model.predict(context, matmul_candidates([1, 4, 16]))
    assert scores[2] > scores[1] > scores[0]
    assert model.predict(context, matmul_candidates([1, 4, 16])).tolist() == scores.tolist()


def test_a_failed_neighbour_counts_as_zero_speed() -> None:
    context = _context()
    model = cost_model(warmup=100, threads=1, neighbour_tau=2.0)
    measured = matmul_candidates([2, 16])
    results = [RunnerResult([2e-3], None), RunnerResult(None, "trap: out of bounds")]
    model.update(context, measured, results)
    near_ok, near_failed = model.predict(context, matmul_candidates([1, 32]))
    assert near_ok > 0.5 > near_failed


def test_once_trained_the_xgboost_model_scores() -> None:
    from tvm.s_tir.meta_schedule.cost_model import XGBModel

    context = _context()
    inner = XGBModel(num_warmup_samples=1, num_tuning_cores=1)
    model = with_neighbour_scores(inner, tau=2.0)
    candidates = matmul_candidates([1, 2, 4, 8, 16, 32])
    model.update(context, candidates, [RunnerResult([1e-3 * (k + 1)], None) for k in range(6)])
    assert np.array_equal(model.predict(context, candidates), inner.predict(context, candidates))


def test_schedules_measured_before_score_from_the_first_batch() -> None:
    measured = [
        (c.sch.trace, t) for c, t in zip(matmul_candidates([1, 32]), [8e-3, 1e-3], strict=True)
    ]
    model = cost_model(warmup=100, threads=1, neighbour_tau=2.0, measured=measured)
    near_slow, near_fast = model.predict(_context(), matmul_candidates([2, 16]))
    assert near_fast > near_slow


def test_schedules_measured_outside_the_search_score_zero_as_it_would_propose_them_again() -> None:
    before = [(c.sch.trace, t) for c, t in zip(matmul_candidates([32]), [1e-3], strict=True)]
    (seed,) = matmul_candidates([8])
    model = cost_model(1, 1, neighbour_tau=2.0, measured=before, foreign=[seed.sch.trace])
    context = _context()
    model.update(context, [seed], [RunnerResult([2e-3], None)])
    again, near_seed = model.predict(context, matmul_candidates([8, 4]))
    assert again == 0.0 < near_seed, "the trained XGBoost model scores, but not the seed"
    model = cost_model(100, 1, neighbour_tau=2.0, measured=before)
    earlier, near_earlier = model.predict(context, matmul_candidates([32, 16]))
    assert earlier == 0.0 < near_earlier
