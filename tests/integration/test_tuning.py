"""MetaSchedule tuning end to end in headless Chromium, with persistence, resume and a warm
start from an earlier run's databases (its seeds re-measured here before they are committed)."""

import shutil
import statistics
from pathlib import Path

import numpy as np
import pytest
from tvm.s_tir.meta_schedule.database import JSONDatabase

from pytest_wasm_tune.artifacts.html_report import render_html
from pytest_wasm_tune.artifacts.report import RunRecorder
from pytest_wasm_tune.artifacts.results import result_to_dict
from pytest_wasm_tune.artifacts.trial_journal import TrialJournal
from pytest_wasm_tune.kernels import build_wasm, wasm_target
from pytest_wasm_tune.local_stack import LocalStack
from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.measure.builder import candidate_key
from pytest_wasm_tune.measure.outcome import Outcome
from pytest_wasm_tune.siblings import sibling_seeds
from pytest_wasm_tune.tuning import (
    ProgressEvent,
    TuneOptions,
    TuneResult,
    TuneTask,
    database_paths,
    tune,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N = 128
SEEDS = 4


def _task() -> TuneTask:
    return TuneTask.from_prim_func(matmul_prim_func(N), f"matmul{N}")


def _stock_records(work_dir: Path, task: TuneTask) -> list:
    _, workload_path, records_path = database_paths(work_dir, task, "chromium")
    return JSONDatabase(str(workload_path), str(records_path)).get_all_tuning_records()


@pytest.fixture(scope="module")
def cold_run(
    local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, TuneResult, list[ProgressEvent]]:
    """One 16-trial run from scratch, shared by the tests that inspect it or start from it."""
    work_dir = tmp_path_factory.mktemp("cold")
    events: list[ProgressEvent] = []
    options = TuneOptions(trials=16, trials_per_iter=8, seed=1)
    return work_dir, tune(_task(), local_stack.workbench, work_dir, options, events.append), events


def test_tune_small_matmul(
    local_stack: LocalStack, cold_run: tuple[Path, TuneResult, list[ProgressEvent]]
) -> None:
    task = _task()
    tmp_path, result, events = cold_run

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
    journal = TrialJournal(result.database_dir).read()
    assert len(journal) == 16
    # Chromium: every kernel was compiled with V8's optimizing tier before it was timed
    timed = [entry for entry in journal if entry.times_s]
    assert timed and all(entry.tier == "optimized" for entry in timed), {e.tier for e in timed}
    assert all(entry.warmup_ms > 0 and entry.untimed_ms >= 0 for entry in timed)
    assert [batch.trials for batch in result.batches] == [8, 8]
    for batch in result.batches:
        parts = batch.generate_s + batch.builder_s + batch.join_s
        assert parts == pytest.approx(batch.wall_s) and 0 < batch.kernel_s < batch.wall_s
        # the browser's busy time holds the timed calls; the overhead's parts add up
        assert batch.kernel_s < batch.browser_s < batch.wall_s
        overhead = batch.overhead_parts_s
        assert sum(overhead.values()) == pytest.approx(batch.wall_s - batch.kernel_s)
        assert min(overhead.values()) >= 0 and overhead["warmup"] > 0, overhead
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


def test_pipelined_tuning_times_chunks_while_the_next_ones_compile(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    cpus = local_stack.workbench.cpus
    if cpus is None or not cpus.separated:
        pytest.skip("pipelining needs a CPU for the browser and another for compiles")
    task = TuneTask.from_prim_func(matmul_prim_func(96), "matmul96")
    options = TuneOptions(trials=16, trials_per_iter=16, seed=2, pipeline=True)
    result = tune(task, local_stack.workbench, tmp_path, options)
    assert result.correct and result.trials == 16 and result.errors == 0
    journal = TrialJournal(result.database_dir).read()
    timed = [entry for entry in journal if entry.times_s]
    assert len(timed) >= 8 and all(entry.tier == "optimized" for entry in timed)
    (batch,) = result.batches
    # the browser was busy before the builder returned: it timed the first chunk (8 candidates)
    # while the second one compiled
    assert batch.browser_s > batch.join_s + 0.1, batch
    assert sum(batch.overhead_parts_s.values()) == pytest.approx(batch.wall_s - batch.kernel_s)
    assert min(batch.overhead_parts_s.values()) >= 0, batch


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


def test_warm_start_measures_the_best_seeds_here_first_and_saves_trials(
    local_stack: LocalStack,
    cold_run: tuple[Path, TuneResult, list[ProgressEvent]],
    tmp_path: Path,
) -> None:
    cold_dir, cold, _ = cold_run
    task = _task()
    options = TuneOptions(
        trials=16, trials_per_iter=8, seed=5, warm_start_dir=cold_dir, warm_start_seeds=SEEDS
    )
    warm = tune(task, local_stack.workbench, tmp_path, options)

    summary = warm.warm_start
    assert summary["seeds"] == SEEDS and summary["sources"] == [str(cold.database_dir)]
    # the seeds are the cold run's fastest candidates, and the warm run's first trials
    cold_measured = [
        e for e in TrialJournal(cold.database_dir).read() if e.outcome is Outcome.MEASURED
    ]
    fastest = sorted(cold_measured, key=lambda e: statistics.median(e.times_s))[:SEEDS]
    seeds = warm.trial_log[:SEEDS]
    assert {e.key for e in seeds} == {e.key for e in fastest}
    # ... measured here, not copied: fresh timings, written to this run's own database
    cold_times = {e.key: e.times_s for e in fastest}
    assert all(e.times_s and e.times_s != cold_times[e.key] for e in seeds)
    assert all(e.wall_time > max(c.wall_time for c in cold_measured) for e in seeds)
    assert len(_stock_records(tmp_path, task)) == warm.trials == 16
    # the search went on after the seeds (evolutionary search, bred from them) within budget
    assert len({e.key for e in warm.trial_log}) == 16 and warm.correct

    saved = summary["savings"]
    print(
        f"warm start: 90% of the cold best ({saved['target_gflops']:.2f} GFLOPS) after "
        f"{saved['cold_trials']} cold trials, {saved['warm_trials']} warm ones "
        f"(saved {saved['saved']}); cold best {cold.best_gflops:.2f}, warm {warm.best_gflops:.2f}"
    )
    assert saved["cold_trials"] >= 1 and saved["fraction"] == 0.9

    # the report of both runs shows the warm run's curve beside the cold one
    recorder = RunRecorder()
    for result, name in ((cold, "cold"), (warm, "warm")):
        recorder.add_result(result_to_dict(result, nodeid=f"t.py::{name}", mode="tune"))
    page = render_html(recorder.build({"mode": "tune"}, {}, "session"))
    assert page.count('data-chart="curve"') == 2 and "Warm start" in page
    measured = sum(1 for e in warm.trial_log if e.outcome is Outcome.MEASURED)
    assert f'data-chart="curve" data-points="{measured}"' in page


def test_sibling_seeds_start_another_size_from_the_tuned_ones_schedules(
    local_stack: LocalStack,
    cold_run: tuple[Path, TuneResult, list[ProgressEvent]],
    tmp_path: Path,
) -> None:
    cold_dir, cold, _ = cold_run
    work_dir = tmp_path / "databases"
    shutil.copytree(cold_dir, work_dir)
    task = TuneTask.from_prim_func(matmul_prim_func(96), "matmul96")
    db_dir, _, _ = database_paths(work_dir, task, "chromium")
    expected = sibling_seeds(task.mod, wasm_target(), db_dir, SEEDS)
    assert {seed.source for seed in expected} == {
        work_dir / cold.database_dir.relative_to(cold_dir)
    }

    options = TuneOptions(trials=8, trials_per_iter=8, seed=3, sibling_seeds=SEEDS)
    result = tune(task, local_stack.workbench, work_dir, options)

    # the first batch measured the matmul128's fastest schedules, refitted to 96, here
    assert result.siblings is not None and result.siblings["seeds"] == SEEDS
    assert result.siblings["sources"] == [cold.database_dir.parent.name]
    assert {e.key for e in result.trial_log[:SEEDS]} == {seed.key for seed in expected}
    assert result.siblings["measured"] == SEEDS and result.siblings["best_seed_search_gflops"]
    assert len({e.key for e in result.trial_log}) == result.trials == 8 and result.correct
    assert len(_stock_records(work_dir, task)) == 8
