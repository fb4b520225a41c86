"""A run's report built from real result structures (TuneResult, ModelResult), for the report
tests: two tasks in two browsers, one of them warm-started, and a ResNet-18 headline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_wasm_tune.artifacts.model_result import ModelResult
from pytest_wasm_tune.artifacts.report import RunRecorder
from pytest_wasm_tune.artifacts.results import result_to_dict
from pytest_wasm_tune.artifacts.trial_journal import TrialEntry
from pytest_wasm_tune.measure.outcome import Outcome
from pytest_wasm_tune.stats import Spread
from pytest_wasm_tune.tuning import FinalFigure, SearchBatch, TuneResult

FLOPS = 2 * 128**3
TRIALS = 24


def trial_log(browser: str, fastest_s: float, trials: int = TRIALS) -> tuple[TrialEntry, ...]:
    """Trials getting faster towards `fastest_s`, every fifth one a build error."""
    entries = []
    for index in range(trials):
        if index % 5 == 4:
            entries.append(TrialEntry(index, Outcome.BUILD_ERROR, error="wasm build failed: x"))
            continue
        per_call = fastest_s * (1 + 3.0 / (1 + index))
        entries.append(
            TrialEntry(
                index, Outcome.MEASURED, 4, (per_call, per_call * 1.02, per_call * 0.99),
                browser=browser, wall_time=1000.0 + 0.6 * index,
            )
        )  # fmt: skip
    return tuple(entries)


def finalists(default_s: float, best_s: float) -> tuple[FinalFigure, ...]:
    figures = []
    for label, median_s in (
        ("default", default_s),
        ("best", best_s),
        ("runner-up 1", best_s * 1.1),
    ):
        rounds = tuple(median_s * (1 + 0.01 * (k % 4) - 0.015) for k in range(9))
        figures.append(FinalFigure(label, Spread.of(rounds), True, None, None, None, rounds))
    return tuple(figures)


def tune_result(task: str, browser: str, best_s: float, **extra: Any) -> TuneResult:
    finals = finalists(best_s * 12, best_s)
    return TuneResult(
        task=task, browser=browser, flops=FLOPS, best_s=finals[1].median_s,
        default_s=finals[0].median_s, trials=TRIALS, measured=20, errors=4,
        error_messages=("wasm build failed: x",), correct=True, default_correct=True,
        default_error=None, database_dir=Path("/tmp/db"), best_trace="trace", phases_s={"build": 1.0},
        wall_s=20.0, trial_log=trial_log(browser, best_s), best_spread=finals[1].spread,
        default_spread=finals[0].spread, finalists=finals, search_best_s=best_s,
        batches=(SearchBatch(TRIALS, 20.0, 5.0, 10.0, 5.0, 1.0, best_s),), **extra,
    )  # fmt: skip


def model_record() -> dict[str, Any]:
    record = ModelResult(
        "resnet-18", "chromium", "156.0", Spread.of([1.50, 1.52, 1.51, 1.49, 1.53]),
        Spread.of([0.200, 0.210, 0.205, 0.190, 0.220]), 18, 20, "/tmp/resnet-18.wasm",
    ).to_record()  # fmt: skip
    record["peers"] = {
        "source": "/tmp/bench-results.json", "measured": "2026-12-02 10:00",
        "ms": {"tfjs": {"median": 124.5, "q1": 120.0, "q3": 130.0, "n": 9},
               "ort": {"median": 140.6, "q1": 139.0, "q3": 150.0, "n": 9}},
    }  # fmt: skip
    return record


def warm_summary() -> dict[str, Any]:
    cold = [
        {"outcome": e.outcome.value, "times_s": list(e.times_s), "wall_time": e.wall_time}
        for e in trial_log("firefox", 0.002, 40)
    ]
    savings = {
        "fraction": 0.9,
        "target_gflops": 1.0,
        "cold_trials": 30,
        "warm_trials": 4,
        "saved": 26,
    }
    return {
        "dir": "/tmp/other",
        "seeds": 4,
        "sources": ["/tmp/other/x"],
        "cold": {"dir": "/tmp/other/x", "trial_log": cold},
        "savings": savings,
    }


def sample_report() -> dict[str, Any]:
    recorder = RunRecorder()
    results = [
        tune_result("matmul128", "chromium", 0.0008, warm_start=warm_summary()),
        tune_result("matmul128", "firefox", 0.0011),
        tune_result(
            "conv",
            "chromium",
            0.0020,
            siblings={
                "seeds": 3,
                "sources": ["conv_56-0123456789ab"],
                "measured": 3,
                "best_seed_search_gflops": 41.25,
            },
        ),
    ]
    for result in results:
        nodeid = f"tasks/test_x.py::test_{result.task}[{result.browser}]"
        recorder.add_result(
            result_to_dict(result, nodeid=nodeid, mode="tune", browser_version="156.0")
        )
        recorder.add_outcome(nodeid, "call", "passed")
    recorder.add_model("tasks/test_resnet18.py::test_resnet18[chromium]", model_record())
    environment = {
        "cpu": {"model": "AMD EPYC 9B14", "count": 2, "family": "25", "model_number": "17"},
        "browsers": [{"name": "chromium", "version": "156.0"}], "tvm": "0.27.0", "python": "3.11",
    }  # fmt: skip
    report = recorder.build({"mode": "tune", "trials": TRIALS}, environment, "session")
    report["run"] = {"id": "20261202T100000-abc", "git": {"revision": "abc123", "dirty": False}}
    return report
