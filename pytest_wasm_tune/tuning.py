"""Tune one task on one browser with MetaSchedule (XGBoost cost model); never imports pytest.

result = tune(TuneTask.from_prim_func(func, "matmul256"), stack.workbench, work_dir)

The figures a result reports come from a final re-measurement, not from the search: at the end
of every run (also a resumed one) the default schedule, the best candidate and its runners-up
are timed in one fresh session, interleaved over several rounds, and verified; `best_s` and
`default_s` are the medians of those rounds and `*_spread` their spread. Search-time times stay
in the trial journal (`trials.jsonl` beside the database). When the default beats every verified
tuned schedule, it is kept (`default_kept`, and the `best_*` figures are the default's). The
fastest verified schedule is written to `final_choice.json` beside the database, for the model
compile to apply (artifacts/final_choice.py).
"""

from __future__ import annotations

import logging
import math
import os
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import defaults
from .artifacts.database import (
    RECORDS_FILE,
    WORKLOAD_FILE,
    database_dir,
    database_for_tuning,
    workload_key,
    workload_records,
)
from .artifacts.final_choice import DEFAULT, FinalChoice, write_choice
from .artifacts.trial_journal import TrialEntry, TrialJournal
from .cross_engine import ForeignBest, foreign_bests
from .kernels import wasm_target
from .measure.artifact import decode
from .measure.builder import WasmBatchBuilder, candidate_key
from .measure.cpus import CpuPlan
from .measure.outcome import Outcome, classify
from .measure.phases import PhaseTimes
from .measure.runner import BrowserRunner, Device, MeasureConfig
from .measure.staging import StagingDirectory
from .measure.verify import HostReference
from .search import (
    cost_model,
    design_space,
    evolutionary_search,
    tail_batch_floor,
    without_tail_batches,
)
from .siblings import SiblingSeed, sibling_seeds
from .stats import Spread
from .toolchain.link import KernelLinker
from .tvm_import import import_tensor_intrinsics
from .warm_start import WarmStart, seeded_search

ERROR_RUN_SECS = 1e10  # what MetaSchedule records for failed candidates


@dataclass(frozen=True)
class TuneTask:
    """One tuning task: a single PrimFunc named `main` in an IRModule, with a readable name."""

    name: str
    mod: Any
    flops: float

    @classmethod
    def from_prim_func(cls, func_or_mod: Any, name: str) -> TuneTask:
        import tvm
        from tvm.s_tir.analysis import estimate_tir_flops

        mod = (
            func_or_mod
            if isinstance(func_or_mod, tvm.IRModule)
            else tvm.IRModule({"main": func_or_mod})
        )
        if len(mod.functions_items()) != 1:
            raise ValueError(
                f"task {name!r} must hold exactly one PrimFunc, got {len(mod.functions_items())}"
            )
        ((gvar, func),) = mod.functions_items()
        if gvar.name_hint != "main":
            mod = tvm.IRModule({"main": func.with_attr("global_symbol", "main")})
        return cls(name, mod, float(estimate_tir_flops(mod)))

    def arg_specs(self) -> list[tuple[tuple[int, ...], str]]:
        """(shape, dtype) of every tensor argument, in order."""
        from tvm.s_tir.meta_schedule.arg_info import ArgInfo

        return [
            (tuple(int(d) for d in info.shape), str(info.dtype))
            for info in ArgInfo.from_prim_func(self.mod["main"])
        ]

    def gflops(self, seconds: float | None) -> float | None:
        return None if not seconds else self.flops / seconds / 1e9

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", self.name).strip("_") or "task"


@dataclass(frozen=True)
class ProgressEvent:
    task: str
    trials_done: int
    trials_total: int
    current_gflops: float | None
    best_gflops: float | None
    elapsed_s: float


@dataclass(frozen=True)
class TuneOptions:
    trials: int = 64
    trials_per_iter: int = 64
    measure: MeasureConfig = field(default_factory=MeasureConfig)
    keep_staged: bool = False
    fresh: bool = False
    seed: int | None = None
    build_workers: int | None = None  # None: every CPU (elastic_builds off: the work CPUs)
    build_timeout_s: float = defaults.BUILD_TIMEOUT_S  # a slower compile is a failed candidate
    # time each chunk of a batch while the next ones compile, where the CPU plan gives the
    # browser CPUs of its own (measure/cpus.py). The compile workers use those CPUs too while
    # the browser idles and leave them whenever it times (elastic_builds,
    # measure/compile_affinity.py): the convs' overhead per trial 0.20-0.26 -> 0.13-0.15 s
    # (README: levers of 2026-12-04 evening). Without it builds use every CPU and nothing is
    # timed meanwhile.
    pipeline: bool = True
    # off: the workers stay on the work CPUs throughout (one CPU on a 2-core host)
    elastic_builds: bool = True
    # pipelined: candidates per module (the first one is half as large); each is a session
    chunk_size: int = defaults.PIPELINE_CHUNK_SIZE
    # the search never overlaps timed repeats (MetaSchedule waits for a batch's results)
    search_threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    # the evolutionary search's population and mutation rounds per batch: its cost per batch
    # grows with both, and on the convs it is the largest part of the overhead per trial
    search_population: int = defaults.SEARCH_POPULATION
    genetic_iters: int = defaults.GENETIC_ITERS
    # results the cost model trains on before its scores replace random ones (search.py)
    cost_model_warmup: int = defaults.COST_MODEL_WARMUP
    # until then, candidates are scored by their measured neighbours, weighted by
    # exp(-distance / tau) (neighbour_scores.py); 0: random scores, as MetaSchedule
    neighbour_tau: float = defaults.NEIGHBOUR_TAU
    # the largest explicit unroll step the design space samples (search.design_space)
    max_unroll_step: int = defaults.MAX_UNROLL_STEP
    # tilings whose vectorized tile is made of whole vectors this wide (search.design_space)
    vector_bits: int = defaults.VECTOR_BITS
    # a conv's innermost reduction tile loops over taps, not input channels (search.design_space)
    taps_innermost: bool = defaults.TAPS_INNERMOST
    final_rounds: int = defaults.FINAL_ROUNDS
    finalists: int = defaults.FINALISTS  # best candidates re-measured beside the default
    warm_start_dir: Path | None = None  # seed the search from this artifacts dir (warm_start.py)
    warm_start_seeds: int = defaults.WARM_START_SEEDS
    # re-measure the other browsers' best schedules of the task beside this one's (cross_engine)
    cross_engine: bool = True
    # a task's first search starts from this many schedules of its siblings (siblings.py)
    sibling_seeds: int = defaults.SIBLING_SEEDS


@dataclass(frozen=True)
class FinalFigure:
    """One schedule timed in the final re-measurement."""

    label: str  # "default", "best", "runner-up 1", ...
    spread: Spread | None  # per-call seconds over the rounds; None if it failed
    verified: bool
    search_median_s: float | None = None  # what the search recorded (None for the default)
    error: str | None = None
    trace: str | None = None
    times_s: tuple[float, ...] = ()  # per-call seconds of each round, in order

    @property
    def median_s(self) -> float | None:
        return self.spread.median if self.spread is not None else None


@dataclass(frozen=True)
class SearchBatch:
    """One MetaSchedule search batch, as the tuner's main thread saw it: `wall_s` adds up as
    generate (search + cost model) + builder (compile, link, stage; with pipelining the browser
    times earlier chunks meanwhile) + join (waiting for the browser's results). `browser_s` is
    the time the browser was busy with the batch (sessions, warm-up, timing, verification);
    of that, the kernels spent `kernel_s` in timed calls, `warmup_s` in the page's warm-up and
    `untimed_s` in calibration batches and dropped repeats."""

    trials: int
    wall_s: float
    generate_s: float
    builder_s: float
    join_s: float
    kernel_s: float
    best_s: float | None  # best search-time median so far (progress, not a final figure)
    browser_s: float = 0.0
    warmup_s: float = 0.0
    untimed_s: float = 0.0

    @property
    def overhead_parts_s(self) -> dict[str, float]:
        """The batch's time outside timed calls, in parts that add up to it: `generate`,
        `compile_wait` (neither searching nor in the browser: compiles not hidden behind
        timing), the page's `warmup` and `calibration` calls, and `browser_rest` (sessions,
        tier-up compiles, RPC round trips, verification)."""
        browser = min(self.browser_s, self.wall_s - self.generate_s)
        return {
            "generate": self.generate_s,
            "compile_wait": self.wall_s - self.generate_s - browser,
            "warmup": self.warmup_s,
            "calibration": self.untimed_s,
            "browser_rest": browser - self.kernel_s - self.warmup_s - self.untimed_s,
        }


@dataclass(frozen=True)
class TuneResult:
    task: str
    browser: str
    flops: float
    best_s: float | None  # final re-measurement: median over rounds
    default_s: float | None
    trials: int  # candidates tried in this run (all outcomes)
    measured: int  # of which timed in the browser
    errors: int
    error_messages: tuple[str, ...]
    correct: bool
    default_correct: bool
    default_error: str | None
    database_dir: Path
    best_trace: str | None  # the tuned schedule chosen; None when the default is kept
    phases_s: dict[str, float]
    wall_s: float
    trial_log: tuple[TrialEntry, ...] = ()
    best_spread: Spread | None = None
    default_spread: Spread | None = None
    finalists: tuple[FinalFigure, ...] = ()
    search_best_s: float | None = None  # best search-time median (for the log, not a figure)
    outcomes: dict[str, int] = field(default_factory=dict)  # this run's trials per outcome
    search_phases_s: dict[str, float] = field(default_factory=dict)  # phases of the search only
    batches: tuple[SearchBatch, ...] = ()
    warm_start: dict[str, Any] | None = None  # seeds and trials saved (WarmStart.summary)
    siblings: dict[str, Any] | None = None  # sibling seeds planted (siblings_summary)
    cross_engine: tuple[FinalFigure, ...] = ()  # other browsers' bests timed in this one
    # the default beat every verified tuned finalist: `best_*` are the default's, speedup 1
    default_kept: bool = False

    @property
    def best_gflops(self) -> float | None:
        return self.flops / self.best_s / 1e9 if self.best_s else None

    @property
    def default_gflops(self) -> float | None:
        return self.flops / self.default_s / 1e9 if self.default_s else None

    @property
    def speedup(self) -> float | None:
        return self.default_s / self.best_s if self.best_s and self.default_s else None


def database_paths(work_dir: Path, task: TuneTask, name: str) -> tuple[Path, Path, Path]:
    """Directory, workload file and records file of a task's database `name` (see Workbench):
    `<work_dir>/<task slug>-<workload key>/<name>/` (artifacts/database.py)."""
    directory = database_dir(work_dir, task.slug, task.mod, name)
    return directory, directory / WORKLOAD_FILE, directory / RECORDS_FILE


def _run_secs(record: Any) -> list[float]:
    return [float(getattr(s, "value", s)) for s in record.run_secs or ()]


def siblings_summary(
    planted: list[SiblingSeed], entries: Sequence[TrialEntry], flops: float
) -> dict[str, Any]:
    """The sibling seeds planted, where from, and the fastest of them as the search timed it."""
    keys = {seed.key for seed in planted}
    medians = [
        statistics.median(entry.times_s)
        for entry in entries
        if entry.key in keys and entry.outcome is Outcome.MEASURED and entry.times_s
    ]
    return {
        "seeds": len(planted),
        "sources": sorted({seed.source.parent.name for seed in planted}),
        "measured": len(medians),
        "best_seed_search_gflops": round(flops / min(medians) / 1e9, 2) if medians else None,
    }


def _quiet_meta_schedule_logging() -> None:
    """MetaSchedule logs to files in the work dir; keep its console to warnings (we report
    progress ourselves) and drop unnamed handlers that its dictConfig cannot re-reference."""
    logger = logging.getLogger("tvm.s_tir.meta_schedule")
    for handler in list(logger.handlers):
        if handler.get_name() is None:
            logger.removeHandler(handler)
    logger.setLevel(logging.WARNING)


def _full_measurements(
    recorded: dict[int, list[float]], outcomes: dict[int, Outcome]
) -> dict[int, float]:
    """Median seconds of every recorded candidate that was fully measured (not failed, not
    abandoned after its warm-up call)."""
    return {
        key: statistics.median(secs)
        for key, secs in recorded.items()
        if secs != [ERROR_RUN_SECS] and outcomes.get(key, Outcome.MEASURED) is Outcome.MEASURED
    }


def recorded_measurements(database: Any, mod: Any) -> dict[int, list[float]]:
    """Structural hash of every candidate of workload `mod` in the database → its run seconds."""
    recorded: dict[int, list[float]] = {}
    for record in workload_records(database, mod):
        if record.run_secs is None:
            continue
        recorded[candidate_key(record.as_measure_candidate().sch.mod)] = _run_secs(record)
    return recorded


@dataclass
class _SearchState:
    """What the measure callback keeps across batches."""

    recorded: dict[int, list[float]]
    outcomes: dict[int, Outcome]
    journal: TrialJournal
    browser: str
    browser_version: str
    host: str
    entries: list[TrialEntry] = field(default_factory=list)  # this run's trials
    best_s: float | None = None
    batches: list[SearchBatch] = field(default_factory=list)
    batch_started: float = 0.0
    phases_at_batch_start: dict[str, float] = field(default_factory=dict)

    def start_batch(self, phases: PhaseTimes) -> None:
        self.batch_started = time.perf_counter()
        self.phases_at_batch_start = phases.snapshot()

    def end_batch(self, phases: PhaseTimes, trials: int, entries: list[TrialEntry]) -> None:
        measured = [entry for entry in entries if not entry.outcome.failed]
        kernel_s = sum(entry.timed_s for entry in measured)
        warmup_s = sum(entry.warmup_s for entry in measured)
        untimed_s = sum(entry.untimed_ms for entry in measured) / 1000
        now = phases.snapshot()
        spent = {k: now.get(k, 0.0) - self.phases_at_batch_start.get(k, 0.0) for k in now}
        wall = time.perf_counter() - self.batch_started
        builder, join = spent.get("builder", 0.0), spent.get("join", 0.0)
        generate = wall - builder - join
        browser = spent.get("browser", 0.0)
        self.batches.append(
            SearchBatch(
                trials,
                wall,
                generate,
                builder,
                join,
                kernel_s,
                self.best_s,
                browser,
                warmup_s,
                untimed_s,
            )
        )
        self.start_batch(phases)


def _make_callbacks(
    task: TuneTask,
    options: TuneOptions,
    state: _SearchState,
    runner: BrowserRunner,
    progress: Callable[[ProgressEvent], None] | None,
    started: float,
) -> list:
    from tvm.ir.utils import derived_object
    from tvm.s_tir.meta_schedule.database import TuningRecord
    from tvm.s_tir.meta_schedule.measure_callback import PyMeasureCallback, UpdateCostModel

    @derived_object
    class RecordAndReport(PyMeasureCallback):
        """Commit every candidate (with its outcome) as it arrives; report progress."""

        def apply(
            self, task_scheduler, task_id, measure_candidates, builder_results, runner_results
        ) -> None:
            # from run() returning until the batch's last result: the wait for the browser
            runner.phases.add("join", time.perf_counter() - runner.last_run_returned)
            database = task_scheduler.database_
            ctx = task_scheduler.tasks_[task_id].ctx
            workload = database.commit_workload(ctx.mod)
            batch_best: float | None = None
            new_entries = []
            for candidate, built, ran in zip(
                measure_candidates, builder_results, runner_results, strict=True
            ):
                entry = _trial_entry(candidate, built, ran, runner, state)
                if entry.key in state.recorded:
                    continue  # measured in an earlier run: nothing new
                failed = entry.outcome.failed
                secs = [ERROR_RUN_SECS] if failed else [float(s) for s in ran.run_secs]
                database.commit_tuning_record(
                    TuningRecord(
                        candidate.sch.trace, workload, secs, ctx.target, candidate.args_info
                    )
                )
                state.recorded[entry.key] = secs
                state.outcomes[entry.key] = entry.outcome
                new_entries.append(entry)
                if entry.outcome is Outcome.MEASURED:
                    median = statistics.median(secs)
                    batch_best = median if batch_best is None else min(batch_best, median)
            state.journal.append(new_entries)
            state.entries.extend(new_entries)
            if batch_best is not None and (state.best_s is None or batch_best < state.best_s):
                state.best_s = batch_best
            state.end_batch(runner.phases, len(measure_candidates), new_entries)
            if progress is not None:
                progress(
                    ProgressEvent(
                        task.name,
                        len(state.recorded),
                        options.trials,
                        task.gflops(batch_best),
                        task.gflops(state.best_s),
                        time.monotonic() - started,
                    )
                )

    return [RecordAndReport(), UpdateCostModel()]


def _trial_entry(
    candidate: Any, built: Any, ran: Any, runner: BrowserRunner, state: _SearchState
) -> TrialEntry:
    build_error = None if built.error_msg is None else str(built.error_msg)
    run_error = None if ran.error_msg is None else str(ran.error_msg)
    log = None
    if built.artifact_path is not None:
        artifact = decode(str(built.artifact_path))
        log = runner.logs.get(getattr(artifact, "symbol", ""))
    abandoned = bool(log is not None and log.abandoned)
    return TrialEntry(
        key=candidate_key(candidate.sch.mod),
        outcome=classify(build_error, run_error, abandoned),
        number=log.number if log is not None else 0,
        times_s=tuple(log.times_s) if log is not None else (),
        error=build_error or run_error,
        verified=bool(log is not None and log.verified),
        browser=state.browser,
        browser_version=state.browser_version,
        host=state.host,
        wall_time=time.time(),
        warmup_calls=log.warmup_calls if log is not None else 0,
        warmup_stop=log.warmup_stop if log is not None else "",
        restarts=log.restarts if log is not None else 0,
        tier=log.tier if log is not None else "",
        warmup_ms=log.warmup_ms if log is not None else 0.0,
        untimed_ms=log.untimed_ms if log is not None else 0.0,
    )


@dataclass(frozen=True)
class Workbench:
    """What tuning needs from the infrastructure: a device, the linker, the staging directory
    that the device's page server publishes, and how CPUs are split between them."""

    device: Device
    linker: KernelLinker
    staging: StagingDirectory
    relaxed_simd: bool = False  # tune for wasm relaxed SIMD (FMA); the device must support it
    cpus: CpuPlan | None = None  # None: unknown, treated as shared (no pipelining)

    @property
    def database_name(self) -> str:
        """Databases are per browser and target: records of one target do not apply to another."""
        return f"{self.device.name}-relaxed-simd" if self.relaxed_simd else self.device.name


def tune(
    task: TuneTask,
    bench: Workbench,
    work_dir: Path,
    options: TuneOptions = TuneOptions(),
    progress: Callable[[ProgressEvent], None] | None = None,
) -> TuneResult:
    """Search `options.trials` candidates (continuing the task's database; a tail of fewer than
    an eighth of a batch is left unsearched: search.py), then re-measure the default, the best
    and its runners-up side by side, verify them and record the choice
    (artifacts/final_choice.py).

    With `options.trials == 0` only the default schedule is built, re-measured and verified.
    """
    started = time.monotonic()
    import_tensor_intrinsics()
    db_dir, _, _ = database_paths(work_dir, task, bench.database_name)
    with database_for_tuning(db_dir, fresh=options.fresh) as database:  # repaired, locked
        return _tune(task, bench, options, progress, started, work_dir, db_dir, database)


def _tune(
    task: TuneTask,
    bench: Workbench,
    options: TuneOptions,
    progress: Callable[[ProgressEvent], None] | None,
    started: float,
    work_dir: Path,
    db_dir: Path,
    database: Any,
) -> TuneResult:
    from tvm.s_tir import meta_schedule as ms

    device, staging = bench.device, bench.staging
    journal = TrialJournal(db_dir)
    browser = getattr(device, "browser", None)
    state = _SearchState(
        recorded_measurements(database, task.mod),
        {entry.key: entry.outcome for entry in journal.read()},
        journal,
        device.name,
        str(getattr(browser, "version", "")),
        str(getattr(browser, "host", "")),
    )
    phases = PhaseTimes()
    with phases.timed("reference"):
        reference = HostReference(task.mod, task.arg_specs())
    cpus = bench.cpus
    pipelined = options.pipeline and cpus is not None and cpus.separated
    # pipelined: builds stay off the measure CPUs while the browser times (elastic: they use
    # them while it idles); not pipelined: nothing is timed while they run
    build_cpus = cpus if pipelined else None
    all_cpus = len(os.sched_getaffinity(0))
    elastic = pipelined and options.elastic_builds
    fixed_split = cpus is not None and pipelined and not elastic  # compiles on work CPUs only
    workers = options.build_workers or (cpus.work_threads if fixed_split and cpus else all_cpus)
    builder = WasmBatchBuilder(
        bench.linker,
        staging,
        phases,
        state.recorded,
        workers,
        timeout_s=options.build_timeout_s,
        chunk_size=options.chunk_size,
        cpus=build_cpus,
        elastic=elastic,
    )
    runner = BrowserRunner(
        device,
        staging,
        reference,
        phases,
        options.measure,
        state.recorded,
        timing=builder.timing,
    )
    target = wasm_target(bench.relaxed_simd)
    if pipelined:
        builder.on_staged = runner.prefetch
    search_phases: dict[str, float] = {}
    planted: list[SiblingSeed] = []
    warm_dir = options.warm_start_dir
    warm = WarmStart(warm_dir, options.warm_start_seeds) if warm_dir is not None else None
    try:
        before = _full_measurements(state.recorded, state.outcomes)
        state.best_s = min(before.values(), default=None)
        runner.best_verified_s = state.best_s if state.best_s is not None else math.inf
        measured_before = runner.measured
        phases_before = phases.snapshot()
        state.start_batch(phases)
        # the budget is per task and database: a rerun continues where the last one stopped.
        # A search may propose candidates measured in an earlier run (they are not measured
        # again and do not count), so it goes on for a few rounds until the budget is spent.
        for search_round in range(defaults.SEARCH_ROUNDS):
            remaining = max(0, options.trials - len(state.recorded))
            if remaining == 0 or (
                search_round and remaining < tail_batch_floor(options.trials_per_iter)
            ):
                break  # spent, or only a tail batch left (search.py)
            known = len(state.recorded)
            seeds: list[Any] = []
            if warm is not None:
                seeds = warm.candidates(task.mod, db_dir, state.recorded, remaining)
            if not state.recorded and options.sibling_seeds:  # a task's first search
                with phases.timed("siblings"):
                    planted = sibling_seeds(
                        task.mod,
                        target,
                        db_dir,
                        min(options.sibling_seeds, remaining - len(seeds)),
                        exclude=frozenset(candidate_key(seed.sch.mod) for seed in seeds),
                    )
                seeds += [seed.candidate for seed in planted]
            search = without_tail_batches(
                evolutionary_search(options.search_population, options.genetic_iters),
                tail_batch_floor(options.trials_per_iter),
            )
            strategy = seeded_search(seeds, search) if seeds else search
            _quiet_meta_schedule_logging()
            with phases.timed("search"):
                ms.tune_tir(
                    task.mod,
                    target,
                    work_dir=str(db_dir / "logs"),
                    max_trials_global=remaining,
                    max_trials_per_task=remaining,
                    num_trials_per_iter=min(options.trials_per_iter, remaining),
                    builder=builder,
                    runner=runner,
                    database=database,
                    cost_model=cost_model(
                        options.cost_model_warmup,
                        options.search_threads,
                        options.neighbour_tau,
                        _measured_traces(database, task.mod) if options.neighbour_tau else (),
                        [seed.sch.trace for seed in seeds],
                    ),
                    measure_callbacks=_make_callbacks(
                        task, options, state, runner, progress, started
                    ),
                    task_scheduler="round-robin",
                    space=design_space(
                        options.max_unroll_step, options.vector_bits, options.taps_innermost
                    ),
                    strategy=strategy,
                    seed=None if options.seed is None else options.seed + search_round,
                    num_tuning_cores=options.search_threads,
                )
            if len(state.recorded) == known:
                break  # the search space holds nothing new
        search_phases = _phase_delta(phases_before, phases.snapshot())
        measured_in_search = runner.measured - measured_before
        count = options.finalists if options.trials else 0
        contenders = _contenders(database, task.mod, state, count)
        foreign = []
        if options.cross_engine and options.trials:
            foreign = foreign_bests(work_dir, task.mod, db_dir)
        with phases.timed("final"):
            finals = _final_figures(task, contenders, foreign, builder, runner, target, options)
    finally:
        runner.close()
    own, cross = tuple(finals[: 1 + len(contenders)]), tuple(finals[1 + len(contenders) :])
    default, *tuned = own
    best, default_kept = (default if default.verified else None), False  # the check
    if options.trials:
        best, default_kept = pick_best(default, tuned)
        record_choice(db_dir, task, default, best)
    errors = [entry.error for entry in state.entries if entry.outcome.failed and entry.error]
    outcomes: dict[str, int] = {}
    for entry in state.entries:
        outcomes[entry.outcome.value] = outcomes.get(entry.outcome.value, 0) + 1
    return TuneResult(
        task=task.name,
        browser=device.name,
        flops=task.flops,
        best_s=best.median_s if best is not None else None,
        default_s=default.median_s,
        trials=len(state.entries),
        measured=measured_in_search,
        errors=len(errors),
        error_messages=tuple(errors[:10]),
        correct=best is not None,
        default_correct=default.verified,
        default_error=default.error,
        database_dir=db_dir,
        best_trace=best.trace if best is not None else None,
        phases_s=phases.snapshot(),
        wall_s=time.monotonic() - started,
        trial_log=tuple(state.entries),
        best_spread=best.spread if best is not None else None,
        default_spread=default.spread,
        finalists=own,
        search_best_s=state.best_s,
        outcomes=outcomes,
        search_phases_s=search_phases,
        batches=tuple(state.batches),
        warm_start=warm.summary(state.entries, task.flops) if warm else None,
        siblings=siblings_summary(planted, state.entries, task.flops) if planted else None,
        cross_engine=cross,
        default_kept=default_kept,
    )


def _final_median(figure: FinalFigure) -> float:
    return figure.median_s if figure.median_s is not None else math.inf


def pick_best(default: FinalFigure, tuned: list[FinalFigure]) -> tuple[FinalFigure | None, bool]:
    """The best of a tuning's final figures and whether it is the default, kept because its
    median is below every verified tuned one's (else the fastest verified tuned one, or None)."""
    best = min((f for f in tuned if f.verified), key=_final_median, default=None)
    if best is not None and default.verified and _final_median(default) < _final_median(best):
        return default, True
    return best, False


def record_choice(
    db_dir: Path, task: TuneTask, default: FinalFigure, best: FinalFigure | None
) -> None:
    """Write the chosen schedule, `best` (else the default, if verified: no tuned one is), to
    the database's final choice; with nothing verified, the last decision stands."""
    chosen = best or default
    if not chosen.verified:
        return
    choice = FinalChoice(
        workload=workload_key(task.mod),
        chosen=DEFAULT if chosen is default else str(chosen.trace),
        label=chosen.label,
        default_s=default.median_s,
        chosen_s=_final_median(chosen),
        decided_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    write_choice(db_dir, choice)


def _phase_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(v - before.get(k, 0.0), 4) for k, v in after.items() if v != before.get(k)}


def _measured_traces(database: Any, mod: Any) -> list[tuple[Any, float]]:
    """(trace, median seconds) of every record of workload `mod` (failed: inf)."""
    measured = []
    for record in workload_records(database, mod):
        secs = _run_secs(record)
        failed = not secs or secs == [ERROR_RUN_SECS]
        measured.append((record.trace, math.inf if failed else statistics.median(secs)))
    return measured


def _contenders(
    database: Any, mod: Any, state: _SearchState, count: int
) -> list[tuple[Any, float]]:
    """The `count` fully measured records of workload `mod` with the lowest search-time
    medians (one per candidate)."""
    full = _full_measurements(state.recorded, state.outcomes)
    ranked: dict[int, tuple[Any, float]] = {}
    for record in workload_records(database, mod):
        key = candidate_key(record.as_measure_candidate().sch.mod)
        if key in full and key not in ranked:
            ranked[key] = (record, full[key])
    return sorted(ranked.values(), key=lambda pair: pair[1])[:count]


def _final_figures(
    task: TuneTask,
    contenders: list[tuple[Any, float]],
    foreign: list[ForeignBest],
    builder: WasmBatchBuilder,
    runner: BrowserRunner,
    target: Any,
    options: TuneOptions,
) -> list[FinalFigure]:
    """Build the default, the contenders and the other browsers' bests into one module and
    re-measure them together (figures in that order)."""
    from tvm.s_tir.meta_schedule.builder import BuilderInput

    labels = ["default"] + [
        "best" if index == 0 else f"runner-up {index}" for index in range(len(contenders))
    ]
    labels += [other.label for other in foreign]
    records = [record for record, _ in contenders] + [other.record for other in foreign]
    mods = [task.mod] + [record.as_measure_candidate().sch.mod for record in records]
    # a foreign best's search time was measured in its own engine: not this one's to show
    searched = [None] + [median for _record, median in contenders] + [None] * len(foreign)
    traces = [None] + [str(record.trace) for record in records]
    saved = builder.recorded, builder.on_staged
    builder.recorded, builder.on_staged = {}, None  # build every one, all into one module
    try:
        built = builder.build([BuilderInput(mod, target) for mod in mods])
    finally:
        builder.recorded, builder.on_staged = saved
    symbols: dict[int, str] = {}
    sha = None
    for index, result in enumerate(built):
        if result.error_msg is None:
            artifact = decode(str(result.artifact_path))
            sha, symbols[index] = artifact.sha256, artifact.symbol  # type: ignore[union-attr]
    timed = {}
    if sha is not None:
        try:
            spec = task.arg_specs()
            timed = runner.remeasure(sha, list(symbols.values()), spec, options.final_rounds)
        finally:
            builder.staging.release(sha)
    figures = []
    for index, label in enumerate(labels):
        error = None if built[index].error_msg is None else str(built[index].error_msg)
        spread, verified = None, False
        if index in symbols:
            measured = timed[symbols[index]]
            error = measured.error
            verified = measured.verified
            spread = Spread.of(measured.times_s) if measured.times_s and not error else None
        figures.append(
            FinalFigure(
                label,
                spread,
                verified and spread is not None,
                searched[index],
                error,
                traces[index],
                timed[symbols[index]].times_s if index in symbols else (),
            )
        )
    return figures
