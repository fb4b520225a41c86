"""Sibling seeding: start a task's search from the winning schedules of its sibling tasks.

A sibling is another workload tuned into the same databases directory, for the same browser
and target (the same conv at another shape, or with another epilogue). Its fastest records'
traces are replayed on this task's module with every tile split refitted to this task's loop
extents (`fit_tile`); then this task's postprocessors run, as on any candidate MetaSchedule
proposes. Traces that do not replay (another operator, other block names) are skipped. The
seeds that do are measured in the search's first batch like any candidate, so nothing is
trusted from the sibling but a starting point.

    seeds = sibling_seeds(task.mod, target, own_db_dir, count=8)
    strategy = seeded_search([seed.candidate for seed in seeds], EvolutionarySearch())
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice, zip_longest
from pathlib import Path
from typing import Any

from .artifacts.database import RECORDS_FILE, workload_key
from .measure.builder import candidate_key
from .warm_start import measured_records

PER_SIBLING = 4  # distinct seeds of a sibling's fastest records, before the next sibling's
# records read per sibling to find them: a search's fastest records are often close mutants,
# and records that differ only where the task's shape differs replay to one schedule
SCANNED_PER_SIBLING = 16


@dataclass(frozen=True)
class SiblingSeed:
    """A sibling's record replayed on this task's module."""

    candidate: Any  # MeasureCandidate
    key: int  # candidate_key of the replayed module
    source: Path  # the sibling's database directory
    rank: int  # 0: the sibling's fastest record
    source_median_s: float
    distance: float  # how far the loop extents moved (`replay`): 0 for the same shape


def fit_tile(factors: Sequence[int], extent: int) -> list[int]:
    """A tile split of `extent` shaped like `factors` (a split of another extent): inner factors
    are kept where they divide what is left (else their largest common divisor with it), the
    outermost takes the rest. fit_tile([2, 1, 16, 8], 512) == [4, 1, 16, 8]."""
    if not factors:
        raise ValueError("a tile split has at least one factor")
    inner: list[int] = []
    left = extent
    for factor in reversed(factors[1:]):
        kept = math.gcd(int(factor), left)
        inner.append(kept)
        left //= kept
    return [left, *reversed(inner)]


def replay(trace: Any, mod: Any, postprocs: Sequence[Any]) -> tuple[Any, float] | None:
    """`trace` (without its postprocessing) replayed on `mod` with its tile splits refitted,
    then `postprocs` applied, and the distance between the two workloads: the sum over the
    tiled loops of |log2(this extent / the sibling's)|. None where the trace does not fit
    `mod`, tiles no loop (nothing of it to transfer) or a postprocessor rejects the result."""
    from tvm.s_tir.schedule import Schedule

    sch = Schedule(mod)
    distance, tiles = 0.0, 0

    def refit(inst: Any, inputs: list[Any], attrs: list[Any], decision: Any) -> Any:
        nonlocal distance, tiles
        if inst.kind.name == "SamplePerfectTile":
            tiles += 1
            factors = [int(d) for d in decision]
            extent = int(sch.get(inputs[0]).extent)
            distance += abs(math.log2(extent / math.prod(factors)))
            return fit_tile(factors, extent)
        return decision

    try:
        trace.apply_to_schedule(sch, remove_postproc=True, decision_provider=refit)
    except Exception:
        return None
    if not tiles:
        return None
    sch.enter_postproc()
    for postproc in postprocs:
        if not postproc.apply(sch):
            return None
    return sch, distance


def _sibling_databases(mod: Any, own_dir: Path) -> list[Path]:
    """The databases beside `own_dir` (`<databases>/<task>-<key>/<browser>`) of other
    workloads, for the same browser and target (same directory name)."""
    own_key = workload_key(mod)
    return sorted(
        directory
        for directory in own_dir.parent.parent.glob(f"*/{own_dir.name}")
        if (directory / RECORDS_FILE).is_file()
        and not directory.parent.name.endswith(f"-{own_key}")
    )


def _postprocs(mod: Any, target: Any) -> list[Any]:
    """The postprocessors MetaSchedule applies to this task's candidates."""
    from tvm.s_tir import meta_schedule as ms

    context = ms.TuneContext(
        mod=mod, target=target, space_generator="post-order-apply", task_name="siblings"
    )
    return list(context.space_generator.postprocs)


def _interleaved(per_source: list[list[SiblingSeed]]) -> Iterator[SiblingSeed]:
    """Every sibling's fastest first, then every sibling's second fastest, ...; within a rank
    the nearest sibling (by its fastest record's distance) first."""
    per_source = sorted((seeds for seeds in per_source if seeds), key=lambda s: s[0].distance)
    for rank in zip_longest(*per_source):
        yield from (seed for seed in rank if seed is not None)


def sibling_seeds(
    mod: Any,
    target: Any,
    own_dir: Path,
    count: int,
    exclude: frozenset[int] = frozenset(),
) -> list[SiblingSeed]:
    """Up to `count` distinct schedules of `mod` replayed from its siblings' fastest records
    (`PER_SIBLING` of each), leaving out the candidates in `exclude`."""
    from tvm.s_tir.meta_schedule import MeasureCandidate
    from tvm.s_tir.meta_schedule.arg_info import ArgInfo

    if count <= 0:
        return []
    postprocs = _postprocs(mod, target)
    per_source: list[list[SiblingSeed]] = []
    for directory in _sibling_databases(mod, own_dir):
        seeds: list[SiblingSeed] = []
        fastest = islice(measured_records(directory, None), SCANNED_PER_SIBLING)
        for rank, found in enumerate(fastest):
            replayed = replay(found.record.trace, mod, postprocs)
            if replayed is None:
                continue  # does not fit this task (another operator, a rejected split)
            sch, distance = replayed
            key = candidate_key(sch.mod)
            if any(seed.key == key for seed in seeds):
                continue  # replayed to a schedule already taken from a faster record
            candidate = MeasureCandidate(sch, ArgInfo.from_entry_func(sch.mod, True))
            median = found.source_median_s
            seeds.append(SiblingSeed(candidate, key, directory, rank, median, distance))
            if len(seeds) == PER_SIBLING:
                break
        per_source.append(seeds)
    chosen: dict[int, SiblingSeed] = {}
    for seed in _interleaved(per_source):
        if seed.key not in exclude and seed.key not in chosen:
            chosen[seed.key] = seed
        if len(chosen) == count:
            break
    return list(chosen.values())
