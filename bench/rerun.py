"""A headline ratio to the best peer, and where a second bench run's lands: a bootstrap interval.

Each alternated round (bench/paired.py) times the faster peer and ours back to back. Noise on
this host only ever slows a sample, and it comes in stretches that hit some workloads more than
others (in one run, a stretch of rounds read our conv 1.3x slower and TF.js's 1.1x), so the
median of the rounds' ratios moved with how noisy the rounds were. A group of rounds' ratio is
therefore `quartile_ratio`: the peer's lower quartile of seconds over ours, each side's speed
when unhindered, taken over the same rounds so that slow drift still cancels. In quiet runs it
reads within 0-5 % of the median ratio.

A kernel's headline is the median of its replicates' quartile ratios; ResNet-18's is the
quartile ratio of all its rounds (three sessions of one model). A second run draws new groups
(new tunings, new sessions) and new rounds, so its headline differs from this one by the
difference of two such draws. Resampling the groups, then the rounds within each, gives pairs
of independent bootstrap headlines; the quantiles of their differences, added to this run's
headline, bound where a rerun's lands with the stated probability (`LEVEL`). With few groups
the bootstrap understates the spread (its variance is the plug-in one); the differences are
scaled by sqrt(k / (k - 1)) for k groups, as the unbiased variance estimate is. Simulated with 5
replicates of 30 rounds, the tunings 7 % apart and a third of all samples slowed by up to 40 %:
a rerun's headline landed inside 97 % of the time, and each of two runs inside the other's 93 %
(the median ratio under even noise: 96-97 % and 92-93 %; without the scaling 91-95 % and
87-89 %).

The replicates' range, the spread used before, is no such bound: two runs of one stable process,
3 replicates each, find each one's median inside the other's range for a kernel 40 % of the
time (simulated, any continuous distribution), for five kernels at once 1 %.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

LEVEL = 0.95
RESAMPLES = 2000
SEED = 0

# per group (a replicate, or a session of one model): its rounds' (faster peer's s, our s)
Groups = Sequence[Sequence[Sequence[float]]]
Headline = Callable[[Sequence[np.ndarray]], float]


def quartile_ratio(pairs: Sequence[Sequence[float]] | np.ndarray) -> float:
    """Rounds of (peer seconds, our seconds) → the peer's lower quartile over ours (> 1: we are
    faster)."""
    times = np.asarray(pairs, dtype=float).reshape(-1, 2)
    peer, ours = np.quantile(times, 0.25, axis=0)
    return float(peer / ours)


def median_of_groups(groups: Sequence[np.ndarray]) -> float:
    """A kernel's headline: the median of its replicates' quartile ratios (the lower one of an
    even count, as `figures.lower_median_index` picks the headline replicate)."""
    ratios = sorted(quartile_ratio(group) for group in groups)
    return ratios[(len(ratios) - 1) // 2]


def pooled(groups: Sequence[np.ndarray]) -> float:
    """ResNet-18's headline: the quartile ratio of every round, whichever session it came
    from."""
    return quartile_ratio(np.concatenate(groups))


def joint_level(figures: int, level: float = LEVEL) -> float:
    """The level at which each of `figures` intervals is taken so that a rerun lands inside all
    of them at once with probability `level` (Bonferroni)."""
    return 1.0 - (1.0 - level) / max(figures, 1)


def few_groups_scale(groups: int, tail: float) -> float:
    """How much wider than the bootstrap's the differences are taken with `groups` groups:
    sqrt(k / (k - 1)) for the plug-in variance, and Student's t quantile with k - 1 degrees of
    freedom over the normal one, as the spread itself is estimated from k groups."""
    if groups < 2:
        return 1.0
    from scipy import stats

    plug_in = math.sqrt(groups / (groups - 1))
    return plug_in * float(stats.t.ppf(1.0 - tail, groups - 1) / stats.norm.ppf(1.0 - tail))


def rerun_interval(
    groups: Groups,
    headline: Headline,
    level: float = LEVEL,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> tuple[float, float]:
    """The interval around `headline(groups)` that a rerun's headline falls into with
    probability `level` (deterministic for a given `seed`)."""
    arrays = [np.asarray(group, dtype=float).reshape(-1, 2) for group in groups if len(group)]
    if not arrays:
        raise ValueError("no rounds to resample")
    rng = np.random.default_rng(seed)

    def draw() -> float:
        chosen = rng.integers(len(arrays), size=len(arrays))
        return headline(
            [arrays[i][rng.integers(len(arrays[i]), size=len(arrays[i]))] for i in chosen]
        )

    tail = (1.0 - level) / 2.0
    differences = few_groups_scale(len(arrays), tail) * np.array(
        [draw() - draw() for _ in range(resamples)]
    )
    low, high = np.quantile(differences, [tail, 1.0 - tail])
    centre = headline(arrays)
    return round(max(centre + float(low), 0.0), 3), round(centre + float(high), 3)
