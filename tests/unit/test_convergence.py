"""Tuning curves from trial logs and the trials a warm start saved."""

import pytest

from pytest_wasm_tune.artifacts.convergence import curve, savings, trials_to_reach

FLOPS = 1e9  # 1 GFLOP: GFLOPS = 1 / seconds


def log(*seconds):
    """One trial per value; None is a failed trial."""
    return [
        {"outcome": "build_error", "times_s": [], "wall_time": 100.0 + i}
        if s is None
        else {"outcome": "measured", "times_s": [s, s * 1.1, s * 0.9], "wall_time": 100.0 + i}
        for i, s in enumerate(seconds)
    ]


def test_curve_keeps_the_best_so_far_of_measured_trials() -> None:
    points = curve(log(1.0, None, 0.5, 0.8, 0.25), FLOPS)
    assert [p.trial for p in points] == [1, 3, 4, 5]
    assert [p.best_gflops for p in points] == pytest.approx([1.0, 2.0, 2.0, 4.0])
    assert [p.elapsed_s for p in points] == [0.0, 2.0, 3.0, 4.0]
    assert trials_to_reach(points, 2.0) == 3 and trials_to_reach(points, 5.0) is None
    abandoned = [{"outcome": "abandoned", "times_s": [0.1], "wall_time": 1.0}]
    assert curve(abandoned, FLOPS) == []


def test_savings_count_trials_to_90_percent_of_the_cold_best() -> None:
    cold = curve(log(1.0, 0.8, 0.6, 0.5, 0.3, 0.26, 0.25), FLOPS)  # best 4 GFLOPS
    warm = curve(log(0.27, 0.5), FLOPS)  # 3.7 GFLOPS at once
    saved = savings(cold, warm)
    assert saved.target_gflops == pytest.approx(3.6)
    assert (saved.cold_trials, saved.warm_trials, saved.saved) == (6, 1, 5)
    never = savings(cold, curve(log(0.5), FLOPS))
    assert never.warm_trials is None and never.saved is None and never.to_dict()["saved"] is None
    assert savings([], warm) is None
