"""MetaSchedule builder: compile candidates for wasm32+SIMD in worker processes (each compile
bounded in time), link them into modules against the cached runtime objects with wasm-ld (a
whole batch in one, or pipelined, chunks in the order their compiles finish, each handed to the
runner at once) and stage them for the browser."""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from tvm.ir.utils import derived_object
from tvm.s_tir.meta_schedule.builder import BuilderInput, BuilderResult, PyBuilder

from .. import defaults, processes
from ..errors import ToolchainError
from ..lowering import wasm_lowering
from ..toolchain.link import KernelLinker, export_kernel_functions
from .artifact import RecordedKernel, StagedKernel
from .compile_affinity import CompileAffinity
from .compile_pool import CompilePool, shared_compile_pool
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
    with wasm_lowering():
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


def chunk_sizes(count: int, chunk_size: int | None) -> Iterator[int]:
    """Sizes of the modules a batch of `count` candidates is linked into: pipelined
    (`chunk_size` given) a half-size first chunk, so that the browser starts early, then
    `chunk_size` ones; else the whole batch in one module."""
    if chunk_size is None:
        return itertools.repeat(max(count, 1))
    return itertools.chain([max(1, chunk_size // 2)], itertools.repeat(chunk_size))


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
        chunk_size: int = defaults.PIPELINE_CHUNK_SIZE,
        timeout_s: float = defaults.BUILD_TIMEOUT_S,
        cpus: CpuPlan | None = None,
        elastic: bool = False,
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
        # elastic (with `cpus`): the workers also use the browser's CPUs while it idles
        self.affinity: CompileAffinity | None = None
        if cpus is not None and elastic:
            self.affinity = CompileAffinity(cpus, self._pool().worker_pids)

    def _pool(self) -> CompilePool:
        return shared_compile_pool(self.max_workers, self.timeout_s)

    def timing(self) -> AbstractContextManager[None]:
        """For the runner: entered while the browser times kernels (keeps compiles off its
        CPUs when elastic)."""
        return self.affinity.timing() if self.affinity is not None else contextlib.nullcontext()

    def build(self, build_inputs: list[BuilderInput]) -> list[BuilderResult]:
        results: list[BuilderResult | None] = [None] * len(build_inputs)
        todo: list[tuple[int, str, Any]] = []
        for index, build_input in enumerate(build_inputs):
            key = candidate_key(build_input.mod)
            if key in self.recorded:
                results[index] = BuilderResult(RecordedKernel(key).encode(), None)
            else:
                todo.append((index, f"wasm_tune_k{next(_symbols)}", build_input))
        with (
            self.phases.timed("builder"),
            self._pinned(),
            processes.temporary_directory("batch") as tmp,
        ):
            self._build_chunks(todo, tmp, results)
        return [r if r is not None else BuilderResult(None, "not built") for r in results]

    def _pinned(self) -> AbstractContextManager[None]:
        return self.cpus.working() if self.cpus is not None else contextlib.nullcontext()

    def _build_chunks(
        self, todo: list[tuple[int, str, Any]], tmp: Path, results: list[BuilderResult | None]
    ) -> None:
        """Submit every compile at once; link and stage chunks of them in the order they
        finish, so a slow compile never holds back the candidates compiled after it."""
        pool = self._pool()
        inputs = {index: build_input for index, _symbol, build_input in todo}
        futures = {
            pool.submit(build_input.mod, build_input.target, symbol, tmp): (index, symbol)
            for index, symbol, build_input in todo
        }
        self._move_workers()  # workers started by these submits
        sizes = chunk_sizes(len(todo), self.chunk_size if self.on_staged is not None else None)
        size = next(sizes)
        finished: list[tuple[int, str, list[Path] | str]] = []
        pending = set(futures)
        while pending or finished:
            if pending:
                with self.phases.timed("build"):
                    done, pending = concurrent.futures.wait(
                        pending, return_when=concurrent.futures.FIRST_COMPLETED
                    )
                self._move_workers()  # a worker killed on timeout was replaced
                finished += [(*futures[future], pool.result(future)) for future in done]
            while len(finished) >= size or (finished and not pending):
                chunk, finished = finished[:size], finished[size:]
                self._stage_chunk(chunk, inputs, tmp / f"chunk{next(_symbols)}.wasm", results)
                size = next(sizes)

    def _move_workers(self) -> None:
        if self.affinity is not None:
            self.affinity.apply()

    def _stage_chunk(
        self,
        compiled: list[tuple[int, str, list[Path] | str]],
        inputs: Mapping[int, BuilderInput],
        output: Path,
        results: list[BuilderResult | None],
    ) -> None:
        """Link compiled candidates into one module, stage it and hand it to `on_staged`."""
        good = [(i, s, objs) for i, s, objs in compiled if not isinstance(objs, str)]
        for index, _symbol, error in compiled:
            if isinstance(error, str):
                results[index] = BuilderResult(None, error)
        if not good:
            return
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
            spec = argument_spec(inputs[good[0][0]].mod)
            self.on_staged(sha, [symbol for _i, symbol, _o in good], spec)

    def _link(self, good: list[tuple[int, str, list[Path]]], output: Path) -> str | None:
        objects = [obj for _i, _s, objs in good for obj in objs]
        try:
            self.linker.link(objects, output, exports=export_kernel_functions(objects))
        except ToolchainError as err:
            return f"{LINK_FAILED}: {err}"
        return None
