"""MetaSchedule tuning end to end in headless Chromium, with persistence and resume."""

from pathlib import Path

import numpy as np
import pytest
from tvm.s_tir.meta_schedule.database import JSONDatabase

from pytest_wasm_tune.artifacts.trial_journal import TrialJournal
from pytest_wasm_tune.kernels import build_wasm
from pytest_wasm_tune.local_stack import LocalStack
from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.measure.builder import candidate_key
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
    # the figures come from the final re-measurement: default, best and 2 runners-up, side by
    # side over several rounds, each verified
    labels = [figure.label for figure in result.finalists]
    assert labels == ["default", "best", "runner-up 1", "runner-up 2"]
    assert all(f.verified and f.spread.n == TuneOptions().final_rounds for f in result.finalists)
    winner = min(result.finalists[1:], key=lambda f: f.median_s)
    assert result.best_s == winner.median_s == result.best_spread.median
    assert result.default_s == result.finalists[0].median_s < float("inf")
    assert result.best_s <= result.default_s
    assert result.best_gflops == pytest.approx(task.flops / result.best_s / 1e9)
    search_medians = sorted(float(np.median([float(s) for s in r.run_secs])) for r in records)
    assert [f.search_median_s for f in result.finalists[1:]] == pytest.approx(search_medians[:3])
    assert result.search_best_s == pytest.approx(search_medians[0])
    # every trial is journalled with its outcome; the batches' wall time adds up
    assert sum(result.outcomes.values()) == 16 and result.outcomes.get("measured", 0) > 0
    assert len(TrialJournal(result.database_dir).read()) == 16
    assert [batch.trials for batch in result.batches] == [8, 8]
    for batch in result.batches:
        parts = batch.generate_s + batch.builder_s + batch.join_s
        assert parts == pytest.approx(batch.wall_s) and 0 < batch.kernel_s < batch.wall_s
    for phase in ("build", "link", "stage", "session", "measure", "verify", "search"):
        assert result.phases_s[phase] > 0 and result.search_phases_s[phase] > 0
    for phase in ("final_session", "final_measure", "final_verify"):
        assert result.phases_s[phase] > 0 and phase not in result.search_phases_s
    best_record = next(r for r in records if str(r.trace) == result.best_trace)

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
