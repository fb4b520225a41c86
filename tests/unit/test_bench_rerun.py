"""bench/rerun.py: the quartile ratio, and where a second run's headline ratio lands."""

import numpy as np
import pytest

from .bench_modules import load_bench_module

rerun = load_bench_module("rerun")


def _rounds(peer: float, ours: float, n: int, noise: float, rng) -> list[list[float]]:
    """`n` rounds of (peer s, our s), each side slowed at random by up to `noise`."""
    return [
        [peer * (1 + noise * rng.random()), ours * (1 + noise * rng.random())] for _ in range(n)
    ]


def test_the_quartile_ratio_ignores_samples_that_noise_slowed() -> None:
    pairs = [[0.012, 0.010]] * 6 + [[0.012, 0.020]] * 2  # two of our samples hit by noise
    assert rerun.quartile_ratio(pairs) == pytest.approx(1.2)
    ratios_median = np.median([peer / ours for peer, ours in pairs])
    assert ratios_median == pytest.approx(1.2)  # the median too, with a quarter hit
    noisy = [[0.012, 0.010]] * 4 + [[0.012, 0.020]] * 4  # half hit: the median moves
    assert np.median([peer / ours for peer, ours in noisy]) < 1.0
    assert rerun.quartile_ratio(noisy) == pytest.approx(1.2)


def test_headlines_are_the_median_replicate_and_the_ratio_of_all_rounds() -> None:
    groups = [np.array([[1.0, 1.0]] * 3), np.array([[2.0, 1.0]] * 2), np.array([[3.0, 1.0]] * 4)]
    assert rerun.median_of_groups(groups) == 2.0
    assert rerun.median_of_groups(groups[:2]) == 1.0  # the lower of an even count
    assert rerun.pooled(groups) == 1.0  # the lower quartile of the peer's 1, 1, 1, 2, 2, 3, ...


def test_identical_groups_give_an_interval_of_their_rounds_noise_only() -> None:
    rng = np.random.default_rng(1)
    rounds = _rounds(0.0125, 0.010, 30, 0.05, rng)
    low, high = rerun.rerun_interval([rounds] * 5, rerun.median_of_groups)
    headline = rerun.quartile_ratio(rounds)
    assert low < headline < high
    assert high - low < 0.05


def test_replicates_that_differ_widen_the_interval_around_the_headline() -> None:
    rng = np.random.default_rng(2)
    outcomes = [1.05, 1.15, 1.20, 1.25, 1.40]  # what five tunings found
    groups = [_rounds(0.012, 0.012 / o, 30, 0.05, rng) for o in outcomes]
    low, high = rerun.rerun_interval(groups, rerun.median_of_groups)
    headline = rerun.median_of_groups([np.array(g) for g in groups])
    assert low < headline < high
    assert high - low > 0.1
    assert low > 0.8 and high < 1.6


def test_few_groups_widen_the_interval_as_students_t_does() -> None:
    tail = 0.025
    # 5 groups: sqrt(5/4) for the plug-in variance times t(4) 2.776 over z 1.960
    assert rerun.few_groups_scale(5, tail) == pytest.approx(1.118 * 2.776 / 1.960, rel=1e-3)
    assert rerun.few_groups_scale(30, tail) == pytest.approx(1.06, abs=0.01)
    assert rerun.few_groups_scale(1, tail) == 1.0


def test_the_interval_is_reproducible_and_needs_rounds() -> None:
    groups = [[[1.0, 1.0], [1.2, 1.0], [1.1, 1.0]], [[1.3, 1.0], [1.25, 1.0], [1.4, 1.0]]]
    assert rerun.rerun_interval(groups, rerun.pooled) == rerun.rerun_interval(groups, rerun.pooled)
    with pytest.raises(ValueError, match="no rounds"):
        rerun.rerun_interval([[]], rerun.pooled)


def test_a_stable_process_lands_in_its_interval_most_of_the_time() -> None:
    # two runs of one process, 5 replicates of 30 rounds each: each run's headline should lie
    # in the other's interval in about 95 % of pairs, one way
    rng = np.random.default_rng(3)

    def run() -> list[list[list[float]]]:
        return [_rounds(0.012, 0.010 / rng.normal(1.0, 0.07), 30, 0.1, rng) for _ in range(5)]

    hits = 0
    pairs = 40
    for _ in range(pairs):
        first, second = run(), run()
        low, high = rerun.rerun_interval(first, rerun.median_of_groups, resamples=200)
        hits += low <= rerun.median_of_groups([np.array(g) for g in second]) <= high
    assert hits >= 0.85 * pairs
