"""`python -m pytest_wasm_tune matmul`: build, run, verify and time an untuned matmul in
headless Chromium (a smoke test of the whole toolchain and browser path)."""

from __future__ import annotations

import argparse
import time

import numpy as np

from .kernels import build_wasm
from .local_stack import LocalStack


def matmul_prim_func(n: int):
    from tvm import te

    a = te.placeholder((n, n), name="A")
    b = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    c = te.compute((n, n), lambda i, j: te.sum(a[i, k] * b[k, j], axis=k), name="C")
    return te.create_prim_func([a, b, c])


def run_main_job(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_wasm_tune matmul")
    parser.add_argument("--n", type=int, default=256, help="matmul size (default: 256)")
    args = parser.parse_args(argv)
    n = args.n
    with LocalStack() as stack:
        built = build_wasm(matmul_prim_func(n), stack.linker)
        print(
            f"built {n}x{n}x{n} matmul: compile {built.compile_s:.2f} s, "
            f"export+link {built.link_s:.2f} s"
        )
        rng = np.random.default_rng(0)
        a = rng.uniform(-1, 1, (n, n)).astype("float32")
        b = rng.uniform(-1, 1, (n, n)).astype("float32")
        started = time.perf_counter()
        with stack.session(built.wasm) as session:
            opened = time.perf_counter() - started
            args_ = [session.upload(a), session.upload(b), session.empty((n, n), "float32")]
            session.run("main", args_)
            np.testing.assert_allclose(session.download(args_[2]), a @ b, rtol=1e-4, atol=1e-4)
            measurement = session.measure("main", args_)
        gflops = 2 * n**3 / measurement.median_s / 1e9
        print(
            f"Chromium {stack.browser.version}: untuned {n}^3 float32 matmul "
            f"{measurement.median_s * 1e3:.3f} ms (spread {measurement.spread:.1%}, "
            f"number={measurement.number}) = {gflops:.2f} GFLOPS; session open {opened:.2f} s; "
            "result matches numpy"
        )
    return 0
