"""One real tuning run through pytest: tracker, proxy, page server, emcc, headless Chromium."""

import json
import re
import statistics
from pathlib import Path

import pytest

from pytest_wasm_tune import defaults
from pytest_wasm_tune.config import SETTINGS
from pytest_wasm_tune.toolchain.cache import cache_root

pytest_plugins = ["pytester"]

SMALL_MATMUL = """
from tvm import te


def test_matmul64(wasm_tune):
    n = 64
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    result = wasm_tune(te.create_prim_func([A, B, C]))
    assert result.correct
"""


@pytest.mark.integration
@pytest.mark.slow
def test_tuning_a_small_matmul_writes_consistent_artifacts(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tvm.s_tir.meta_schedule.database import JSONDatabase

    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    # pytester points HOME at its temporary directory: keep using the real runtime cache
    monkeypatch.setenv(defaults.CACHE_DIR_ENV, str(cache_root()))
    pytester.makepyfile(test_small=SMALL_MATMUL)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--wasm-tune", "--wasm-tune-trials", "4", timeout=900
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "[[]Task 1/1]  test_matmul64 in chromium: tuning 4 trials",
            "[[]Task 1/1]  Current/Best: * GFLOPS | Progress: (4/4) | * s",
            "*= wasm-tune summary (tune) =*",
            "test_matmul64  chromium  *       4  *",
        ]
    )
    report = json.loads((pytester.path / "wasm-tune-artifacts" / "report.json").read_text())
    (task,) = report["tasks"]
    assert (task["task"], task["browser"], task["outcome"]) == (
        "test_matmul64",
        "chromium",
        "passed",
    )
    assert task["correct"] and task["trials"] == len(task["trial_log"]) == 4
    environment = report["environment"]
    assert (
        environment["browsers"][0]["name"] == "chromium" and environment["browsers"][0]["version"]
    )
    assert environment["tvm"] and environment["emcc"] and environment["cpu"]["model"]

    database_dir = Path(task["database"]["dir"])
    assert database_dir.parent.parent == pytester.path / "wasm-tune-artifacts/databases"
    assert re.fullmatch(r"test_matmul64-[0-9a-f]{12}", database_dir.parent.name)
    assert database_dir.name == "chromium"
    workload, records = (
        database_dir / "database_workload.json",
        database_dir / "database_tuning_record.json",
    )
    assert workload.is_file() and records.is_file()
    database = JSONDatabase(str(workload), str(records), allow_missing=False)
    stored = database.get_all_tuning_records()
    assert len(stored) == task["trials"]
    valid = [r for r in stored if float(r.run_secs[0]) < 1e9]
    best_median = min(statistics.median(float(s) for s in r.run_secs) for r in valid)
    assert task["search_best_s"] == pytest.approx(best_median)
    # the reported best is the final re-measurement of a verified finalist, not a search sample
    (best,) = [f for f in task["finalists"] if f["median_s"] == task["best_s"]]
    assert best["verified"] and best["label"] != "default"
    assert task["best_s"] == pytest.approx(statistics.median(best["times_s"]))
    assert task["best_spread_s"]["n"] == len(best["times_s"]) >= 3


@pytest.mark.integration
@pytest.mark.slow
def test_an_unseen_task_file_tunes_in_chromium_firefox_and_webkit(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    monkeypatch.setenv(defaults.CACHE_DIR_ENV, str(cache_root()))
    pytester.makepyfile(test_small=SMALL_MATMUL)
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--wasm-tune",
        "--wasm-tune-trials",
        "4",
        "--wasm-tune-relaxed-simd",
        "--wasm-tune-browsers",
        "chromium,firefox,webkit",
        timeout=900,
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*webkit: its engine does not run relaxed SIMD; it measures SIMD128 builds*",
            "task           chromium GFLOPS  firefox GFLOPS  webkit GFLOPS",
            "test_matmul64  * * *",
        ]
    )
    report = json.loads((pytester.path / "wasm-tune-artifacts" / "report.json").read_text())
    tasks = {task["browser"]: task for task in report["tasks"]}
    assert set(tasks) == {"chromium", "firefox", "webkit"}
    for browser, task in tasks.items():
        assert task["correct"] and task["trials"] == 4, browser
        assert task["browser_version"], browser
    # relaxed SIMD where the engine runs it; WebKit's database says it holds SIMD128 records
    databases = {Path(task["database"]["dir"]).name for task in tasks.values()}
    assert databases == {"chromium-relaxed-simd", "firefox-relaxed-simd", "webkit"}
    row = report["side_by_side"]["test_matmul64"]
    assert row == {browser: task["best_gflops"] for browser, task in tasks.items()}
    assert all(gflops > 0 for gflops in row.values())
    # items run chromium, firefox, webkit: each re-measures the bests of those before it
    cross = {browser: task["cross_engine"] for browser, task in tasks.items()}
    assert set(cross["webkit"]) == {"chromium-relaxed-simd", "firefox-relaxed-simd"}
    assert set(cross["firefox"]) == {"chromium-relaxed-simd"}
    assert all(f["verified"] and f["gflops"] > 0 for c in cross.values() for f in c.values())
    chromium_best = report["cross_engine"]["test_matmul64"]["chromium-relaxed-simd"]
    assert set(chromium_best) == {"chromium", "firefox", "webkit"}
    result.stdout.fnmatch_lines(
        [
            "each browser's best re-measured in the others:",
            "task * best of * in chromium * in firefox * in webkit",
            "test_matmul64 * chromium-relaxed-simd * * * *",
        ]
    )
