"""Firefox (SpiderMonkey) and WebKitGTK (JavaScriptCore) compute and time a kernel like
Chromium, and so does the Android emulation profile; tests/plugin/test_end_to_end.py tunes a
task file in all three engines."""

from collections.abc import Iterator

import numpy as np
import pytest

from pytest_wasm_tune.browsers.registry import LOCAL_BROWSERS
from pytest_wasm_tune.kernels import build_wasm
from pytest_wasm_tune.local_stack import LocalStack
from pytest_wasm_tune.main_job import matmul_prim_func

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N = 64


@pytest.fixture(scope="module", params=["firefox", "webkit", "android-emulation"])
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
        # the emulation profile looks like a phone to the page, and says it is emulation
        assert ("Android" in info["userAgent"]) is kind.emulation
        args = [session.upload(a), session.upload(b), session.empty((N, N), "float32")]
        session.run("main", args)
        np.testing.assert_allclose(session.download(args[2]), a @ b, rtol=1e-4, atol=1e-4)
        measurement = session.measure("main", args, repeat=3, min_repeat_ms=10)
        assert len(measurement.times_s) == 3 and measurement.median_s > 0
