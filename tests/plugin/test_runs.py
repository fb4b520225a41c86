"""Runs with and without --wasm-tune on a fake engine (no browser): what reaches tune(), the
progress lines, the summary, report.json, JUnit properties and the error messages."""

import fnmatch
import json
import os
from pathlib import Path

import pytest

from pytest_wasm_tune.config import SETTINGS

from .fakes import FAKE_ENGINE_CONFTEST, MATMUL_TASKS

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _no_outer_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(FAKE_ENGINE_CONFTEST)
    pytester.makepyfile(test_tasks=MATMUL_TASKS)
    return pytester


def tune_calls(pytester: pytest.Pytester) -> list[dict]:
    lines = (pytester.path / "fake-tune.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def report(pytester: pytest.Pytester, artifacts: str = "wasm-tune-artifacts") -> dict:
    return json.loads((pytester.path / artifacts / "report.json").read_text())


def test_without_wasm_tune_each_task_is_checked_once(project: pytest.Pytester) -> None:
    result = project.runpytest()
    result.assert_outcomes(passed=2)
    calls = tune_calls(project)
    assert [(c["task"], c["trials"]) for c in calls] == [
        ("test_matmul[8]", 0),
        ("test_matmul[16]", 0),
    ]
    artifacts = project.path / "wasm-tune-artifacts"
    assert not any(Path(c["work_dir"]).is_relative_to(artifacts) for c in calls)
    result.stdout.fnmatch_lines(
        [
            "[[]Task 1/2]  Done: default schedule 1.00 GFLOPS, correct | 0.50 s",
            "[[]Task 2/2]  Done: default schedule 1.00 GFLOPS, correct | 0.50 s",
            "*= wasm-tune summary (check) =*",
            "task             browser   default GFLOPS  best GFLOPS  IQR %  speedup  trials  errors",
            "test_matmul[[]8]   chromium            1.00         1.00      -    1.00x       0       0",
            "test_matmul[[]16]  chromium            1.00         1.00      -    1.00x       0       0",
            f"report: {artifacts / 'report.json'}",
        ]
    )
    written = report(project)
    assert written["config"]["mode"] == "check"
    assert [task["database"] for task in written["tasks"]] == [None, None]
    assert written["environment"]["browsers"] == [{"name": "chromium", "version": "123.0-fake"}]


def test_with_wasm_tune_each_task_is_tuned(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "--wasm-tune",
        "--wasm-tune-trials=4",
        "--wasm-tune-fresh",
        "--wasm-tune-timeout=5",
        "--wasm-tune-artifacts=out",
        "--junitxml=junit.xml",
        "-o",
        "junit_family=xunit1",
    )
    result.assert_outcomes(passed=2)
    calls = tune_calls(project)
    databases = str(project.path / "out" / "databases")
    assert calls[0] == {
        "task": "test_matmul[8]",
        "trials": 4,
        "fresh": True,
        "timeout_s": 5.0,
        "work_dir": databases,
        "search_threads": len(os.sched_getaffinity(0)),  # one process: every CPU
    }
    result.stdout.fnmatch_lines(
        [
            "[[]Task 1/2]  test_matmul[[]8] in chromium: tuning 4 trials",
            "[[]Task 1/2]  Current/Best:    4.33/   4.71 GFLOPS | Progress: (40/64) | 12.30 s",
            "[[]Task 1/2]  Done: best 4.00 GFLOPS (4.00x over the default 1.00), correct,"
            " 4 trials, 0 errors | 0.50 s",
            "[[]Task 2/2]  test_matmul[[]16] in chromium: tuning 4 trials",
            "*= wasm-tune summary (tune) =*",
            "task *browser *default GFLOPS *best GFLOPS *IQR % *speedup *trials *errors",
            "test_matmul[[]8]   chromium            1.00         4.00      -    4.00x       4       0",
            "test_matmul[[]16]  chromium            1.00         4.00      -    4.00x       4       0",
        ]
    )
    written = report(project, "out")
    assert written["config"]["mode"] == "tune"
    assert written["written_by"]["role"] == "session"
    first = written["tasks"][0]
    assert (first["nodeid"], first["outcome"]) == (
        "test_tasks.py::test_matmul[8-chromium]",
        "passed",
    )
    task_dir, browser_dir = os.path.split(first["database"]["dir"])
    assert browser_dir == "chromium"
    assert fnmatch.fnmatch(task_dir, os.path.join(databases, "test_matmul_8-" + "[0-9a-f]" * 12))
    assert len(first["trial_log"]) == first["trials"] == 4
    assert first["trial_log"][0] == {
        "key": 0,
        "outcome": "measured",
        "number": 8,
        "times_s": [0.001, 0.0011],
        "error": None,
        "verified": True,
        "browser": "chromium",
        "browser_version": "",
        "host": "",
        "wall_time": 0.0,
        "warmup_calls": 0,
        "warmup_stop": "",
        "restarts": 0,
        "tier": "",
        "warmup_ms": 0.0,
        "untimed_ms": 0.0,
    }
    junit = (project.path / "junit.xml").read_text()
    assert '<property name="wasm_tune_best_gflops" value="4.0" />' in junit
    assert '<property name="wasm_tune_speedup" value="4.0" />' in junit
    assert "wasm_tune_result" not in junit


def test_task_names_default_to_the_item_without_the_browser(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FAKE_ENGINE_CONFTEST)
    pytester.makepyfile(
        test_names=MATMUL_TASKS.split("@pytest.mark")[0]
        + """
def test_single(wasm_tune):
    wasm_tune(matmul(4))

def test_named(wasm_tune):
    wasm_tune(matmul(4), name="matmul 4x4")
"""
    )
    project_result = pytester.runpytest()
    project_result.assert_outcomes(passed=2)
    assert [c["task"] for c in tune_calls(pytester)] == ["test_single", "matmul 4x4"]


def test_a_wrong_task_is_one_clear_failure_and_the_others_run(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_wrong="""
        from tvm import te

        def test_tensor_instead_of_prim_func(wasm_tune):
            wasm_tune(te.placeholder((4, 4), name="A"))
        """
    )
    result = project.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_tensor_instead_of_prim_func[[]chromium] _*",
            "wasm_tune() takes a PrimFunc (or an IRModule holding one), got tvm.te.tensor.Tensor."
            " Fix: wasm_tune(te.create_prim_func([A, B, C]))",
            "*= wasm-tune summary (check) =*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "def test_tensor_instead_of_prim_func" not in result.stdout.str()


def test_a_task_file_with_a_syntax_error_does_not_stop_the_others(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_broken="def test_conv(wasm_tune:\n    pass\n")
    result = project.runpytest()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR collecting test_broken.py _*",
            "SyntaxError in task file */test_broken.py, line 1: '(' was never closed",
            "    def test_conv(wasm_tune:",
            "                 ^",
            "*= wasm-tune summary (check) =*",
        ]
    )
    assert "importlib" not in result.stdout.str()


def test_failed_tasks_are_in_the_report(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_slow="""
        from test_tasks import matmul

        def test_too_slow(wasm_tune):
            assert wasm_tune(matmul(4)).best_gflops > 1000
        """
    )
    result = project.runpytest("--wasm-tune", "--wasm-tune-trials=2")
    result.assert_outcomes(passed=2, failed=1)
    outcomes = {task["task"]: task["outcome"] for task in report(project)["tasks"]}
    assert outcomes == {
        "test_matmul[8]": "passed",
        "test_matmul[16]": "passed",
        "test_too_slow": "failed",
    }


def test_infrastructure_errors_are_one_message_with_the_fix(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        FAKE_ENGINE_CONFTEST
        + """
from pytest_wasm_tune.errors import ToolchainError

@pytest.fixture
def wasm_tune_workbench(wasm_tune_browser):
    raise ToolchainError("emcc was not found on PATH. Install it: make setup")
"""
    )
    pytester.makepyfile(test_tasks=MATMUL_TASKS)
    result = pytester.runpytest()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at setup of test_matmul[[]8-chromium] _*",
            "emcc was not found on PATH. Install it: make setup",
            "*_ ERROR at setup of test_matmul[[]16-chromium] _*",
            "emcc was not found on PATH. Install it: make setup",
            "*= wasm-tune summary (check) =*",
            "2 wasm_tune item(s) gave no result:",
            "  test_tasks.py::test_matmul[[]8-chromium]: *ToolchainError: emcc was not found*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    items = report(pytester)["items"]
    assert {item["outcome"] for item in items} == {"error"}
    # an explicit --tb keeps pytest's traceback
    assert "raise ToolchainError" in pytester.runpytest("--tb=long").stdout.str()


def test_missing_emscripten_fails_tasks_with_the_install_command(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real services in a subprocess whose PATH has no emcc: one message naming the fix."""
    empty_bin = pytester.mkdir("empty-bin")
    monkeypatch.setenv("PATH", str(empty_bin))
    pytester.makepyfile(test_tasks=MATMUL_TASKS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "emcc (Emscripten) was not found on PATH. Install it: sudo apt-get install"
            " emscripten node-acorn   (or run `make setup`)",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_an_unreachable_farm_browser_fails_its_items_with_one_message(
    pytester: pytest.Pytester,
) -> None:
    """Real services start; the remote browser is retried, then fails its items clearly."""
    pytester.path.joinpath("farm.toml").write_text(
        '[[browser]]\nname = "grid-chrome"\nurl = "http://127.0.0.1:9"\nbrowserName = "chrome"\n'
    )
    pytester.makepyfile(test_tasks=MATMUL_TASKS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--wasm-tune-farm=farm.toml", "--wasm-tune-browsers=grid-chrome"
    )
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*Failed 1/3 times to reach grid-chrome; retrying*",
            "*Failed 2/3 times to reach grid-chrome; retrying*",
            "*grid-chrome (chrome at http://127.0.0.1:9) cannot be reached: *",
        ]
    )
