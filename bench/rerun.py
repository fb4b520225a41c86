"""A headline ratio to the best peer, and where a second bench run's lands: a bootstrap interval.

Each alternated round (bench/paired.py) times the faster peer and ours back to back. Noise on
this host only ever slows a sample, and it comes in stretches that hit some workloads more than
others (in one run, a stretch of rounds read our conv 1.3x slower and TF.js's 1.1x), so the
median of the rounds' ratios moved with how noisy the rounds were. A group of rounds' ratio is
therefore `quartile_ratio`: the peer's lower quartile of seconds over ours, each side's speed
when unhindered, taken over the same rounds so that slow drift still cancels. In quiet runs it
reads within 0-5 % of the median ratio.

A kernel's headline is the median of its replicates' quartile ratios; ResNet-18's is the
quartile ratio of all its rounds (five sessions of one model, each in a browser of its own). A
second run draws new groups (new tunings, new sessions) and new rounds, so its headline differs
from this one by the difference of two such draws. Resampling the groups, then the rounds within
each, gives pairs of independent bootstrap headlines; the quantiles of their differences, added
to this run's headline, bound where a rerun's lands with the stated probability (`LEVEL`). With
few groups the bootstrap understates the spread: its variance is the plug-in one, and the
spread itself is estimated from k groups. The differences are scaled by sqrt(k / (k - 1)) and
by Student's t quantile with k - 1 degrees of freedom over the normal one (1.58x for k = 5).

Simulated (5 kernels of 5 replicates × 30 rounds, the tunings 7 % apart, a third of all samples
slowed by up to 40 %, and ResNet-18 in 5 sessions of 6; 300 pairs of runs): a rerun's headline
landed inside 99 % of the time and each of two runs inside the other's 97 %, against 94 % and
90 % without the t factor. That host has no run-level moves; this one has (a conv's five
tunings all 4-6 % slower in one run than in the next, our ResNet-18 4 % slower in every session
of one browser process). Over the 36 figure pairs of four runs of one tuner (Z6-Z9,
2026-12-05), 31 agreed both ways with the t factor and 27 without it.

Each figure's interval is a 95 % one for that figure, so with six figures a stable process
disagrees somewhere often: in the simulation all six agreed both ways in 81 % of run pairs (53 %
without the t factor). Intervals taken at 1 - 0.05/6 each (Bonferroni, so that all six land
inside at once with 95 %) were tried and dropped: with 5 groups their tails rest on a handful of
resamples, and one noisy session of five stretched ResNet-18's to 0.81-1.77x.

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
