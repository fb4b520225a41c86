"""Distribution-free summaries of repeated timings: median, quartiles, range and a confidence
interval of the median from order statistics. Pure functions on sequences of floats.

    spread = Spread.of(times_ms)
    print(f"{spread.median:.1f} ms (IQR {spread.q1:.1f}-{spread.q3:.1f}, n={spread.n})")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction


def _checked_sorted(samples: Sequence[float]) -> list[float]:
    values = sorted(float(x) for x in samples)
    if not values:
        raise ValueError("no samples")
    if not all(math.isfinite(x) for x in values):
        raise ValueError(f"samples must be finite numbers, got {list(samples)!r}")
    return values


def quantile(samples: Sequence[float], q: float) -> float:
    """The `q` quantile (0 <= q <= 1), interpolated linearly between order statistics: the
    definition of numpy's default `percentile` (Hyndman & Fan type 7)."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile must be in [0, 1], got {q}")
    values = _checked_sorted(samples)
    position = q * (len(values) - 1)
    below = math.floor(position)
    above = min(below + 1, len(values) - 1)
    fraction = position - below
    return values[below] + (values[above] - values[below]) * fraction


def median(samples: Sequence[float]) -> float:
    return quantile(samples, 0.5)


def quartiles(samples: Sequence[float]) -> tuple[float, float]:
    """(25 %, 75 %) quantiles."""
    return quantile(samples, 0.25), quantile(samples, 0.75)


def iqr(samples: Sequence[float]) -> float:
    """Interquartile range: 75 % minus 25 % quantile."""
    q1, q3 = quartiles(samples)
    return q3 - q1


def median_ci_ranks(n: int, confidence: float = 0.95) -> tuple[int, int, float]:
    """1-based ranks (l, u) of the order statistics bounding the median with at least
    `confidence`, and the exact coverage: P(x(l) <= median < x(u)) = 1 - 2 P(B <= l - 1) for
    B ~ Binomial(n, 1/2), any continuous distribution. The narrowest such symmetric interval.
    When even (1, n) does not reach `confidence` (n < 6 for 95 %), returns (1, n) and its
    lower coverage."""
    if n < 1:
        raise ValueError("no samples")
    tail_limit = (1 - Fraction(confidence).limit_denominator(10**6)) / 2 * 2**n
    rank, tail = 0, 0  # tail = sum of C(n, k) for k < rank, i.e. 2^n P(B <= rank - 1)
    while rank + 1 <= (n + 1) // 2 and tail + math.comb(n, rank) <= tail_limit:
        tail += math.comb(n, rank)
        rank += 1
    if rank == 0:
        rank, tail = 1, 1
    coverage = 1.0 - 2.0 * float(Fraction(tail, 2**n))
    low_rank = rank
    return low_rank, n + 1 - low_rank, coverage


def median_ci(samples: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval of the median (see `median_ci_ranks`)."""
    values = _checked_sorted(samples)
    low_rank, high_rank, _ = median_ci_ranks(len(values), confidence)
    return values[low_rank - 1], values[high_rank - 1]


@dataclass(frozen=True)
class Spread:
    """Summary of n samples: median, quartiles q1/q3 (type 7), low/high (min/max) and the 95 %
    confidence interval of the median from order statistics (for n < 6 it is min..max, whose
    coverage is below 95 %: 94 % at n = 5, 50 % at n = 2)."""

    median: float
    q1: float
    q3: float
    low: float
    high: float
    n: int
    ci95_low: float
    ci95_high: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> Spread:
        values = _checked_sorted(samples)
        q1, q3 = quartiles(values)
        ci_low, ci_high = median_ci(values)
        return cls(median(values), q1, q3, values[0], values[-1], len(values), ci_low, ci_high)

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    def scaled(self, factor: float) -> Spread:
        """The same summary in other units (e.g. `factor=1e3` for seconds to milliseconds)."""
        if not factor > 0:
            raise ValueError(f"factor must be positive, got {factor}")
        values = {k: v * factor for k, v in asdict(self).items() if k != "n"}
        return Spread(n=self.n, **values)

    def to_dict(self) -> dict[str, float | int]:
        """All fields, unrounded."""
        return asdict(self)
