"""Kernels that misbehave in the browser, all with the signature of a 16x16 matmul."""

from tvm.script import tirx as T

N = 16


@T.prim_func
def out_of_bounds(
    A: T.Buffer((N, N), "float32"), B: T.Buffer((N, N), "float32"), C: T.Buffer((N, N), "float32")
):
    for i, j in T.grid(N, N):
        C[i + 100000000, j] = A[i, j] + B[i, j]  # ~6 GB past the buffer: a wasm trap


@T.prim_func
def never_returns(
    A: T.Buffer((N, N), "float32"), B: T.Buffer((N, N), "float32"), C: T.Buffer((N, N), "float32")
):
    while A[0, 0] < T.float32(10):  # inputs are in [-1, 1): loops forever
        C[0, 0] = C[0, 0] + T.float32(1)


@T.prim_func
def wrong_result(
    A: T.Buffer((N, N), "float32"), B: T.Buffer((N, N), "float32"), C: T.Buffer((N, N), "float32")
):
    for i, j in T.grid(N, N):
        C[i, j] = A[i, j] + B[i, j]  # an add, not a matmul


@T.prim_func
def clobbers_an_input(
    A: T.Buffer((N, N), "float32"), B: T.Buffer((N, N), "float32"), C: T.Buffer((N, N), "float32")
):
    for i, j in T.grid(N, N):
        C[i, j] = T.float32(0)
        for k in range(N):
            C[i, j] = C[i, j] + A[i, k] * B[k, j]
    for i, j in T.grid(N, N):
        A[i, j] = T.float32(0)  # the product is right, but an input is overwritten
