"""pytest-xdist: the controller owns the services (started when a worker first asks) and
writes the one report; workers get the controller's service addresses and send their results
back in user_properties."""

import json

import pytest

from pytest_wasm_tune.config import SETTINGS

from .fakes import FAKE_ENGINE_CONFTEST, MATMUL_TASKS

pytest_plugins = ["pytester"]

RECORD_ADDRESSES = """
import json
import os

from test_tasks import matmul


def test_addresses(request, wasm_tune_services, wasm_tune):
    wasm_tune(matmul(4))
    worker = request.config.workerinput
    with open(f"addresses-{worker['workerid']}.json", "w") as handle:
        json.dump(
            {
                "given": worker["wasm_tune_services"],
                "used": wasm_tune_services.to_dict(),
                "pid": os.getpid(),
            },
            handle,
        )
"""


@pytest.fixture(autouse=True)
def _no_outer_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)


def test_controller_hands_out_services_and_writes_one_report(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FAKE_ENGINE_CONFTEST)
    pytester.makepyfile(
        test_tasks=MATMUL_TASKS.replace("[8, 16]", "[4, 8, 12, 16]"),
        test_addresses=RECORD_ADDRESSES,
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--dist", "each", "--wasm-tune", "--wasm-tune-trials=3"
    )
    result.assert_outcomes(passed=10)
    seen = [json.loads(path.read_text()) for path in sorted(pytester.path.glob("addresses-*.json"))]
    assert len(seen) == 2 and seen[0]["pid"] != seen[1]["pid"]
    for worker in seen:
        assert set(worker["given"]) == {"broker", "authkey"}  # a ticket, not addresses
        assert "error" not in worker["used"] and worker["used"] == seen[0]["used"]
    reports = list(pytester.path.rglob("report.json"))
    assert reports == [pytester.path / "wasm-tune-artifacts" / "report.json"]
    report = json.loads(reports[0].read_text())
    assert report["written_by"]["role"] == "controller"
    assert report["written_by"]["pid"] not in {worker["pid"] for worker in seen}
    assert len(report["tasks"]) == 10  # --dist each: every worker runs all 5 items
    assert {task["trials"] for task in report["tasks"]} == {3}
    result.stdout.fnmatch_lines(["*= wasm-tune summary (tune) =*", "report: */report.json"])


def test_workers_report_when_the_controller_services_did_not_start(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(pytester.mkdir("empty-bin")))
    pytester.makepyfile(test_tasks=MATMUL_TASKS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "the controller's wasm-tune services did not start: ToolchainError: emcc (Emscripten)"
            " was not found on PATH. Install it: sudo apt-get install emscripten node-acorn*",
            "*= wasm-tune summary (check) =*",
            "2 wasm_tune item(s) gave no result:",
        ]
    )
