"""Warm start: seed a task's search with the best schedules another run or browser found.

The seeds are the fastest fully measured records of the same workload (by workload key, under
any task name) in the databases of another artifacts directory, every browser's. They are never
trusted: the search's first batch measures them here, through the same builder, runner and
callbacks as every candidate, so only this browser's times reach this database. From then on
MetaSchedule's evolutionary search finds them among the database's best records and breeds
its initial population from them.

    warm = WarmStart(Path("other-run/wasm-tune-artifacts"), count=8)
    seeds = warm.candidates(task.mod, db_dir, recorded, remaining)
    strategy = seeded_search(seeds, EvolutionarySearch())             # for ms.tune_tir
    summary = warm.summary(trial_log, task.flops)                     # for the report
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import warnings
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .artifacts.convergence import curve, savings
from .artifacts.database import (
    RECORDS_FILE,
    WORKLOAD_FILE,
    DatabaseWarning,
    repair,
    workload_key,
    workload_records,
)
from .artifacts.trial_journal import TrialEntry, TrialJournal
from .measure.builder import candidate_key
from .measure.outcome import Outcome

ERROR_RUN_SECS = 1e10  # MetaSchedule's run seconds of a failed candidate


@dataclass(frozen=True)
class Seed:
    """A record of another database: its schedule, what it measured there, where."""

    record: Any  # TuningRecord
    key: int
    source_median_s: float
    source: Path


def source_databases(warm_dir: Path, mod: Any, own_dir: Path) -> list[Path]:
    """Every database of the workload under `warm_dir` (an artifacts or databases directory),
    any task name and browser, except `own_dir`."""
    key = workload_key(mod)
    found = {
        directory.resolve()
        for root in (warm_dir / "databases", warm_dir)
        for directory in root.glob(f"*-{key}/*")
        if (directory / RECORDS_FILE).is_file()
    }
    found.discard(own_dir.resolve())
    return sorted(found)


_READ_CACHE_SIZE = 64
_read_cache: dict[tuple[Path, tuple[tuple[int, int], ...]], Any] = {}


def _read_copy(directory: Path) -> Any:
    """The directory's JSONDatabase from a repaired copy: no lock is taken, so reading a
    database another process is tuning into neither waits for it nor disturbs it. A database
    whose files have not changed since this process last read it is not read again (a task's
    siblings are finished tasks: make tune's 19 ResNet-18 tasks read each once, not 9 times)."""
    stamp = tuple(
        (stat.st_mtime_ns, stat.st_size)
        for stat in (os.stat(directory / name) for name in (WORKLOAD_FILE, RECORDS_FILE))
    )
    key = (directory.resolve(), stamp)
    if key not in _read_cache:
        if len(_read_cache) >= _READ_CACHE_SIZE:
            del _read_cache[next(iter(_read_cache))]
        _read_cache[key] = _read_uncached(directory)
    return _read_cache[key]


def _read_uncached(directory: Path) -> Any:
    from tvm.s_tir import meta_schedule as ms

    with tempfile.TemporaryDirectory(prefix="wasm-tune-warm-") as scratch:
        copy = Path(scratch)
        for name in (WORKLOAD_FILE, RECORDS_FILE):
            shutil.copyfile(directory / name, copy / name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DatabaseWarning)  # a torn tail of a live writer
            repair(copy)
        return ms.database.JSONDatabase(str(copy / WORKLOAD_FILE), str(copy / RECORDS_FILE))


def find_seeds(
    warm_dir: Path, mod: Any, own_dir: Path, exclude: Collection[int], count: int
) -> list[Seed]:
    """The `count` fastest fully measured schedules of `mod` in the other databases, one per
    candidate, leaving out those in `exclude` (already measured here)."""
    best: dict[int, Seed] = {}
    for directory in source_databases(warm_dir, mod, own_dir):
        taken: set[int] = set()  # a database's `count` fastest are all it can add to the top
        for seed in measured_records(directory, mod):
            if seed.key in exclude:
                continue
            if seed.key not in best or seed.source_median_s < best[seed.key].source_median_s:
                best[seed.key] = seed
            taken.add(seed.key)
            if len(taken) >= count:
                break
    return sorted(best.values(), key=lambda seed: seed.source_median_s)[:count]


def measured_records(directory: Path, mod: Any | None) -> Iterator[Seed]:
    """The fully measured records of `mod` (None: of every workload) in one database (read
    from a copy: no lock), fastest first, with their median there; failed and abandoned
    candidates are left out. A record's key (its trace applied, then hashed) is computed only
    when the caller gets that far."""
    outcomes = {e.key: e.outcome for e in TrialJournal(directory).read()}
    database = _read_copy(directory)
    records = database.get_all_tuning_records() if mod is None else workload_records(database, mod)
    timed = []
    for record in records:
        secs = [float(getattr(s, "value", s)) for s in record.run_secs or ()]
        if secs and secs != [ERROR_RUN_SECS]:
            timed.append((statistics.median(secs), record))
    timed.sort(key=lambda pair: pair[0])
    for median, record in timed:
        key = candidate_key(record.as_measure_candidate().sch.mod)
        if outcomes.get(key, Outcome.MEASURED) is Outcome.MEASURED:
            yield Seed(record, key, median, directory)


def seeded_search(seeds: Sequence[Any], inner: Any) -> Any:
    """The search strategy `inner` (an EvolutionarySearch) with the `seeds` (MeasureCandidates)
    as its first batch; they count against the trial budget like any candidate."""
    from tvm.ir.utils import derived_object
    from tvm.s_tir.meta_schedule.search_strategy import PySearchStrategy

    @derived_object
    class SeededSearch(PySearchStrategy):
        def __init__(self, seeds: Sequence[Any], inner: Any) -> None:
            self.seeds = list(seeds)
            self.inner = inner
            self.first: list[Any] | None = None
            self.measuring_seeds = False

        def _initialize_with_tune_context(self, context: Any) -> None:
            self.inner._initialize_with_tune_context(context)

        def pre_tuning(
            self, max_trials, num_trials_per_iter, design_spaces, database=None, cost_model=None
        ) -> None:
            self.first = self.seeds[: min(num_trials_per_iter, max_trials)]
            self.inner.pre_tuning(
                max_trials - len(self.first),
                num_trials_per_iter,
                design_spaces,
                database,
                cost_model,
            )

        def post_tuning(self) -> None:
            self.inner.post_tuning()

        def generate_measure_candidates(self) -> Any:
            if self.first:
                batch, self.first = self.first, None
                self.measuring_seeds = True
                return batch
            return self.inner.generate_measure_candidates()

        def notify_runner_results(self, measure_candidates, results) -> None:
            if self.measuring_seeds:  # the inner search never proposed these
                self.measuring_seeds = False
                return
            self.inner.notify_runner_results(measure_candidates, results)

        def clone(self) -> Any:
            return SeededSearch(self.seeds, self.inner.clone())

    return SeededSearch(seeds, inner)


def _curve_fields(entry: TrialEntry) -> dict[str, Any]:
    return {
        "outcome": entry.outcome.value,
        "times_s": list(entry.times_s),
        "wall_time": entry.wall_time,
    }


@dataclass
class WarmStart:
    """Seeds for one task's search, and what they were worth."""

    directory: Path
    count: int
    planted: list[Seed] = field(default_factory=list)

    def candidates(
        self, mod: Any, own_dir: Path, recorded: Collection[int], remaining: int
    ) -> list[Any]:
        """The seeds (MeasureCandidates) for the next search's first batch, until `count` are
        planted (`seeded_search`)."""
        left = min(self.count - len(self.planted), remaining)
        seeds = find_seeds(self.directory, mod, own_dir, recorded, left) if left > 0 else []
        self.planted.extend(seeds)
        return [seed.record.as_measure_candidate() for seed in seeds]

    def summary(self, trial_log: Sequence[TrialEntry], flops: float) -> dict[str, Any]:
        """The seeds, and the trials this run took to reach 90 % of the best of the seeds'
        source run (the cold run) against the trials the cold run took."""
        sources = sorted({str(seed.source) for seed in self.planted})
        result: dict[str, Any] = {
            "dir": str(self.directory),
            "seeds": len(self.planted),
            "sources": sources,
            "cold": None,
            "savings": None,
        }
        if not self.planted:
            return result
        cold_dir = self.planted[0].source  # where the fastest seed came from
        cold_log = [_curve_fields(entry) for entry in TrialJournal(cold_dir).read()]
        warm_log = [_curve_fields(entry) for entry in trial_log]
        saved = savings(curve(cold_log, flops), curve(warm_log, flops))
        result["cold"] = {"dir": str(cold_dir), "trial_log": cold_log}
        result["savings"] = saved.to_dict() if saved is not None else None
        return result
