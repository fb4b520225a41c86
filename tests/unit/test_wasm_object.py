"""toolchain/wasm_object.py: a kernel's local compute function becomes an exported symbol."""

from pathlib import Path

import pytest
import tvm

from pytest_wasm_tune.kernels import wasm_target
from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.measure.builder import compile_object
from pytest_wasm_tune.toolchain import wasm_object
from pytest_wasm_tune.toolchain.link import export_kernel_functions


def _flags(path: Path) -> dict[str, int]:
    data = path.read_bytes()
    start, end = wasm_object._linking_payload(data)
    return {name: data[at] for name, at in wasm_object._function_symbols(data, start, end).items()}


def test_a_compiled_kernels_compute_function_is_exported_and_global(tmp_path: Path) -> None:
    mod = tvm.IRModule({"main": matmul_prim_func(16)})
    (obj,) = compile_object(mod, wasm_target(), "k7", tmp_path)
    assert _flags(obj)["k7_compute_"] & wasm_object.BINDING_LOCAL, "TVM emits it local"
    assert {"__tvm_ffi_k7", "k7_compute_"} <= set(export_kernel_functions([obj]))
    flags = _flags(obj)
    compute = flags["k7_compute_"]
    assert compute & wasm_object.EXPORTED and not compute & wasm_object.BINDING_LOCAL
    assert not flags["__tvm_ffi_k7"] & wasm_object.BINDING_LOCAL, "the entry was global already"
    before = obj.read_bytes()
    assert wasm_object.export_local_functions(obj, {"k7_compute_"}) == [], "done once"
    assert obj.read_bytes() == before


def test_only_the_named_local_functions_change(tmp_path: Path) -> None:
    mod = tvm.IRModule({"main": matmul_prim_func(16)})
    (obj,) = compile_object(mod, wasm_target(), "k8", tmp_path)
    flags = _flags(obj)
    local = [name for name, f in flags.items() if f & wasm_object.BINDING_LOCAL]
    assert local, "TVM's objects keep helper functions local"
    assert wasm_object.export_local_functions(obj, {"no_such_function"}) == []
    assert _flags(obj) == flags


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"ELF\0", "not a wasm binary"),
        (wasm_object.MAGIC, "no linking section"),
        (wasm_object.MAGIC + bytes([0, 9, 7]) + b"linking" + bytes([1]), "version 1"),
    ],
)
def test_what_is_not_a_wasm_object_is_refused(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "x.o"
    path.write_bytes(data)
    with pytest.raises(wasm_object.WasmObjectError, match=message):
        wasm_object.export_local_functions(path, {"f"})
