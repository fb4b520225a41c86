"""Config parsing, validation and precedence, without pytester."""

from pathlib import Path

import pytest

from pytest_wasm_tune import defaults as defaults_module
from pytest_wasm_tune.config import (
    SETTINGS,
    ConfigError,
    load_farm,
    parse_bool,
    parse_browser_list,
    parse_timeout,
    parse_trials,
    resolve_config,
    scaled_trials,
)

FARM = """
[[browser]]
name = "grid-chrome"
url = "http://127.0.0.1:4444"
browserName = "chrome"

[[browser]]
name = "pixel7"
url = "https://appium.example:4723/wd/hub"
browserName = "chrome"
[browser.capabilities]
platformName = "Android"
"appium:deviceName" = "Pixel 7"
"""


def resolve(cli=None, ini=None, env=None, cwd=Path("/work"), ini_file=None):
    return resolve_config(cli or {}, ini or {}, env or {}, cwd=cwd, ini_file=ini_file)


def test_defaults() -> None:
    config = resolve()
    assert (config.enabled, config.trials, config.browsers) == (False, 64, ("chromium",))
    assert (config.fresh, config.timeout_s, config.farm) == (False, 60.0, None)
    assert config.artifacts_dir == Path("/work/wasm-tune-artifacts")
    assert config.databases_dir == Path("/work/wasm-tune-artifacts/databases")
    assert config.report_path == Path("/work/wasm-tune-artifacts/report.json")
    assert config.mode == "check"


def test_cli_beats_ini_beats_env() -> None:
    env = {"WASM_TUNE_TRIALS": "8", "WASM_TUNE_TIMEOUT": "5", "WASM_TUNE": "1"}
    ini = {"wasm_tune_trials": "16", "wasm_tune_timeout": "7"}
    config = resolve({"trials": "32"}, ini, env)
    assert (config.trials, config.timeout_s, config.enabled) == (32, 7.0, True)
    assert resolve({}, ini, env).trials == 16
    assert resolve({}, {}, env).trials == 8


def test_unset_values_fall_through() -> None:
    config = resolve({"trials": None, "enabled": None}, {"wasm_tune_trials": ""}, {})
    assert (config.trials, config.enabled) == (64, False)


def test_ini_paths_are_relative_to_the_ini_file() -> None:
    config = resolve(ini={"wasm_tune_artifacts": "out"}, ini_file=Path("/proj/pyproject.toml"))
    assert config.artifacts_dir == Path("/proj/out")
    assert resolve({"artifacts": "out"}).artifacts_dir == Path("/work/out")
    assert resolve(env={"WASM_TUNE_ARTIFACTS": "/abs"}).artifacts_dir == Path("/abs")


@pytest.mark.parametrize("text", ["1", "true", "YES", "on"])
def test_true_words(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["0", "false", "No", "off"])
def test_false_words(text: str) -> None:
    assert parse_bool(text) is False


def test_native_toml_values_are_accepted() -> None:
    config = resolve(
        ini={"wasm_tune": True, "wasm_tune_trials": 12, "wasm_tune_browsers": ["chromium"]}
    )
    assert (config.enabled, config.trials, config.browsers) == (True, 12, ("chromium",))


@pytest.mark.parametrize("text", ["0", "-3", "abc", "1.5", "100001"])
def test_bad_trials(text: str) -> None:
    with pytest.raises(ValueError, match="whole number of trials"):
        parse_trials(text)


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "soon"])
def test_bad_timeout(text: str) -> None:
    with pytest.raises(ValueError, match="seconds above 0"):
        parse_timeout(text)


def test_browser_lists() -> None:
    assert parse_browser_list("chromium, grid-chrome chromium") == ("chromium", "grid-chrome")
    with pytest.raises(ValueError, match="no browser"):
        parse_browser_list(" , ")
    with pytest.raises(ValueError, match="not a browser name"):
        parse_browser_list("chrom ium/x")


def test_errors_name_the_source_quote_the_value_and_show_the_fix() -> None:
    with pytest.raises(ConfigError) as cli:
        resolve({"trials": "lots"})
    assert str(cli.value).startswith("--wasm-tune-trials: ")
    assert "'lots'" in str(cli.value) and "Fix: --wasm-tune-trials 64" in str(cli.value)
    with pytest.raises(ConfigError) as ini:
        resolve(ini={"wasm_tune_trials": "0"}, ini_file=Path("/p/pytest.ini"))
    assert "ini option wasm_tune_trials in /p/pytest.ini" in str(ini.value)
    assert "Fix: wasm_tune_trials = 64" in str(ini.value)
    with pytest.raises(ConfigError) as env:
        resolve(env={"WASM_TUNE_FRESH": "maybe"})
    assert "environment variable WASM_TUNE_FRESH" in str(env.value)
    assert "Fix: WASM_TUNE_FRESH=true" in str(env.value)


def test_unknown_browser_lists_the_supported_ones() -> None:
    with pytest.raises(ConfigError) as err:
        resolve({"browsers": "chromium,safari"})
    message = str(err.value)
    assert "unknown browser 'safari'" in message
    assert "Supported locally: chromium, firefox, webkit, android-emulation" in message
    assert "no farm file is given" in message


def test_every_local_engine_is_selectable() -> None:
    config = resolve({"browsers": "chromium,firefox,webkit,android-emulation"})
    assert config.browsers == ("chromium", "firefox", "webkit", "android-emulation")
    assert resolve({}).browsers == ("chromium",)


def test_farm_entries_name_the_host_their_device_reaches(tmp_path: Path) -> None:
    farm = tmp_path / "farm.toml"

    def with_hosts(*hosts: str) -> str:
        parts = FARM.split('browserName = "chrome"')
        return "".join(
            part + (f'browserName = "chrome"\nhost = "{host}"' if host else "")
            for part, host in zip(parts, [*hosts, ""], strict=True)
        )

    farm.write_text(with_hosts("10.0.0.7", "10.0.0.7"))
    config = resolve({"farm": str(farm)}, cwd=tmp_path)
    assert config.farm is not None and config.farm.services_host == "10.0.0.7"
    farm.write_text(with_hosts("bad host!", "10.0.0.7"))
    with pytest.raises(ConfigError, match="host must be the address at which the device reaches"):
        resolve({"farm": str(farm)}, cwd=tmp_path)
    farm.write_text(with_hosts("10.0.0.7", "10.0.0.8"))
    with pytest.raises(ConfigError, match="the page server and the proxy listen on one"):
        resolve({"farm": str(farm)}, cwd=tmp_path)


def test_farm_browsers_become_selectable(tmp_path: Path) -> None:
    farm = tmp_path / "farm.toml"
    farm.write_text(FARM)
    config = resolve({"farm": str(farm), "browsers": "chromium,pixel7"}, cwd=tmp_path)
    assert config.browsers == ("chromium", "pixel7")
    assert config.farm is not None and config.farm.names() == ("grid-chrome", "pixel7")
    pixel = config.remote("pixel7")
    assert pixel is not None and pixel.url == "https://appium.example:4723/wd/hub"
    assert pixel.capabilities["appium:deviceName"] == "Pixel 7"
    assert config.remote("chromium") is None
    with pytest.raises(ConfigError, match=r"farm\.toml defines: grid-chrome, pixel7"):
        resolve({"farm": "farm.toml", "browsers": "iphone"}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "no \\[\\[browser\\]\\] tables"),
        ("[[browser]]\nname = 'a'\nurl = 'http://h'\n", "missing required key.* browserName"),
        ("[[browser]]\nname = 'a'\nurl = 'ftp://h'\nbrowserName = 'chrome'\n", "url must be"),
        ("[[browser]]\nname = 'a b'\nurl = 'http://h'\nbrowserName = 'x'\n", "name must be"),
        ("[[browser]]\nname = 'chromium'\nurl = 'http://h'\nbrowserName = 'x'\n", "grid-chromium"),
        ("[[browser]]\nname = 'a'\nurl = 'http://h'\nbrowserName = 'x'\nport = 1\n", "unknown key"),
        ("[[browser]]\nname = 'a'\nurl = 'http://h'\nbrowserName = 'x'\ncapabilities = 3\n",
         "capabilities must be a table"),
        ("browsers = 1\n", "unknown top-level key"),
        ("[[browser]]\nname = 'a'\nurl = 'http://h'\nbrowserName = 'x'\n" * 2, "more than once"),
        ("[[browser]\n", "not valid TOML"),
    ],
)  # fmt: skip
def test_bad_farm_files(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "farm.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=expected) as err:
        load_farm(path)
    assert str(path) in str(err.value)


def test_missing_farm_file_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--wasm-tune-farm: farm file .*nope\.toml does not"):
        resolve({"farm": "nope.toml"}, cwd=tmp_path)


def test_artifacts_must_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="is not a directory"):
        resolve({"artifacts": "file"}, cwd=tmp_path)


def test_every_setting_has_three_names_and_a_default_in_its_help() -> None:
    for setting in SETTINGS:
        assert setting.flag == "--" + setting.ini.replace("_", "-")
        assert setting.env == setting.ini.upper()
        assert setting.help.rstrip().rsplit("Default: ", 1)[1]


def test_the_example_farm_file_is_valid() -> None:
    farm = load_farm(Path(__file__).resolve().parents[2] / "examples" / "farm.toml")
    assert farm.names() == ("pixel7-chrome", "iphone15-safari", "grid-chromium")
    assert farm.services_host == "192.168.1.10"
    assert farm.get("pixel7-chrome").capabilities["appium:automationName"] == "UiAutomator2"


def test_compare_gate_and_warm_start_options(tmp_path: Path) -> None:
    config = resolve(
        {"compare": "last", "compare_fail": "5%", "warm_start": str(tmp_path)}, cwd=tmp_path
    )
    assert (config.compare, config.compare_fail_pct) == ("last", 5.0)
    assert config.warm_start_dir == tmp_path
    assert resolve({"compare": "r1"}, {"wasm_tune_compare_fail": "12.5"}).compare_fail_pct == 12.5
    (tmp_path / "old.json").write_text("{}")
    assert resolve({"compare": "old.json"}, cwd=tmp_path).compare == str(tmp_path / "old.json")
    defaults = resolve()
    assert (defaults.compare, defaults.compare_fail_pct, defaults.warm_start_dir) == (None,) * 3


def test_bad_compare_and_warm_start_values_say_how_to_fix_them(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--wasm-tune-compare-fail needs a run to compare with"):
        resolve({"compare_fail": "5%"})
    with pytest.raises(ConfigError, match=r"WASM_TUNE_COMPARE_FAIL: expected a percentage .*'-3'"):
        resolve({"compare": "last"}, env={"WASM_TUNE_COMPARE_FAIL": "-3"})
    with pytest.raises(ConfigError, match=r"--wasm-tune-warm-start: .*missing is not a directory"):
        resolve({"warm_start": "missing"}, cwd=tmp_path)


def test_sibling_seeds_option(tmp_path: Path) -> None:
    assert resolve().sibling_seeds == defaults_module.SIBLING_SEEDS
    assert resolve({"sibling_seeds": "0"}).sibling_seeds == 0
    assert resolve(env={"WASM_TUNE_SIBLING_SEEDS": "12"}).sibling_seeds == 12
    with pytest.raises(ConfigError, match=r"wasm_tune_sibling_seeds: .*from 0 \(off\).*'-2'.*= 8"):
        resolve(ini={"wasm_tune_sibling_seeds": "-2"}, cwd=tmp_path)


def test_scaled_trials_rounds_and_keeps_at_least_one() -> None:
    assert scaled_trials(24, 1.64) == 39
    assert scaled_trials(24, 0.5) == 12
    assert scaled_trials(1, 0.01) == 1
    for bad in (0, -1.0, float("nan"), float("inf"), "2"):
        with pytest.raises(ValueError, match="trials_scale must be a positive number"):
            scaled_trials(24, bad)  # type: ignore[arg-type]
