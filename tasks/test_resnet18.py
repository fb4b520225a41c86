"""ResNet-18 (Relax, random weights): every MetaSchedule task extracted from it is an item, and
a final item compiles the whole model with the tuned databases to `resnet-18.wasm` (untuned:
`resnet-18-untuned.wasm`), runs it in the browser through the Relax VM and compares it with the
host build."""

from functools import cache

import numpy as np
import pytest

from pytest_wasm_tune.artifacts.model_result import MODEL_PROPERTY, ModelResult, headline
from pytest_wasm_tune.kernels import wasm_target
from pytest_wasm_tune.models.compile import compile_host, compile_model_timed, run_host
from pytest_wasm_tune.models.resnet18 import INPUT_SHAPE, resnet18_for_compile
from pytest_wasm_tune.models.run import latency_in_browser, run_in_browser
from pytest_wasm_tune.models.tasks import extract_tasks, trial_scales
from pytest_wasm_tune.rpc_session import stage_reference
from pytest_wasm_tune.tuning import TuneTask, database_paths


@cache
def model():
    return resnet18_for_compile(seed=0)


@cache
def tasks():
    return extract_tasks(model(), wasm_target())


@cache
def scales() -> dict[str, float]:
    """Trials per task: half the model's budget shared equally, half by share of its FLOPs."""
    return trial_scales(tasks())


def task_name(task) -> str:
    return f"resnet18_{task.name}"


@pytest.mark.parametrize("task", tasks(), ids=[t.name for t in tasks()])
def test_resnet18_task(task, wasm_tune):
    result = wasm_tune(task.mod, name=task_name(task), trials_scale=scales()[task.name])
    assert result.correct


def _database_dirs(config, bench) -> list:
    """The task items' databases that hold records (tuned on this browser and target)."""
    dirs = []
    for task in tasks():
        tune_task = TuneTask.from_prim_func(task.mod, task_name(task))
        directory, _, records = database_paths(config.databases_dir, tune_task, bench.database_name)
        if records.exists():
            dirs.append(directory)
    return dirs


def test_resnet18_end_to_end(
    wasm_tune_config, wasm_tune_browser, wasm_tune_workbench, record_property
):
    """Depends on the task items above having run first (they are collected before it).

    `resnet-18.wasm` is the model with the tuned schedules applied; it is written and timed only
    when database records were applied to at least one function. Otherwise (the check, without
    --wasm-tune, or no records) only the untuned model runs and `resnet-18-untuned.wasm` is
    written: nothing untuned is called tuned."""
    bench = wasm_tune_workbench
    db_dirs = _database_dirs(wasm_tune_config, bench) if wasm_tune_config.enabled else []
    simd = {"relaxed_simd": bench.relaxed_simd}
    builds = {"untuned": compile_model_timed(model(), None, None, bench.linker, **simd)}
    if db_dirs:
        tuned = compile_model_timed(model(), None, db_dirs, bench.linker, **simd)
        if tuned.tuned_functions:
            builds["tuned"] = tuned
    applied = len(builds["tuned"].tuned_functions) if "tuned" in builds else 0
    name = "resnet-18.wasm" if "tuned" in builds else "resnet-18-untuned.wasm"
    out_path = wasm_tune_config.artifacts_dir / name
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(builds.get("tuned", builds["untuned"]).wasm)

    x = np.random.default_rng(0).uniform(-1, 1, INPUT_SHAPE).astype("float32")
    expected = run_host(compile_host(model()), [x])
    latency = {}
    for label, compiled in builds.items():
        sha = bench.staging.publish(compiled.wasm)
        try:
            with bench.device.session(stage_reference(sha), call_timeout_s=600) as session:
                out = run_in_browser(session, [x])
                np.testing.assert_allclose(out, expected, rtol=1e-3, atol=1e-3)
                latency[label], _ = latency_in_browser(session, [x], timeout_s=600)
        finally:
            bench.staging.release(sha)
    browser = getattr(bench.device, "browser", None)
    result = ModelResult(
        "resnet-18",
        wasm_tune_browser,
        str(getattr(browser, "version", "")),
        latency["untuned"],
        latency.get("tuned"),
        applied,
        len(tasks()),
        str(out_path),
    )
    record_property(MODEL_PROPERTY, result.to_record())
    record_property("resnet18_untuned_ms", round(latency["untuned"].median * 1e3, 2))
    record_property("resnet18_tuned_functions", applied)
    if result.tuned is not None:
        record_property("resnet18_tuned_ms", round(result.tuned.median * 1e3, 2))
        record_property("resnet18_speedup", round(result.speedup or 0, 2))
    elif not wasm_tune_config.enabled:
        print("\n(check: no --wasm-tune, so no tuned schedules)")
    print(f"\n{headline(result.to_record())}; wrote {out_path}")
