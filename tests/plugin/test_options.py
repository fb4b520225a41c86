"""Options, ini keys and environment variables: --help, precedence, usage errors."""

import json
import re

import pytest

from pytest_wasm_tune.config import SETTINGS
from pytest_wasm_tune.defaults import SIBLING_SEEDS

pytest_plugins = ["pytester"]

DUMP_CONFIG = """
import json

def test_dump(wasm_tune_config):
    with open("config.json", "w") as handle:
        json.dump(wasm_tune_config.to_dict(), handle)
"""


def resolved(pytester: pytest.Pytester, *args: str) -> dict:
    pytester.makepyfile(test_dump=DUMP_CONFIG)
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=1)
    return json.loads((pytester.path / "config.json").read_text())


@pytest.fixture(autouse=True)
def _no_outer_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)


def test_help_documents_every_option_with_its_default(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "auto-tune TVM kernels for WebAssembly in browsers:",
            "  --wasm-tune *Tune every wasm_tune task; without it each task only",
            "  --wasm-tune-trials=N *Trials per task and browser when tuning, counting those",
            "  --wasm-tune-browsers=LIST",
            "  --wasm-tune-farm=FILE",
            "  --wasm-tune-artifacts=DIR",
            "  --wasm-tune-fresh *Ignore and replace existing tuning databases instead of",
            "  --wasm-tune-relaxed-simd",
            "  --wasm-tune-timeout=SECONDS",
        ]
    )
    text = " ".join(result.stdout.str().split())
    pinned = {
        "--wasm-tune": "Tune every wasm_tune task; without it each task only builds its default"
        " schedule, runs it once in the browser and checks the numerics. Env WASM_TUNE."
        " Default: off",
        "--wasm-tune-trials=N": "Trials per task and browser when tuning, counting those"
        " already in its database. Env WASM_TUNE_TRIALS. Default: 64",
        "--wasm-tune-browsers=LIST": "Comma-separated browsers to run every wasm_tune task"
        " in: chromium, firefox, webkit, android-emulation or names from the farm file."
        " Env WASM_TUNE_BROWSERS. Default: chromium",
        "--wasm-tune-farm=FILE": "TOML file of remote WebDriver browsers ([[browser]] tables"
        " with name, url, browserName, capabilities, host). Env WASM_TUNE_FARM. Default: none",
        "--wasm-tune-artifacts=DIR": "Directory for report.json and the tuning databases"
        " (databases/<task>-<workload key>/<browser>/). Env WASM_TUNE_ARTIFACTS. Default:"
        " wasm-tune-artifacts",
        "--wasm-tune-fresh": "Ignore and replace existing tuning databases instead of"
        " continuing from them. Env WASM_TUNE_FRESH. Default: off",
        "--wasm-tune-relaxed-simd": "Build for wasm relaxed SIMD (fused multiply-adds): faster"
        " in Chromium, not loadable in browsers without relaxed SIMD. Env"
        " WASM_TUNE_RELAXED_SIMD. Default: off",
        "--wasm-tune-timeout=SECONDS": "Seconds every remote call into a browser may take"
        " before the browser is restarted. Env WASM_TUNE_TIMEOUT. Default: 60",
    }
    for flag, help_text in pinned.items():
        assert f"{flag} {help_text}" in text
    for setting in SETTINGS:
        assert re.search(rf"{setting.ini} \(string\): .*?Default: ", text), setting.ini


def test_defaults(pytester: pytest.Pytester) -> None:
    config = resolved(pytester)
    assert config == {
        "mode": "check",
        "trials": 64,
        "browsers": ["chromium"],
        "farm": None,
        "artifacts_dir": str(pytester.path / "wasm-tune-artifacts"),
        "fresh": False,
        "relaxed_simd": False,
        "timeout_s": 60.0,
        "compare": None,
        "compare_fail_pct": None,
        "warm_start_dir": None,
        "sibling_seeds": SIBLING_SEEDS,
    }


def test_cli_beats_ini_beats_env(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WASM_TUNE_TRIALS", "8")
    monkeypatch.setenv("WASM_TUNE_TIMEOUT", "9")
    monkeypatch.setenv("WASM_TUNE_FRESH", "yes")
    monkeypatch.setenv("WASM_TUNE", "1")
    pytester.makeini("[pytest]\nwasm_tune_trials = 16\nwasm_tune_timeout = 7.5\n")
    config = resolved(pytester, "--wasm-tune-trials", "32")
    assert (config["trials"], config["timeout_s"]) == (32, 7.5)
    assert (config["fresh"], config["mode"]) == (True, "tune")
    assert resolved(pytester)["trials"] == 16


def test_pyproject_ini_options_and_relative_paths(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        '[tool.pytest.ini_options]\nwasm_tune = "true"\nwasm_tune_artifacts = "out/tuned"\n'
    )
    config = resolved(pytester)
    assert config["mode"] == "tune"
    assert config["artifacts_dir"] == str(pytester.path / "out" / "tuned")


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (
            ["--wasm-tune-trials", "lots"],
            {},
            "ERROR: --wasm-tune-trials: expected a whole number of trials from 1 to 100000,"
            " got 'lots'. Fix: --wasm-tune-trials 64",
        ),
        (
            ["--wasm-tune-trials", "0"],
            {},
            "ERROR: --wasm-tune-trials: expected a whole number of trials * got '0'*",
        ),
        (
            ["--wasm-tune-browsers", "chromium,safari"],
            {},
            "ERROR: --wasm-tune-browsers: unknown browser 'safari'. Supported locally:"
            " chromium, firefox, webkit, android-emulation; no farm file is given (--wasm-tune-farm). Fix: --wasm-tune-browsers"
            " chromium or describe the browser in a farm file",
        ),
        (
            ["--wasm-tune-timeout", "-1"],
            {},
            "ERROR: --wasm-tune-timeout: expected a number of seconds above 0*",
        ),
        (
            [],
            {"WASM_TUNE_BROWSERS": "safari"},
            "ERROR: environment variable WASM_TUNE_BROWSERS: unknown browser 'safari'.*"
            "Fix: WASM_TUNE_BROWSERS=chromium *",
        ),
        (
            ["--wasm-tune-farm", "missing.toml"],
            {},
            "ERROR: --wasm-tune-farm: farm file */missing.toml does not exist. Fix: check the path",
        ),
    ],
)
def test_usage_errors_say_how_to_fix_them(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    expected: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([expected])
    assert "Traceback" not in result.stderr.str()


def test_bad_ini_value_names_the_file(pytester: pytest.Pytester) -> None:
    ini = pytester.makeini("[pytest]\nwasm_tune_fresh = maybe\n")
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: ini option wasm_tune_fresh in {ini}: expected true or false, got 'maybe'."
            " Fix: wasm_tune_fresh = true"
        ]
    )


def test_bad_farm_file(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("farm.toml").write_text(
        '[[browser]]\nname = "pixel"\nbrowserName = "chrome"\n'
    )
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest("--wasm-tune-farm", "farm.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --wasm-tune-farm: farm file */farm.toml: browser #1 ('pixel'): missing"
         " required key(s) url"]
    )  # fmt: skip


def test_help_still_works_with_a_bad_setting(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WASM_TUNE_TRIALS", "many")
    result = pytester.runpytest("--help")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*--wasm-tune-trials=N*"])
