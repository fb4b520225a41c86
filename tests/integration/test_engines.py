"""Every local engine of the farm runs the whole path: Firefox (SpiderMonkey), WebKitGTK
(JavaScriptCore) and the Android emulation profile check and tune a kernel like Chromium."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pytest_wasm_tune.browsers.registry import LOCAL_BROWSERS
from pytest_wasm_tune.kernels import build_wasm
from pytest_wasm_tune.local_stack import LocalStack
from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.tuning import TuneOptions, TuneTask, tune

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N = 64


@pytest.fixture(scope="module", params=["firefox", "webkit"])
def engine_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    stage = tmp_path_factory.mktemp(f"stage-{request.param}")
    with LocalStack(request.param, stage_dir=stage, relaxed_simd=True) as stack:
        yield stack


def test_each_engine_computes_and_times_a_kernel(engine_stack: LocalStack) -> None:
    kind = LOCAL_BROWSERS[engine_stack.browser_name]
    # relaxed SIMD was asked for: engines without it measure SIMD128 builds, and say so
    assert engine_stack.workbench.relaxed_simd is kind.relaxed_simd
    assert engine_stack.browser.version, "the record names the engine's version"
    built = build_wasm(matmul_prim_func(N), engine_stack.linker)
    rng = np.random.default_rng(5)
    a, b = (rng.uniform(-1, 1, (N, N)).astype("float32") for _ in range(2))
    with engine_stack.session(built.wasm) as session:
        info = session.info()
        assert info["crossOriginIsolated"] is True
        assert 0 < info["timerResolution_ms"] <= 0.1, "cross-origin isolation gives a fine timer"
        args = [session.upload(a), session.upload(b), session.empty((N, N), "float32")]
        session.run("main", args)
        np.testing.assert_allclose(session.download(args[2]), a @ b, rtol=1e-4, atol=1e-4)
        measurement = session.measure("main", args, repeat=3, min_repeat_ms=10)
        assert len(measurement.times_s) == 3 and measurement.median_s > 0


def test_each_engine_tunes_a_kernel_into_its_own_database(
    engine_stack: LocalStack, tmp_path: Path
) -> None:
    task = TuneTask.from_prim_func(matmul_prim_func(N), f"matmul{N}")
    result = tune(task, engine_stack.workbench, tmp_path, TuneOptions(trials=8, trials_per_iter=8))
    assert result.browser == engine_stack.browser_name
    assert result.trials == 8 and result.measured > 0
    assert result.correct and result.best_s is not None and result.best_s <= result.default_s
    assert result.database_dir.name == engine_stack.workbench.database_name
