"""lowering.py: the compile context skips `tirx.RemoveNoOp` and lowers our kernels as before."""

import pytest
import tvm
import tvm_ffi
from tvm import tirx
from tvm.s_tir import Schedule
from tvm.script import tirx as T
from tvm.tirx import compilation_pipeline

from pytest_wasm_tune.kernels import wasm_target
from pytest_wasm_tune.lowering import SKIPPED_PASSES, wasm_lowering
from pytest_wasm_tune.main_job import matmul_prim_func


@T.prim_func
def _with_empty_loop(a: T.Buffer((4,), "float32")):
    for _i in range(4):
        T.evaluate(0)
    a[0] = T.float32(1)


def _remove_no_op(context: tvm.transform.PassContext) -> tvm.IRModule:
    mod = tvm.IRModule({"main": _with_empty_loop})
    with context:
        return tvm.transform.Sequential([tirx.transform.RemoveNoOp()])(mod)


def test_the_pass_runs_by_default_and_not_in_wasm_lowering() -> None:
    original = tvm.IRModule({"main": _with_empty_loop})
    assert "tirx.RemoveNoOp" in SKIPPED_PASSES
    assert not tvm_ffi.structural_equal(_remove_no_op(tvm.transform.PassContext()), original)
    assert tvm_ffi.structural_equal(_remove_no_op(wasm_lowering()), original)


def _unrolled_matmul() -> tvm.IRModule:
    sch = Schedule(tvm.IRModule({"main": matmul_prim_func(16)}))
    _i, j, k = sch.get_loops(sch.get_sblock("C"))
    _ko, k_inner = sch.split(k, [None, 4])
    sch.unroll(k_inner)
    _jo, j_inner = sch.split(j, [None, 4])
    sch.vectorize(j_inner)
    return sch.mod


def _lower(mod: tvm.IRModule, context: tvm.transform.PassContext) -> tvm.IRModule:
    """What `tvm.compile` runs before code generation: TVM's default TIR pipeline."""
    target = wasm_target()
    bound = tirx.transform.BindTarget(target.with_host(target))(mod)
    pipeline = compilation_pipeline.get_tir_pipeline("default")[0]
    with context:
        return pipeline(bound)


@pytest.mark.parametrize("opt_level", [2, 3])
def test_an_unrolled_kernel_lowers_to_the_same_tir(opt_level: int) -> None:
    mod = _unrolled_matmul()
    default = _lower(mod, tvm.transform.PassContext(opt_level=opt_level))
    assert tvm_ffi.structural_equal(_lower(mod, wasm_lowering(opt_level)), default)
