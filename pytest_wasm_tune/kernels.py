"""Build TVM PrimFuncs / IRModules into tvmjs-loadable wasm modules with the fast linker."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import defaults
from .lowering import wasm_lowering
from .toolchain.link import KernelLinker


def wasm_target(relaxed_simd: bool = False) -> Any:
    """wasm32 with SIMD128 (and, with `relaxed_simd`, fused multiply-adds)."""
    import tvm

    attrs = dict(defaults.WASM_TARGET)
    if relaxed_simd:
        attrs.update(defaults.RELAXED_SIMD_TARGET_ATTRS)
    return tvm.target.Target(attrs)


def as_system_lib_module(func_or_mod: Any, name: str = "main") -> Any:
    """An IRModule with `system_lib_prefix` set (required to load it from tvmjs's system lib)."""
    import tvm

    mod = (
        func_or_mod if isinstance(func_or_mod, tvm.IRModule) else tvm.IRModule({name: func_or_mod})
    )
    return mod.with_attr("system_lib_prefix", defaults.SYSTEM_LIB_PREFIX)


@dataclass(frozen=True)
class BuiltModule:
    wasm: bytes
    compile_s: float
    link_s: float


def build_wasm(
    func_or_mod: Any, linker: KernelLinker, work_dir: Path | None = None, relaxed_simd: bool = False
) -> BuiltModule:
    """Compile for wasm32+SIMD with TVM's LLVM and link against the cached runtime objects."""
    import tvm

    started = time.perf_counter()
    with wasm_lowering():
        lib = tvm.compile(as_system_lib_module(func_or_mod), target=wasm_target(relaxed_simd))
    compiled = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="wasm-tune-build-", dir=work_dir) as tmp:
        output = Path(tmp) / "module.wasm"
        lib.export_library(str(output), fcompile=linker.fcompile())
        linked = time.perf_counter()
        return BuiltModule(output.read_bytes(), compiled - started, linked - compiled)
