"""Faulty candidates measured through the real browser: traps, hangs, a killed browser, wrong
results. Each becomes a result with `error_msg`; the runner recovers and goes on."""

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import tvm
from tvm.s_tir.meta_schedule.arg_info import ArgInfo
from tvm.s_tir.meta_schedule.builder import BuilderInput
from tvm.s_tir.meta_schedule.runner import RunnerInput

from pytest_wasm_tune.kernels import wasm_target
from pytest_wasm_tune.local_stack import LocalStack
from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.measure.builder import WasmBatchBuilder
from pytest_wasm_tune.measure.phases import PhaseTimes
from pytest_wasm_tune.measure.runner import BrowserRunner, MeasureConfig
from pytest_wasm_tune.measure.verify import HostReference

from . import faulty_kernels

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MATMUL = tvm.IRModule({"main": matmul_prim_func(16)})


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    with LocalStack(stage_dir=tmp_path / "stage") as local:
        yield local


def _pipeline(
    stack: LocalStack, call_timeout_s: float = 20.0, push_bytes: bool = False
) -> tuple[WasmBatchBuilder, BrowserRunner]:
    phases = PhaseTimes()
    bench = stack.workbench
    builder = WasmBatchBuilder(bench.linker, bench.staging, phases)
    reference = HostReference(MATMUL, [((16, 16), "float32")] * 3)
    config = MeasureConfig(
        repeat=2, min_repeat_ms=5, call_timeout_s=call_timeout_s, push_bytes=push_bytes
    )
    runner = BrowserRunner(bench.device, bench.staging, reference, phases, config)
    return builder, runner


def _measure(builder: WasmBatchBuilder, runner: BrowserRunner, funcs: list) -> list:
    mods = [f if isinstance(f, tvm.IRModule) else tvm.IRModule({"main": f}) for f in funcs]
    built = builder.build([BuilderInput(mod, wasm_target()) for mod in mods])
    assert all(b.error_msg is None for b in built), [b.error_msg for b in built]
    args_info = ArgInfo.from_prim_func(MATMUL["main"])
    futures = runner.run([RunnerInput(b.artifact_path, "cpu", args_info) for b in built])
    return [f.result() for f in futures]


def test_trap_hang_and_wrong_result_become_errors_and_the_batch_goes_on(stack: LocalStack) -> None:
    builder, runner = _pipeline(stack)
    try:
        results = _measure(
            builder,
            runner,
            [
                faulty_kernels.wrong_result,  # first: nothing is verified yet, so it is checked
                faulty_kernels.out_of_bounds,
                MATMUL,
                faulty_kernels.never_returns,
                MATMUL,
                MATMUL,
            ],
        )
    finally:
        runner.close()
    errors = [r.error_msg for r in results]
    assert "wrong result" in errors[0] and "max abs diff" in errors[0]
    assert errors[2] is None and errors[4] is None and errors[5] is None
    assert "out of bounds" in errors[1]
    # (20 s: a tiny kernel's first calls in a new module once took ~14 s, web/README.md)
    assert "did not return within 20 s" in errors[3]
    assert all(
        len(r.run_secs) == 2 and min(r.run_secs) > 0
        for i, r in enumerate(results)
        if i in (2, 4, 5)
    ), [(r.run_secs, r.error_msg) for r in results]
    assert stack.device.restarts == 1, "only the hang needs a new browser"
    assert not list(stack.workbench.staging.directory.glob("*.wasm")), (
        "measured modules are removed"
    )


def test_a_killed_browser_is_restarted_and_measurement_continues(stack: LocalStack) -> None:
    builder, runner = _pipeline(stack, call_timeout_s=30)
    slow = tvm.IRModule({"main": matmul_prim_func(16)})
    pids = stack.browser.browser_pids()
    assert pids

    def kill_soon() -> None:
        deadline = time.monotonic() + 60
        while runner.measured < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_soon)
    try:
        killer.start()
        # enough work that the kill lands mid-batch
        first = _measure(builder, runner, [slow] * 40)
        killer.join()
        second = _measure(builder, runner, [slow] * 3)
    finally:
        runner.close()
    assert any(r.error_msg for r in first), "the kill must have hit a measurement"
    assert any(r.error_msg is None for r in first)
    assert all(r.error_msg is None for r in second), [r.error_msg for r in second]
    assert stack.device.restarts >= 1


def test_modules_can_be_pushed_over_the_session_instead_of_staged(stack: LocalStack) -> None:
    builder, runner = _pipeline(stack, push_bytes=True)
    try:
        results = _measure(builder, runner, [faulty_kernels.wrong_result, MATMUL])
    finally:
        runner.close()
    assert "wrong result" in results[0].error_msg
    assert results[1].error_msg is None and len(results[1].run_secs) == 2


def test_a_kernel_that_overwrites_an_input_fails_verification(stack: LocalStack) -> None:
    builder, runner = _pipeline(stack)
    try:
        clobbering = _measure(builder, runner, [faulty_kernels.clobbers_an_input])
        # the next session's reference starts from pristine inputs again
        correct = _measure(builder, runner, [MATMUL])
    finally:
        runner.close()
    assert "wrong result in argument 0" in clobbering[0].error_msg
    assert correct[0].error_msg is None
    assert [log.verified for log in runner.logs.values()] == [False, True]


def test_a_compile_over_its_bound_is_a_failed_candidate_and_the_next_one_builds(
    stack: LocalStack,
) -> None:
    from tvm import te, topi

    from pytest_wasm_tune.measure.outcome import BUILD_TIMED_OUT, Outcome, classify

    data = te.placeholder((1, 64, 56, 56), name="data")
    weight = te.placeholder((64, 64, 3, 3), name="weight")
    conv = topi.nn.conv2d_nchw(data, weight, stride=1, padding=1, dilation=1)
    slow = tvm.IRModule({"main": te.create_prim_func([data, weight, conv])})
    bench = stack.workbench
    strict = WasmBatchBuilder(bench.linker, bench.staging, PhaseTimes(), timeout_s=0.01)
    started = time.monotonic()
    (timed_out,) = strict.build([BuilderInput(slow, wasm_target())])
    assert timed_out.error_msg.startswith(BUILD_TIMED_OUT), timed_out.error_msg
    assert classify(timed_out.error_msg, None) is Outcome.BUILD_TIMEOUT
    assert time.monotonic() - started < 20, "the bound ends the compile, not the compile itself"
    builder, runner = _pipeline(stack)
    try:
        (result,) = _measure(builder, runner, [MATMUL])
    finally:
        runner.close()
    assert result.error_msg is None and len(result.run_secs) == 2


def test_the_browser_runs_on_its_own_cpu(stack: LocalStack) -> None:
    plan = stack.workbench.cpus
    if not plan.separated:
        pytest.skip(f"one CPU only: {plan.describe()}")
    pids = stack.browser.browser_pids()
    assert pids, "the browser is running"
    import psutil

    for pid in pids:
        process = psutil.Process(pid)
        for member in [process, *process.children(recursive=True)]:
            assert frozenset(member.cpu_affinity()) == plan.measure, member.name()
