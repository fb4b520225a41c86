"""The plugin is inert for suites without tuning tasks, also under pytest-xdist; with tasks,
each xdist worker searches on its share of the CPUs."""

import json
import os

import pytest

from pytest_wasm_tune.config import SETTINGS

from .fakes import FAKE_ENGINE_CONFTEST, MATMUL_TASKS

pytest_plugins = ["pytester"]

# Every process (controller and workers) writes down what it imported and what it started.
OBSERVER_CONFTEST = """
import json
import sys

import psutil


def pytest_unconfigure(config):
    role = config.workerinput["workerid"] if hasattr(config, "workerinput") else "controller"
    children = [" ".join(p.cmdline()) for p in psutil.Process().children(recursive=True)]
    seen = {
        "imported": sorted(
            name for name in sys.modules
            if name == "tvm" or name.startswith(("tvm.", "pytest_wasm_tune.infrastructure"))
        ),
        "children": children,
        "continue_on_collection_errors": config.option.continue_on_collection_errors,
    }
    with open(f"seen-{role}.json", "w") as handle:
        json.dump(seen, handle)
"""

PLAIN_TESTS = """
import pytest


@pytest.mark.parametrize("n", range(4))
def test_plain(n):
    assert n < 4
"""

OURS = ("proxy_main", "tvm.exec.popen_worker", "pytest_wasm_tune.watchdog", "chrom")


@pytest.fixture(autouse=True)
def _no_outer_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)


def test_a_plain_suite_under_xdist_imports_no_tvm_and_starts_nothing(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(OBSERVER_CONFTEST)
    pytester.makepyfile(test_plain=PLAIN_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=4)
    seen = {path.stem: json.loads(path.read_text()) for path in pytester.path.glob("seen-*.json")}
    assert set(seen) == {"seen-controller", "seen-gw0", "seen-gw1"}
    for role, record in seen.items():
        assert record["imported"] == [], f"{role} imported {record['imported']}"
        started = [cmd for cmd in record["children"] if any(name in cmd for name in OURS)]
        assert started == [], f"{role} started {started}"
    assert "wasm-tune summary" not in result.stdout.str()
    assert not (pytester.path / "wasm-tune-artifacts").exists()


def test_a_plain_suite_keeps_pytests_collection_error_behaviour(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(OBSERVER_CONFTEST)
    pytester.makepyfile(test_plain=PLAIN_TESTS, test_broken="import nothing_by_this_name\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)  # interrupted: the plain tests did not run
    result.stdout.fnmatch_lines(["*Interrupted: 1 error during collection*"])
    seen = json.loads((pytester.path / "seen-controller.json").read_text())
    assert seen["continue_on_collection_errors"] is False


def test_each_xdist_worker_searches_on_its_share_of_the_cpus(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FAKE_ENGINE_CONFTEST)
    pytester.makepyfile(test_tasks=MATMUL_TASKS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--wasm-tune", "--wasm-tune-trials=2"
    )
    result.assert_outcomes(passed=2)
    logged = [json.loads(line) for line in (pytester.path / "fake-tune.jsonl").open()]
    share = max(1, len(os.sched_getaffinity(0)) // 2)
    assert [entry["search_threads"] for entry in logged] == [share, share]
