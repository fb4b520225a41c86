"""MetaSchedule tuning end to end in headless Chromium, with persistence and resume."""

from pathlib import Path

import numpy as np
import pytest
from tvm.s_tir.meta_schedule.database import JSONDatabase

from pytest_wasm_tune.kernels import build_wasm
from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.measure.builder import candidate_key
from pytest_wasm_tune.testing import LocalStack
from pytest_wasm_tune.tuning import ProgressEvent, TuneOptions, TuneTask, database_paths, tune

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N = 128


def _task() -> TuneTask:
    return TuneTask.from_prim_func(matmul_prim_func(N), f"matmul{N}")


def _stock_records(work_dir: Path, task: TuneTask) -> list:
    _, workload_path, records_path = database_paths(work_dir, task, "chromium")
    return JSONDatabase(str(workload_path), str(records_path)).get_all_tuning_records()


def test_tune_small_matmul(local_stack: LocalStack, tmp_path: Path) -> None:
    task = _task()
    events: list[ProgressEvent] = []
    result = tune(
        task,
        local_stack.workbench,
        tmp_path,
        TuneOptions(trials=16, trials_per_iter=8, seed=1),
        events.append,
    )

    records = _stock_records(tmp_path, task)
    assert len(records) == result.trials == 16
    assert [e.trials_done for e in events] == [8, 16]
    assert result.correct and result.default_correct
    assert result.best_s is not None and result.best_s <= result.default_s
    assert result.best_gflops == pytest.approx(task.flops / result.best_s / 1e9)
    best_record = min(records, key=lambda r: float(np.median([float(s) for s in r.run_secs])))
    assert float(np.median([float(s) for s in best_record.run_secs])) == pytest.approx(
        result.best_s
    )
    for phase in ("build", "link", "stage", "session", "measure", "verify", "search"):
        assert result.phases_s[phase] > 0

    # the best candidate, rebuilt from its database record, agrees with numpy in the browser
    built = build_wasm(best_record.as_measure_candidate().sch.mod, local_stack.linker)
    rng = np.random.default_rng(3)
    a, b = (rng.uniform(-1, 1, (N, N)).astype("float32") for _ in range(2))
    with local_stack.session(built.wasm) as session:
        args = [session.upload(a), session.upload(b), session.empty((N, N), "float32")]
        session.run("main", args)
        np.testing.assert_allclose(session.download(args[2]), a @ b, rtol=1e-4, atol=1e-4)


def test_an_interrupted_run_resumes_without_measuring_a_candidate_twice(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    task = _task()

    def interrupt_after_first_batch(event: ProgressEvent) -> None:
        raise RuntimeError("stop after the first batch")  # e.g. the machine goes away

    with pytest.raises(RuntimeError, match="stop after the first batch"):
        tune(
            task,
            local_stack.workbench,
            tmp_path,
            TuneOptions(trials=16, trials_per_iter=8, seed=2),
            interrupt_after_first_batch,
        )
    first = _stock_records(tmp_path, task)
    assert len(first) == 8, "the first batch was recorded before the interruption"

    resumed = tune(
        task, local_stack.workbench, tmp_path, TuneOptions(trials=16, trials_per_iter=8, seed=2)
    )
    records = _stock_records(tmp_path, task)
    keys = [candidate_key(r.as_measure_candidate().sch.mod) for r in records]
    assert len(keys) == len(set(keys)), "no candidate is recorded (or measured) twice"
    assert len(records) == 16, "the budget is per task: the rerun measures only what is left"
    assert resumed.measured == resumed.trials == 8
    assert resumed.correct
    assert {candidate_key(r.as_measure_candidate().sch.mod) for r in first} <= set(keys)
