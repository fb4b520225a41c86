"""Tune one task on one browser with MetaSchedule (XGBoost cost model); never imports pytest.

result = tune(TuneTask.from_prim_func(func, "matmul256"), stack.workbench, work_dir)
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .kernels import wasm_target
from .measure.builder import WasmBatchBuilder, candidate_key
from .measure.phases import PhaseTimes
from .measure.runner import BrowserRunner, Device, MeasureConfig, TrialLog
from .measure.staging import StagingDirectory
from .measure.verify import HostReference
from .toolchain.link import KernelLinker
from .tvm_import import import_tensor_intrinsics

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
    build_workers: int = 2
    pipeline: bool = True  # measure each chunk of a batch while the next one compiles
    search_threads: int = field(default_factory=lambda: os.cpu_count() or 1)


@dataclass(frozen=True)
class TuneResult:
    task: str
    browser: str
    flops: float
    best_s: float | None
    default_s: float | None
    trials: int
    measured: int
    errors: int
    error_messages: tuple[str, ...]
    correct: bool
    default_correct: bool
    default_error: str | None
    database_dir: Path
    best_trace: str | None
    phases_s: dict[str, float]
    wall_s: float
    trial_log: tuple[TrialLog, ...] = ()

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
    """Directory, workload file and records file of a task's database `name` (see Workbench)."""
    directory = work_dir / task.slug / name
    return (
        directory,
        directory / "database_workload.json",
        directory / "database_tuning_record.json",
    )


def _run_secs(record: Any) -> list[float]:
    return [float(getattr(s, "value", s)) for s in record.run_secs]


def _quiet_meta_schedule_logging() -> None:
    """MetaSchedule logs to files in the work dir; keep its console to warnings (we report
    progress ourselves) and drop unnamed handlers that its dictConfig cannot re-reference."""
    logger = logging.getLogger("tvm.s_tir.meta_schedule")
    for handler in list(logger.handlers):
        if handler.get_name() is None:
            logger.removeHandler(handler)
    logger.setLevel(logging.WARNING)


def _best_recorded(recorded: dict[int, list[float]]) -> float | None:
    valid = [statistics.median(s) for s in recorded.values() if s != [ERROR_RUN_SECS]]
    return min(valid, default=None)


def recorded_measurements(database: Any) -> dict[int, list[float]]:
    """Structural hash of every candidate in the database → its recorded run seconds."""
    recorded: dict[int, list[float]] = {}
    for record in database.get_all_tuning_records():
        if record.run_secs is None:
            continue
        recorded[candidate_key(record.as_measure_candidate().sch.mod)] = _run_secs(record)
    return recorded


def _make_callbacks(
    task: TuneTask,
    options: TuneOptions,
    recorded: dict,
    progress: Callable[[ProgressEvent], None] | None,
    started: float,
) -> list:
    from tvm.ir.utils import derived_object
    from tvm.s_tir.meta_schedule.database import TuningRecord
    from tvm.s_tir.meta_schedule.measure_callback import PyMeasureCallback, UpdateCostModel

    state = {"done": len(recorded), "best_s": _best_recorded(recorded)}

    @derived_object
    class RecordAndReport(PyMeasureCallback):
        """Commit new measurements to the database as they arrive; report progress."""

        def apply(
            self, task_scheduler, task_id, measure_candidates, builder_results, runner_results
        ) -> None:
            database = task_scheduler.database_
            ctx = task_scheduler.tasks_[task_id].ctx
            workload = database.commit_workload(ctx.mod)
            batch_best: float | None = None
            for candidate, built, ran in zip(
                measure_candidates, builder_results, runner_results, strict=True
            ):
                failed = built.error_msg is not None or ran.error_msg is not None
                secs = [ERROR_RUN_SECS] if failed else [float(s) for s in ran.run_secs]
                key = candidate_key(candidate.sch.mod)
                if key not in recorded:
                    database.commit_tuning_record(
                        TuningRecord(
                            candidate.sch.trace, workload, secs, ctx.target, candidate.args_info
                        )
                    )
                    recorded[key] = secs
                if not failed:
                    median = statistics.median(secs)
                    batch_best = median if batch_best is None else min(batch_best, median)
            state["done"] += len(measure_candidates)
            if batch_best is not None and (state["best_s"] is None or batch_best < state["best_s"]):
                state["best_s"] = batch_best
            if progress is not None:
                progress(
                    ProgressEvent(
                        task.name,
                        state["done"],
                        options.trials,
                        task.gflops(batch_best),
                        task.gflops(state["best_s"]),
                        time.monotonic() - started,
                    )
                )

    return [RecordAndReport(), UpdateCostModel()]


@dataclass(frozen=True)
class Workbench:
    """What tuning needs from the infrastructure: a device, the linker, and the staging
    directory that the device's page server publishes."""

    device: Device
    linker: KernelLinker
    staging: StagingDirectory
    relaxed_simd: bool = False  # tune for wasm relaxed SIMD (FMA); the device must support it

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
    """Measure the default schedule, search `options.trials` candidates, verify the best.

    With `options.trials == 0` only the default schedule is built, run, timed and verified.
    """
    from tvm.s_tir import meta_schedule as ms

    started = time.monotonic()
    import_tensor_intrinsics()
    device, linker, staging = bench.device, bench.linker, bench.staging
    db_dir, workload_path, records_path = database_paths(work_dir, task, bench.database_name)
    if options.fresh and db_dir.exists():
        shutil.rmtree(db_dir)
    db_dir.mkdir(parents=True, exist_ok=True)
    database = ms.database.JSONDatabase(str(workload_path), str(records_path))
    recorded = recorded_measurements(database)
    phases = PhaseTimes()
    with phases.timed("reference"):
        reference = HostReference(task.mod, task.arg_specs())
    builder = WasmBatchBuilder(linker, staging, phases, recorded, options.build_workers)
    trial_log: list[TrialLog] = []
    runner = BrowserRunner(
        device, staging, reference, phases, options.measure, recorded, on_trial=trial_log.append
    )
    target = wasm_target(bench.relaxed_simd)
    if options.pipeline:
        builder.on_staged = runner.prefetch
    try:
        default_s, default_error = _measure_default(task, builder, runner, target)
        default_correct = default_error is None
        trial_log.clear()
        best_before = _best_recorded(recorded)
        runner.best_verified_s = float("inf") if best_before is None else best_before
        measured_before = runner.measured
        measured_in_search = 0
        # the budget is per task and database: a rerun continues where the last one stopped
        remaining = max(0, options.trials - len(recorded))
        best_s, correct, trace = None, False, None
        if remaining > 0:
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
                    cost_model="xgb",
                    measure_callbacks=_make_callbacks(task, options, recorded, progress, started),
                    task_scheduler="round-robin",
                    seed=options.seed,
                    num_tuning_cores=options.search_threads,
                )
        measured_in_search = runner.measured - measured_before
        if options.trials > 0:
            search_log = list(trial_log)
            best_s, correct, trace = _final_check(task, database, builder, runner, target)
            trial_log[:] = search_log
    finally:
        runner.close()
    if options.trials == 0:
        best_s, correct = default_s, default_correct
    errors = [log.error for log in trial_log if log.error]
    return TuneResult(
        task=task.name,
        browser=device.name,
        flops=task.flops,
        best_s=best_s,
        default_s=default_s,
        trials=len(trial_log),
        measured=measured_in_search,
        errors=len(errors),
        error_messages=tuple(errors[:10]),
        correct=correct,
        default_correct=default_correct,
        default_error=default_error,
        database_dir=db_dir,
        best_trace=trace,
        phases_s=phases.snapshot(),
        wall_s=time.monotonic() - started,
        trial_log=tuple(trial_log),
    )


def _build_and_run(
    builder: WasmBatchBuilder, runner: BrowserRunner, mod: Any, target: Any
) -> tuple[float | None, str | None]:
    from tvm.s_tir.meta_schedule.arg_info import ArgInfo
    from tvm.s_tir.meta_schedule.builder import BuilderInput
    from tvm.s_tir.meta_schedule.runner import RunnerInput

    (built,) = builder.build([BuilderInput(mod, target)])
    if built.error_msg is not None:
        return None, str(built.error_msg)
    args_info = ArgInfo.from_prim_func(mod["main"])
    (future,) = runner.run([RunnerInput(built.artifact_path, "cpu", args_info)])
    result = future.result()
    if result.error_msg is not None:
        return None, str(result.error_msg)
    return statistics.median(_run_secs(result)), None


def _measure_default(
    task: TuneTask, builder: WasmBatchBuilder, runner: BrowserRunner, target: Any
) -> tuple[float | None, str | None]:
    """The task's schedule as written (untuned), measured and verified the same way."""
    builder.recorded = {}  # the default is measured on every run, not taken from the database
    try:
        seconds, error = _build_and_run(builder, runner, task.mod, target)
    finally:
        builder.recorded = runner.recorded
    return seconds, error


def _final_check(
    task: TuneTask, database: Any, builder: WasmBatchBuilder, runner: BrowserRunner, target: Any
) -> tuple[float | None, bool, str | None]:
    """Rebuild the candidate with the best median time (the database holds this task only),
    verify it again and report its recorded median time."""
    valid = [r for r in database.get_all_tuning_records() if _run_secs(r) != [ERROR_RUN_SECS]]
    if not valid:
        return None, False, None
    record = min(valid, key=lambda r: statistics.median(_run_secs(r)))
    runner.best_verified_s = float("inf")  # force verification
    builder.recorded = {}
    try:
        _seconds, error = _build_and_run(
            builder, runner, record.as_measure_candidate().sch.mod, target
        )
    finally:
        builder.recorded = runner.recorded
    return statistics.median(_run_secs(record)), error is None, str(record.trace)
