"""pytest_wasm_tune.stats: quantiles, IQR and the order-statistic confidence interval."""

import math
import random

import numpy as np
import pytest

from pytest_wasm_tune.stats import (
    Spread,
    iqr,
    median,
    median_ci,
    median_ci_ranks,
    quantile,
    quartiles,
)


def test_quantiles_match_numpys_default_definition() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 4, 7, 15, 16, 100):
        x = rng.lognormal(size=n).tolist()
        for q in (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0):
            assert quantile(x, q) == pytest.approx(float(np.percentile(x, q * 100)), rel=1e-12)
        assert median(x) == pytest.approx(float(np.median(x)), rel=1e-12)


def test_small_cases_by_hand() -> None:
    assert median([5.0]) == 5.0
    assert median([3.0, 1.0]) == 2.0
    assert quartiles([1.0, 2.0, 3.0, 4.0, 5.0]) == (2.0, 4.0)
    assert quartiles([4.0, 1.0, 3.0, 2.0]) == (1.75, 3.25)
    assert iqr([4.0, 1.0, 3.0, 2.0]) == 1.5
    assert iqr([7.0, 7.0, 7.0]) == 0.0


@pytest.mark.parametrize(
    ("n", "ranks"),
    # published tables of the sign-test interval (e.g. Conover, Practical Nonparametric Stats)
    [(6, (1, 6)), (10, (2, 9)), (15, (4, 12)), (20, (6, 15)), (30, (10, 21)), (100, (40, 61))],
)
def test_median_ci_ranks_match_tables(n: int, ranks: tuple[int, int]) -> None:
    low, high, coverage = median_ci_ranks(n)
    assert (low, high) == ranks
    exact = 1 - 2 * sum(math.comb(n, k) for k in range(low)) / 2**n
    assert coverage == pytest.approx(exact) and coverage >= 0.95
    # one rank narrower would no longer cover 95 %
    narrower = 1 - 2 * sum(math.comb(n, k) for k in range(low + 1)) / 2**n
    assert narrower < 0.95


def test_median_ci_below_six_samples_is_the_range_with_its_real_coverage() -> None:
    assert median_ci_ranks(5) == (1, 5, 0.9375)
    assert median_ci_ranks(2) == (1, 2, 0.5)
    assert median_ci_ranks(1)[:2] == (1, 1)
    assert median_ci([3.0, 1.0, 2.0]) == (1.0, 3.0)


def test_median_ci_covers_the_true_median_about_as_often_as_stated() -> None:
    rng = random.Random(11)
    n, trials, hits = 15, 4000, 0
    for _ in range(trials):
        x = [rng.expovariate(1.0) for _ in range(n)]
        low, high = median_ci(x)
        hits += low <= math.log(2) <= high
    assert abs(hits / trials - median_ci_ranks(n)[2]) < 0.015


def test_spread_of_samples() -> None:
    samples = [0.206, 0.282, 0.210, 0.215, 0.230, 0.208, 0.212]
    s = Spread.of(samples)
    assert (s.low, s.high, s.n) == (0.206, 0.282, 7)
    assert s.median == 0.212
    assert (s.q1, s.q3) == pytest.approx((0.209, 0.2225))
    assert s.iqr == pytest.approx(0.0135)
    assert s.ci95_low <= s.median <= s.ci95_high
    assert s.to_dict() == {
        "median": s.median,
        "q1": s.q1,
        "q3": s.q3,
        "low": 0.206,
        "high": 0.282,
        "n": 7,
        "ci95_low": s.ci95_low,
        "ci95_high": s.ci95_high,
    }
    ms = s.scaled(1e3)
    assert ms.n == 7 and ms.median == pytest.approx(212.0) and ms.high == pytest.approx(282.0)
    with pytest.raises(AttributeError):
        s.median = 1.0  # type: ignore[misc]


def test_rejects_empty_and_non_finite_samples() -> None:
    for bad in ([], [1.0, float("nan")], [float("inf")]):
        with pytest.raises(ValueError):
            Spread.of(bad)
    with pytest.raises(ValueError):
        quantile([1.0], 1.5)
    with pytest.raises(ValueError):
        Spread.of([1.0]).scaled(0)
