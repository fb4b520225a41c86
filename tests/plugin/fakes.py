"""Source text for pytester projects: a fake engine (no browser) and small task files."""

FAKE_ENGINE_CONFTEST = '''
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_wasm_tune import tuning
from pytest_wasm_tune.artifacts.trial_journal import TrialEntry
from pytest_wasm_tune.measure.outcome import Outcome

LOG = Path(__file__).parent / "fake-tune.jsonl"


def fake_tune(task, bench, work_dir, options, progress=None):
    """Pretends to tune: 4x faster than the default, one trial log entry per trial."""
    if progress is not None and options.trials:
        progress(tuning.ProgressEvent(task.name, 40, 64, 4.33, 4.71, 12.3))
    database_dir, _, _ = tuning.database_paths(work_dir, task, bench.device.name)
    database_dir.mkdir(parents=True, exist_ok=True)
    with LOG.open("a") as log:
        log.write(json.dumps({
            "task": task.name, "trials": options.trials, "fresh": options.fresh,
            "timeout_s": options.measure.call_timeout_s, "work_dir": str(work_dir),
            "search_threads": options.search_threads,
        }) + "\\n")
    trial_log = tuple(
        TrialEntry(i, Outcome.MEASURED, 8, (0.001, 0.0011), None, i == 0, bench.device.name)
        for i in range(options.trials)
    )
    return tuning.TuneResult(
        task=task.name, browser=bench.device.name, flops=task.flops,
        best_s=task.flops / 4e9 if options.trials else task.flops / 1e9,
        default_s=task.flops / 1e9, trials=options.trials, measured=options.trials, errors=0,
        error_messages=(), correct=True, default_correct=True, default_error=None,
        database_dir=database_dir,
        best_trace=None, phases_s={"measure": 0.25}, wall_s=0.5, trial_log=trial_log,
    )


@pytest.fixture
def wasm_tune_workbench(wasm_tune_browser):
    browser = SimpleNamespace(name=wasm_tune_browser, version="123.0-fake")
    return SimpleNamespace(device=SimpleNamespace(name=wasm_tune_browser, browser=browser))


@pytest.fixture(autouse=True)
def _fake_engine(monkeypatch):
    monkeypatch.setattr(tuning, "tune", fake_tune)
'''

MATMUL_TASKS = """
import pytest
from tvm import te


def matmul(n):
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    return te.create_prim_func([A, B, C])


@pytest.mark.parametrize("n", [8, 16])
def test_matmul(n, wasm_tune):
    result = wasm_tune(matmul(n))
    assert result.correct
"""
