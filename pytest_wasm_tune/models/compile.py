"""Compile a whole Relax model for wasm32+SIMD (tuned kernels applied) or for the llvm host.

Both builds go through the same preparation (`prepare_for_tuning`) so the fused PrimFuncs are
exactly the tuning tasks' workloads and a database tuned on a task matches structurally.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..artifacts.database import DatabaseWarning, database_for_reading, workload_key
from ..artifacts.final_choice import FinalChoice, FinalChoiceError, read_choice
from ..kernels import wasm_target
from ..lowering import wasm_lowering
from ..toolchain.link import KernelLinker
from .tasks import prepare_for_tuning


@dataclass(frozen=True)
class CompiledModel:
    """A linked wasm module plus how long compiling and linking took."""

    wasm: bytes
    compile_s: float
    link_s: float
    tuned_functions: tuple[str, ...]  # fused functions a database record was applied to


def load_database(database_dirs: Sequence[Path] | None) -> Any:
    """A union of the JSON databases in `database_dirs` (an empty in-memory one for none).

    Each directory must hold `database_workload.json` and `database_tuning_record.json` (a
    damaged tail is set aside first). Where it also holds a final choice (final_choice.json),
    its workload keeps only the chosen record, or none when the default was kept; otherwise, and
    for a workload present in several, the fastest search-time record applies.
    """
    from tvm.s_tir import meta_schedule as ms

    databases = [_chosen_database(Path(directory)) for directory in database_dirs or ()]
    if not databases:
        return ms.database.MemoryDatabase()
    return databases[0] if len(databases) == 1 else ms.database.UnionDatabase(*databases)


def _chosen_database(directory: Path) -> Any:
    """The directory's database as its final choice has it; as stored without one, or with one
    that cannot be applied (then with a warning)."""
    database = database_for_reading(directory)
    try:
        choice = read_choice(directory)
    except FinalChoiceError as error:
        warnings.warn(str(error), DatabaseWarning, stacklevel=3)
        return database
    if choice is None:
        return database
    chosen = _apply_choice(database, choice)
    if chosen is None:
        warnings.warn(
            f"final choice of {directory} names a schedule its database does not hold (out of "
            "date or edited); its fastest search-time record applies. Tune the task again to "
            "decide anew",
            DatabaseWarning,
            stacklevel=3,
        )
        return database
    return chosen


def _apply_choice(database: Any, choice: FinalChoice) -> Any | None:
    """An in-memory copy of `database` in which the choice's workload has only the chosen
    record (none when the default was kept); None if the chosen record is not there."""
    from tvm.s_tir import meta_schedule as ms

    memory = ms.database.MemoryDatabase()
    found = choice.default_kept
    for record in database.get_all_tuning_records():
        workload = memory.commit_workload(record.workload.mod)
        if workload_key(record.workload.mod) == choice.workload:
            if found or str(record.trace) != choice.chosen:
                continue  # the workload keeps the chosen record alone (none: the default)
            found = True
        memory.commit_tuning_record(
            ms.database.TuningRecord(
                record.trace, workload, record.run_secs, record.target, record.args_info
            )
        )
    return memory if found else None


def bind(mod: Any, params: Mapping[str, np.ndarray] | None) -> Any:
    if not params:
        return mod
    from .resnet18 import bind_params

    return bind_params(mod, dict(params))


def _lowering_pipeline(target: Any) -> Any:
    """Apply the database to the (already fused) module, then lower for the VM.

    Unlike `ms.relax_integration.compile_relax`, nothing is fused again after the database is
    applied (a second FuseOps could merge a tuned function with a neighbour and drop its
    schedule). Functions without a record keep TVM's default (unscheduled) lowering.
    """
    import tvm
    from tvm import relax

    # `tvm.relax.pipeline.dataflow_lower_passes(llvm)` raises AttributeError in 0.27 (the
    # cpu_generic package does not re-export it): take the passes from its module.
    from tvm.relax.backend.cpu_generic import pipeline as cpu

    passes = [
        relax.transform.MetaScheduleApplyDatabase(),
        *cpu.dataflow_lower_passes(target),
        *cpu.finalize_passes(target),
    ]
    return tvm.transform.Sequential(passes, name="wasm_tune_model_lowering")


def _build(prepared: Any, target: Any, database: Any) -> Any:
    from tvm import relax

    with target, database, wasm_lowering(opt_level=3):
        return relax.build(prepared, target=target, relax_pipeline=_lowering_pipeline(target))


def tuned_functions(prepared: Any, database: Any, target: Any) -> tuple[str, ...]:
    """Names of the fused PrimFuncs of `prepared` that `database` holds a record for.

    Asks `query_tuning_record`, the lookup MetaScheduleApplyDatabase also relies on
    (`UnionDatabase.has_workload` is not implemented and raises).
    """
    from tvm import tirx
    from tvm.s_tir import meta_schedule as ms

    found = []
    for gvar, func in prepared.functions_items():
        if isinstance(func, tirx.PrimFunc):
            workload = ms.tune_context._normalize_mod(func)
            if database.query_tuning_record(workload, target, gvar.name_hint) is not None:
                found.append(gvar.name_hint)
    return tuple(sorted(found))


def compile_model_timed(
    mod: Any,
    params: Mapping[str, np.ndarray] | None,
    database_dirs: Sequence[Path] | None,
    linker: KernelLinker,
    work_dir: Path | None = None,
    relaxed_simd: bool = False,
) -> CompiledModel:
    """`compile_model` plus compile/link times and the functions a record was applied to.

    `relaxed_simd` must match the target the databases were tuned for."""
    target = wasm_target(relaxed_simd)
    started = time.perf_counter()
    # No `system_lib_prefix` here: relax.build attaches "" itself for a wasm mtriple, and with the
    # attr already set its `IRModule.get_attr` raises (TypeError: ffi.SmallStr to ffi.Object).
    prepared = prepare_for_tuning(bind(mod, params), target)
    database = load_database(database_dirs)
    executable = _build(prepared, target, database)
    compiled = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="wasm-tune-model-", dir=work_dir) as tmp:
        output = Path(tmp) / "model.wasm"
        executable.export_library(str(output), fcompile=linker.fcompile())
        linked = time.perf_counter()
        wasm = output.read_bytes()
    return CompiledModel(
        wasm, compiled - started, linked - compiled, tuned_functions(prepared, database, target)
    )


def compile_model(
    mod: Any,
    params: Mapping[str, np.ndarray] | None,
    database_dirs: Sequence[Path] | None,
    linker: KernelLinker,
    relaxed_simd: bool = False,
) -> bytes:
    """The whole model as one tvmjs-loadable wasm (a Relax VM executable in the system lib).

    `params` are bound as constants (pass None if `mod` already has them bound);
    `database_dirs` are tuning databases to apply (None or empty: untuned).
    """
    return compile_model_timed(mod, params, database_dirs, linker, relaxed_simd=relaxed_simd).wasm


def compile_host(mod: Any, params: Mapping[str, np.ndarray] | None = None) -> Any:
    """The same model for the llvm host (untuned): the numerical reference."""
    import tvm
    from tvm.s_tir import meta_schedule as ms

    target = tvm.target.Target("llvm")
    prepared = prepare_for_tuning(bind(mod, params), target)
    return _build(prepared, target, ms.database.MemoryDatabase())


def run_host(executable: Any, inputs: Sequence[np.ndarray]) -> np.ndarray:
    """Run `main` of a host executable from `compile_host` once and return its output."""
    import tvm
    from tvm import relax

    device = tvm.cpu()
    vm = relax.VirtualMachine(executable, device)
    args = [tvm.runtime.tensor(np.ascontiguousarray(x), device) for x in inputs]
    return vm["main"](*args).numpy()
