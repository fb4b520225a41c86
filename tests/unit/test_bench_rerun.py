"""bench/rerun.py: where a second run's headline ratio lands."""

import numpy as np
import pytest

from .bench_modules import load_bench_module

rerun = load_bench_module("rerun")


def test_headlines_are_the_median_replicate_and_the_median_of_all_rounds() -> None:
    groups = [np.array([1.0, 1.1, 1.2]), np.array([2.0, 2.0]), np.array([0.5, 3.0, 3.0, 3.0])]
    assert rerun.median_of_group_medians(groups) == 2.0
    assert rerun.median_of_group_medians(groups[:2]) == 1.1  # the lower of an even count
    assert rerun.pooled_median(groups) == 2.0


def test_identical_groups_give_an_interval_of_their_rounds_noise_only() -> None:
    rng = np.random.default_rng(1)
    rounds = list(1.25 + 0.01 * rng.standard_normal(30))
    low, high = rerun.rerun_interval([rounds] * 5, rerun.median_of_group_medians)
    assert low < 1.25 < high
    assert high - low < 0.03


def test_replicates_that_differ_widen_the_interval_around_the_headline() -> None:
    rng = np.random.default_rng(2)
    outcomes = [1.05, 1.15, 1.20, 1.25, 1.40]  # what five tunings found
    groups = [list(o + 0.01 * rng.standard_normal(30)) for o in outcomes]
    low, high = rerun.rerun_interval(groups, rerun.median_of_group_medians)
    headline = rerun.median_of_group_medians([np.array(g) for g in groups])
    assert low < headline < high
    assert high - low > 0.1
    assert low > 0.8 and high < 1.6  # within the replicates' own range, give or take


def test_the_interval_is_reproducible_and_needs_rounds() -> None:
    groups = [[1.0, 1.2, 1.1], [1.3, 1.25, 1.4]]
    assert rerun.rerun_interval(groups, rerun.pooled_median) == rerun.rerun_interval(
        groups, rerun.pooled_median
    )
    with pytest.raises(ValueError, match="no rounds"):
        rerun.rerun_interval([[]], rerun.pooled_median)


def test_a_stable_process_lands_in_its_interval_most_of_the_time() -> None:
    # two runs of one process, 5 replicates of 30 rounds each: each run's headline should lie
    # in the other's interval in about 95 % of pairs, one way
    rng = np.random.default_rng(3)

    def run() -> list[list[float]]:
        return [list(rng.normal(1.2, 0.08) + 0.03 * rng.standard_normal(30)) for _ in range(5)]

    hits = 0
    pairs = 60
    for _ in range(pairs):
        first, second = run(), run()
        low, high = rerun.rerun_interval(first, rerun.median_of_group_medians, resamples=400)
        hits += low <= rerun.median_of_group_medians([np.array(g) for g in second]) <= high
    assert hits >= 0.85 * pairs
