"""The regression gate through pytest: a slower result fails its item, the summary shows the
deltas, and every run is kept for the next comparison."""

import json

import pytest

from pytest_wasm_tune.config import SETTINGS

from .fakes import FAKE_ENGINE_CONFTEST, MATMUL_TASKS

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _no_outer_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)


def test_a_slower_result_fails_its_item_with_the_deltas(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FAKE_ENGINE_CONFTEST)
    pytester.makepyfile(test_tasks=MATMUL_TASKS)
    first = pytester.runpytest("--wasm-tune", "--wasm-tune-trials=2")
    first.assert_outcomes(passed=2)
    runs = sorted((pytester.path / "wasm-tune-artifacts" / "runs").glob("*.json"))
    assert [path.suffix for path in runs] == [".json"] and runs[0].with_suffix(".html").is_file()
    # the stored run, edited: matmul 16 was twice as fast then (the fake tunes alike each time)
    stored = json.loads(runs[0].read_text())
    slow = next(task for task in stored["tasks"] if task["task"] == "test_matmul[16]")
    slow["best_s"] /= 2
    runs[0].write_text(json.dumps(stored))

    result = pytester.runpytest(
        "--wasm-tune", "--wasm-tune-trials=2", "--wasm-tune-compare=last",
        "--wasm-tune-compare-fail=5%",
    )  # fmt: skip
    result.assert_outcomes(passed=1, failed=1)
    run_id = stored["run"]["id"]
    result.stdout.fnmatch_lines(
        [
            "*wasm-tune regression: test_matmul[[]16] in chromium: final best 0.002048 ms (IQR "
            f"unknown) against 0.001024 ms (IQR unknown) in run {run_id}: +100.0 %, more than "
            "--wasm-tune-compare-fail 5% and beyond both IQRs",
            f"compared with run {run_id}, failing above +5% (beyond both IQRs):",
            f"task *browser *{run_id} ms *now ms *change *verdict",
            "test_matmul[[]8] *chromium *0.000256 *0.000256 *+0.0% *same",
            "test_matmul[[]16] *chromium *0.001024 *0.002048 *+100.0% *REGRESSED",
            "FAILED test_tasks.py::test_matmul[[]16-chromium]*",
        ]
    )
    latest = json.loads((pytester.path / "wasm-tune-artifacts" / "report.json").read_text())
    assert [d["verdict"] for d in latest["comparison"]["deltas"]] == ["same", "REGRESSED"]
    assert len(list((pytester.path / "wasm-tune-artifacts" / "runs").glob("*.json"))) == 2


def test_comparing_with_a_run_that_does_not_exist_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(FAKE_ENGINE_CONFTEST)
    pytester.makepyfile(test_tasks=MATMUL_TASKS)
    result = pytester.runpytest("--wasm-tune-compare=last")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--wasm-tune-compare: no stored run in * Fix: run once*"])
