# tasks/test_matmul.py
import pytest
from tvm import te


@pytest.mark.parametrize("n", [256, 512])
def test_matmul(n, wasm_tune):
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    result = wasm_tune(te.create_prim_func([A, B, C]))
    assert result.correct
