"""MetaSchedule builder: compile candidates for wasm32+SIMD in worker processes (each compile
bounded in time), link a whole batch into one module against the cached runtime objects with
wasm-ld, and stage it for the browser."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tvm.ir.utils import derived_object
from tvm.s_tir.meta_schedule.builder import BuilderInput, BuilderResult, PyBuilder

from .. import defaults, processes
from ..errors import ToolchainError
from ..toolchain.link import KernelLinker, export_kernel_functions
from .artifact import RecordedKernel, StagedKernel
from .compile_pool import shared_compile_pool
from .cpus import CpuPlan
from .outcome import LINK_FAILED
from .phases import PhaseTimes
from .staging import StagingDirectory

_symbols = itertools.count()


def candidate_key(mod: Any) -> int:
    """Identity of a candidate: the structural hash of its scheduled IRModule."""
    import tvm_ffi

    return int(tvm_ffi.structural_hash(mod))


def compile_object(mod: Any, target: Any, symbol: str, out_dir: Path) -> list[Path]:
    """Compile one candidate (its `main` renamed to `symbol`) to wasm object file(s)."""
    import tvm
    from tvm.s_tir.transform import RemoveWeightLayoutRewriteBlock

    mod = RemoveWeightLayoutRewriteBlock(skip_tensor_rewrite=True)(mod)
    (name, func), *rest = mod.functions_items()
    if rest:
        raise ValueError(f"expected one PrimFunc per candidate, got {len(rest) + 1}")
    del name
    renamed = tvm.IRModule({symbol: func.with_attr("global_symbol", symbol)})
    renamed = renamed.with_attr("system_lib_prefix", "")
    lib = tvm.compile(renamed, target=target)
    objects: list[Path] = []

    def keep_objects(_output: str, files: list[str], **_: object) -> None:
        for index, file in enumerate(files):
            kept = out_dir / f"{symbol}_{index}.o"
            shutil.copyfile(file, kept)
            objects.append(kept)

    keep_objects.object_format = "o"  # type: ignore[attr-defined]
    # in a compile worker: the pid in the name lets processes.prune_stale_tempdirs find it
    with tempfile.TemporaryDirectory(prefix=f"wasm-tune-obj-{os.getpid()}-") as tmp:
        lib.export_library(str(Path(tmp) / "unused.wasm"), fcompile=keep_objects)
    return objects


def argument_spec(mod: Any) -> list[tuple[tuple[int, ...], str]]:
    """(shape, dtype) of each tensor argument of the module's single PrimFunc."""
    from tvm.s_tir.meta_schedule.arg_info import ArgInfo

    (_, func), *_ = mod.functions_items()
    return [(tuple(int(d) for d in a.shape), str(a.dtype)) for a in ArgInfo.from_prim_func(func)]


@derived_object
class WasmBatchBuilder(PyBuilder):
    """Builds a batch of candidates into one staged wasm module; failures are data."""

    def __init__(
        self,
        linker: KernelLinker,
        staging: StagingDirectory,
        phases: PhaseTimes,
        recorded: Mapping[int, Any] | None = None,
        max_workers: int = 2,
        on_staged: Callable[[str, list[str], list[tuple[tuple[int, ...], str]]], None]
        | None = None,
        chunk_size: int = 16,
        timeout_s: float = defaults.BUILD_TIMEOUT_S,
        cpus: CpuPlan | None = None,
    ) -> None:
        super().__init__()
        self.linker = linker
        self.staging = staging
        self.phases = phases
        self.recorded = recorded if recorded is not None else {}
        self.max_workers = max_workers
        self.on_staged = on_staged
        self.chunk_size = chunk_size
        self.timeout_s = timeout_s
        self.cpus = cpus  # builds run on the plan's work CPUs (the browser has the others)

    def build(self, build_inputs: list[BuilderInput]) -> list[BuilderResult]:
        results: list[BuilderResult | None] = [None] * len(build_inputs)
        todo: list[tuple[int, str, Any]] = []
        for index, build_input in enumerate(build_inputs):
            key = candidate_key(build_input.mod)
            if key in self.recorded:
                results[index] = BuilderResult(RecordedKernel(key).encode(), None)
            else:
                todo.append((index, f"wasm_tune_k{next(_symbols)}", build_input))
        # With `on_staged` (the runner's prefetch) each chunk is measured while the next builds;
        # without it the whole batch links into one module.
        size = self.chunk_size if self.on_staged is not None else max(len(todo), 1)
        pinned = self.cpus.working() if self.cpus is not None else contextlib.nullcontext()
        with self.phases.timed("builder"), pinned:
            for start in range(0, len(todo), size):
                with processes.temporary_directory("batch") as tmp:
                    self._build_batch(todo[start : start + size], tmp, results)
        return [r if r is not None else BuilderResult(None, "not built") for r in results]

    def _build_batch(
        self, todo: list[tuple[int, str, Any]], tmp: Path, results: list[BuilderResult | None]
    ) -> None:
        pool = shared_compile_pool(self.max_workers, self.timeout_s)
        with self.phases.timed("build"):
            futures = [
                (index, symbol, pool.submit(build_input.mod, build_input.target, symbol, tmp))
                for index, symbol, build_input in todo
            ]
            compiled = [(index, symbol, pool.result(future)) for index, symbol, future in futures]
        good = [(i, s, objs) for i, s, objs in compiled if not isinstance(objs, str)]
        for index, _symbol, error in compiled:
            if isinstance(error, str):
                results[index] = BuilderResult(None, error)
        if not good:
            return
        output = tmp / "batch.wasm"
        with self.phases.timed("link"):
            link_error = self._link(good, output)
        if link_error is not None:
            for index, _symbol, _objs in good:
                results[index] = BuilderResult(None, link_error)
            return
        with self.phases.timed("stage"):
            sha = self.staging.publish(output.read_bytes())
        for index, symbol, _objs in good:
            results[index] = BuilderResult(StagedKernel(sha, symbol).encode(), None)
        if self.on_staged is not None:
            first_mod = next(item for item in todo if item[0] == good[0][0])[2].mod
            self.on_staged(sha, [symbol for _i, symbol, _o in good], argument_spec(first_mod))

    def _link(self, good: list[tuple[int, str, list[Path]]], output: Path) -> str | None:
        objects = [obj for _i, _s, objs in good for obj in objs]
        try:
            self.linker.link(objects, output, exports=export_kernel_functions(objects))
        except ToolchainError as err:
            return f"{LINK_FAILED}: {err}"
        return None
