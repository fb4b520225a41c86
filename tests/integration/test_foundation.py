"""The foundation path: a kernel built for wasm32, run and timed in headless Chromium through
TVM's tracker → TVM's websocket proxy → the tvmjs RPC server in our page."""

import time

import numpy as np
import pytest

from pytest_wasm_tune.kernels import build_wasm
from pytest_wasm_tune.local_stack import LocalStack
from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.services import ProxyService

pytestmark = pytest.mark.integration


def test_matmul_256_runs_correctly_and_is_timed_in_chromium(local_stack: LocalStack) -> None:
    n = 256
    built = build_wasm(matmul_prim_func(n), local_stack.linker)
    assert built.wasm[:4] == b"\0asm"
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (n, n)).astype("float32")
    b = rng.uniform(-1, 1, (n, n)).astype("float32")
    with local_stack.session(built.wasm) as session:
        info = session.info()
        assert info["crossOriginIsolated"] is True, "COOP/COEP must give the page a fine timer"
        assert info["timerResolution_ms"] <= 0.1
        args = [session.upload(a), session.upload(b), session.empty((n, n), "float32")]
        session.run("main", args)
        np.testing.assert_allclose(session.download(args[2]), a @ b, rtol=1e-4, atol=1e-4)

        measurement = session.measure("main", args, repeat=3, min_repeat_ms=20)
        assert len(measurement.times_s) == 3
        assert measurement.number >= 1
        # one repeat lasts at least the floor (the page calibrated `number`)
        assert measurement.number * measurement.median_s >= 0.02 * 0.9
        started = time.perf_counter()
        session.run("main", args)
        wall_s = time.perf_counter() - started
        # the page timer measures the kernel alone: below the host's wall time of a remote call
        assert 0 < measurement.median_s < wall_s


def _vectorized_matmul(n: int):
    import tvm
    from tvm import s_tir

    sch = s_tir.Schedule(tvm.IRModule({"main": matmul_prim_func(n)}))
    i, j, k = sch.get_loops(sch.get_sblock("C"))
    sch.reorder(i, k, j)
    sch.vectorize(sch.split(j, [None, 4])[1])
    return sch.mod


def test_a_relaxed_simd_kernel_uses_fused_multiply_adds_and_is_correct(
    local_stack: LocalStack,
) -> None:
    import tvm

    from pytest_wasm_tune.kernels import as_system_lib_module, wasm_target

    mod = _vectorized_matmul(64)
    lib = tvm.compile(as_system_lib_module(mod), target=wasm_target(relaxed_simd=True))
    assert "f32x4.relaxed_madd" in lib.mod.inspect_source("asm")
    built = build_wasm(mod, local_stack.linker, relaxed_simd=True)
    rng = np.random.default_rng(5)
    a, b = (rng.uniform(-1, 1, (64, 64)).astype("float32") for _ in range(2))
    with local_stack.session(built.wasm) as session:
        args = [session.upload(a), session.upload(b), session.empty((64, 64), "float32")]
        session.run("main", args)
        np.testing.assert_allclose(session.download(args[2]), a @ b, rtol=1e-4, atol=1e-4)


def test_tensors_kept_after_their_session_do_not_block_the_next_one(
    local_stack: LocalStack,
) -> None:
    built = build_wasm(matmul_prim_func(16), local_stack.linker)
    with local_stack.session(built.wasm) as session:
        kept = [session.empty((16, 16), "float32")]  # still referenced when the session ends
    started = time.perf_counter()
    with local_stack.session(built.wasm) as session:
        assert session.info()["crossOriginIsolated"] is True
    # the page ended the first session itself: no wait for the 30 s open timeout and a reload
    assert time.perf_counter() - started < 10
    del kept  # freed on a closed session: TVM's RPC client drops it without an error


def test_fill_random_writes_device_tensors(local_stack: LocalStack) -> None:
    built = build_wasm(matmul_prim_func(16), local_stack.linker)
    with local_stack.session(built.wasm) as session:
        tensors = [session.empty((16, 16), "float32") for _ in range(2)]
        session.fill_random(7, tensors)
        first, second = (session.download(t) for t in tensors)
        assert np.all((first >= -1) & (first < 1)) and first.std() > 0.3
        assert not np.array_equal(first, second), "each tensor gets its own stream"
        session.fill_random(7, tensors[:1])
        np.testing.assert_array_equal(session.download(tensors[0]), first)


def test_copy_restores_tensors_from_their_twins_in_the_page(local_stack: LocalStack) -> None:
    from pytest_wasm_tune.errors import KernelError

    built = build_wasm(matmul_prim_func(16), local_stack.linker)
    a = np.arange(256, dtype="float32").reshape(16, 16)
    b = -a
    with local_stack.session(built.wasm) as session:
        sources = [session.upload(a), session.upload(b)]
        targets = [session.empty((16, 16), "float32") for _ in range(2)]
        session.copy(targets, sources)
        np.testing.assert_array_equal(session.download(targets[0]), a)
        np.testing.assert_array_equal(session.download(targets[1]), b)
        with pytest.raises(KernelError, match="cannot copy"):
            session.copy([session.empty((8, 8), "float32")], sources[:1])


def test_a_kernel_error_is_reported_as_a_value(local_stack: LocalStack) -> None:
    from pytest_wasm_tune.errors import KernelError

    built = build_wasm(matmul_prim_func(16), local_stack.linker)
    with local_stack.session(built.wasm) as session:
        args = [session.empty((16, 16), "float32") for _ in range(3)]
        with pytest.raises(KernelError, match="no_such_kernel"):
            session.measure("no_such_kernel", args)
        session.run("main", args)  # the session is still usable


def test_page_reconnects_when_the_proxy_restarts() -> None:
    with LocalStack() as stack:
        ports = (stack.proxy.rpc_port, stack.proxy.web_port)
        stack.proxy.__exit__(None, None, None)
        assert wait_for(lambda: stack.browser.page_state() != "ready", 10)
        restarted = ProxyService(
            stack.tracker.address,
            allowed_origins=[stack.page_server.origin],
            rpc_port=ports[0],
            web_port=ports[1],
        )
        with restarted:
            # same page, no reload: it must reconnect and register again by itself
            stack.browser.wait_ready()
            built = build_wasm(matmul_prim_func(8), stack.linker)
            with stack.session(built.wasm) as session:
                session.run("main", [session.empty((8, 8), "float32") for _ in range(3)])


def wait_for(check, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False
