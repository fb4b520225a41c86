"""The plugin's configuration: one frozen WasmTuneConfig, resolved CLI > ini > env > defaults.

Everything here is plain Python (no pytest import), so it is unit-tested on its own. Every bad
value raises ConfigError naming where it came from, quoting it and saying how to fix it; the
plugin turns that into a pytest usage error.
"""

from __future__ import annotations

import ipaddress
import math
import re
import tomllib
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import defaults
from .browsers.registry import LOCAL_BROWSER_NAMES
from .errors import WasmTuneError

LOCAL_BROWSERS = LOCAL_BROWSER_NAMES
DEFAULT_BROWSERS = ("chromium",)
DEFAULT_TRIALS = 64
MAX_TRIALS = 100_000
MAX_TIMEOUT_S = 24 * 3600.0
MAX_PERCENT = 1000.0
MAX_SEEDS = 1024
BROWSER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
HOST_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
HOST_NAME = re.compile(rf"{HOST_LABEL}(\.{HOST_LABEL})*")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
FARM_KEYS = frozenset({"name", "url", "browserName", "capabilities", "host"})


class ConfigError(WasmTuneError, ValueError):
    """A setting has a bad value; the message says where it came from and how to fix it."""


@dataclass(frozen=True)
class Setting:
    """One option, known under three names: a flag, an ini key and an environment variable."""

    key: str
    flag: str
    ini: str
    env: str
    default: str
    about: str
    metavar: str | None = None  # None: a boolean switch

    @property
    def is_switch(self) -> bool:
        return self.metavar is None

    @property
    def shown_default(self) -> str:
        return {"": "none", "false": "off"}.get(self.default, self.default)

    @property
    def help(self) -> str:
        """The --help text: what it does, its environment variable, its default (last)."""
        return f"{self.about} Env {self.env}. Default: {self.shown_default}"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "enabled",
        "--wasm-tune",
        "wasm_tune",
        "WASM_TUNE",
        "false",
        "Tune every wasm_tune task; without it each task only builds its default schedule, "
        "runs it once in the browser and checks the numerics.",
    ),
    Setting(
        "trials",
        "--wasm-tune-trials",
        "wasm_tune_trials",
        "WASM_TUNE_TRIALS",
        str(DEFAULT_TRIALS),
        "Trials per task and browser when tuning, counting those already in its database.",
        "N",
    ),
    Setting(
        "browsers",
        "--wasm-tune-browsers",
        "wasm_tune_browsers",
        "WASM_TUNE_BROWSERS",
        ",".join(DEFAULT_BROWSERS),
        "Comma-separated browsers to run every wasm_tune task in: "
        f"{', '.join(LOCAL_BROWSERS)} or names from the farm file.",
        "LIST",
    ),
    Setting(
        "farm",
        "--wasm-tune-farm",
        "wasm_tune_farm",
        "WASM_TUNE_FARM",
        "",
        "TOML file of remote WebDriver browsers ([[browser]] tables with name, url, "
        "browserName, capabilities, host).",
        "FILE",
    ),
    Setting(
        "artifacts",
        "--wasm-tune-artifacts",
        "wasm_tune_artifacts",
        "WASM_TUNE_ARTIFACTS",
        "wasm-tune-artifacts",
        "Directory for report.json and the tuning databases "
        "(databases/<task>-<workload key>/<browser>/).",
        "DIR",
    ),
    Setting(
        "fresh",
        "--wasm-tune-fresh",
        "wasm_tune_fresh",
        "WASM_TUNE_FRESH",
        "false",
        "Ignore and replace existing tuning databases instead of continuing from them.",
    ),
    Setting(
        "relaxed_simd",
        "--wasm-tune-relaxed-simd",
        "wasm_tune_relaxed_simd",
        "WASM_TUNE_RELAXED_SIMD",
        "false",
        "Build for wasm relaxed SIMD (fused multiply-adds): faster in Chromium, "
        "not loadable in browsers without relaxed SIMD.",
    ),
    Setting(
        "timeout",
        "--wasm-tune-timeout",
        "wasm_tune_timeout",
        "WASM_TUNE_TIMEOUT",
        f"{defaults.REMOTE_CALL_TIMEOUT_S:g}",
        "Seconds every remote call into a browser may take before the browser is restarted.",
        "SECONDS",
    ),
    Setting(
        "compare",
        "--wasm-tune-compare",
        "wasm_tune_compare",
        "WASM_TUNE_COMPARE",
        "",
        "Compare every task's final best with an earlier run: a run id from "
        "`python -m pytest_wasm_tune report`, a report file or 'last'.",
        "RUN",
    ),
    Setting(
        "compare_fail",
        "--wasm-tune-compare-fail",
        "wasm_tune_compare_fail",
        "WASM_TUNE_COMPARE_FAIL",
        "",
        "Fail the items whose final best got slower than in the compared run by more than "
        "this many percent (e.g. 5) and beyond both runs' interquartile ranges.",
        "PERCENT",
    ),
    Setting(
        "warm_start",
        "--wasm-tune-warm-start",
        "wasm_tune_warm_start",
        "WASM_TUNE_WARM_START",
        "",
        "Artifacts directory of another run (any browser) whose best schedules of the same "
        "workload seed each search; they are re-measured here first.",
        "DIR",
    ),
    Setting(
        "sibling_seeds",
        "--wasm-tune-sibling-seeds",
        "wasm_tune_sibling_seeds",
        "WASM_TUNE_SIBLING_SEEDS",
        f"{defaults.SIBLING_SEEDS}",
        "Schedules of sibling tasks (the same operator at another shape or with another "
        "epilogue, tuned into the same artifacts) that a task's first search measures first; "
        "0 turns it off.",
        "N",
    ),
)
SETTINGS_BY_KEY = {setting.key: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Source:
    """Where a raw value came from: the command line, an ini file, the environment, a default."""

    kind: str  # "cli" | "ini" | "env" | "default"
    setting: Setting
    base_dir: Path
    ini_file: Path | None = None

    def describe(self) -> str:
        if self.kind == "cli":
            return self.setting.flag
        if self.kind == "ini":
            where = f" in {self.ini_file}" if self.ini_file else ""
            return f"ini option {self.setting.ini}{where}"
        if self.kind == "env":
            return f"environment variable {self.setting.env}"
        return f"default of {self.setting.flag}"

    def example(self, value: str) -> str:
        """How to write `value` in this source's syntax."""
        if self.kind == "ini":
            return f"{self.setting.ini} = {value}"
        if self.kind == "env":
            return f"{self.setting.env}={value}"
        return f"{self.setting.flag} {value}"


@dataclass(frozen=True)
class RemoteBrowserSpec:
    """A browser behind a remote WebDriver endpoint (Selenium Grid or Appium)."""

    name: str
    url: str
    browser_name: str
    capabilities: Mapping[str, Any] = field(default_factory=dict)
    host: str = defaults.LOOPBACK_HOST  # where the device reaches our page server and proxy

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "browserName": self.browser_name,
            "capabilities": dict(self.capabilities),
            "host": self.host,
        }


@dataclass(frozen=True)
class Farm:
    """The remote browsers of a farm file."""

    path: Path
    browsers: tuple[RemoteBrowserSpec, ...]

    def names(self) -> tuple[str, ...]:
        return tuple(browser.name for browser in self.browsers)

    def get(self, name: str) -> RemoteBrowserSpec | None:
        return next((browser for browser in self.browsers if browser.name == name), None)

    @property
    def services_host(self) -> str:
        """The interface the page server and the proxy bind (one for the whole farm)."""
        return self.browsers[0].host if self.browsers else defaults.LOOPBACK_HOST


@dataclass(frozen=True)
class WasmTuneConfig:
    """Everything the plugin was told, validated; paths are absolute."""

    enabled: bool = False
    trials: int = DEFAULT_TRIALS
    browsers: tuple[str, ...] = DEFAULT_BROWSERS
    farm: Farm | None = None
    artifacts_dir: Path = Path("wasm-tune-artifacts")
    fresh: bool = False
    relaxed_simd: bool = False
    timeout_s: float = defaults.REMOTE_CALL_TIMEOUT_S
    compare: str | None = None  # run id, report path or "last" (artifacts/history.py)
    compare_fail_pct: float | None = None
    warm_start_dir: Path | None = None
    sibling_seeds: int = defaults.SIBLING_SEEDS

    @property
    def mode(self) -> str:
        return "tune" if self.enabled else "check"

    @property
    def databases_dir(self) -> Path:
        return self.artifacts_dir / "databases"

    @property
    def report_path(self) -> Path:
        return self.artifacts_dir / "report.json"

    def remote(self, browser: str) -> RemoteBrowserSpec | None:
        return self.farm.get(browser) if self.farm else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "trials": self.trials,
            "browsers": list(self.browsers),
            "farm": str(self.farm.path) if self.farm else None,
            "artifacts_dir": str(self.artifacts_dir),
            "fresh": self.fresh,
            "relaxed_simd": self.relaxed_simd,
            "timeout_s": self.timeout_s,
            "compare": self.compare,
            "compare_fail_pct": self.compare_fail_pct,
            "warm_start_dir": str(self.warm_start_dir) if self.warm_start_dir else None,
            "sibling_seeds": self.sibling_seeds,
        }


# --- value parsers: raise ValueError("problem. Fix: ...") with {example} filled in later ---


def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"expected true or false, got {text!r}. Fix: {{example:true}}")


def scaled_trials(trials: int, scale: float) -> int:
    """One task's budget when its item asks for `scale` × `--wasm-tune-trials` (a model's tasks
    share the model's budget unequally, tasks/test_resnet18.py): rounded, at least 1."""
    if not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"trials_scale must be a positive number, got {scale!r}")
    return max(1, round(trials * scale))


def parse_trials(text: str) -> int:
    try:
        trials = int(text.strip())
    except ValueError:
        trials = 0
    if not 1 <= trials <= MAX_TRIALS:
        raise ValueError(
            f"expected a whole number of trials from 1 to {MAX_TRIALS}, got {text!r}. "
            f"Fix: {{example:{DEFAULT_TRIALS}}}"
        )
    return trials


def parse_seed_count(text: str) -> int:
    try:
        count = int(text.strip())
    except ValueError:
        count = -1
    if not 0 <= count <= MAX_SEEDS:
        raise ValueError(
            f"expected a whole number of seeds from 0 (off) to {MAX_SEEDS}, got {text!r}. "
            "Fix: {example:8}"
        )
    return count


def parse_timeout(text: str) -> float:
    try:
        seconds = float(text.strip())
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT_S):
        raise ValueError(
            f"expected a number of seconds above 0 (at most {MAX_TIMEOUT_S:g}), got {text!r}. "
            f"Fix: {{example:{defaults.REMOTE_CALL_TIMEOUT_S:g}}}"
        )
    return seconds


def parse_percent(text: str) -> float:
    """`5%` or `5` (percent) to 5.0."""
    try:
        percent = float(text.strip().removesuffix("%"))
    except ValueError:
        percent = math.nan
    if not (math.isfinite(percent) and 0 < percent <= MAX_PERCENT):
        raise ValueError(
            f"expected a percentage above 0 (at most {MAX_PERCENT:g}%), got {text!r}. "
            "Fix: {example:5%}"
        )
    return percent


def parse_browser_list(text: str) -> tuple[str, ...]:
    """Comma- or space-separated names, duplicates dropped, order kept."""
    names = [name for name in re.split(r"[,\s]+", text.strip()) if name]
    if not names:
        raise ValueError(f"no browser named in {text!r}. Fix: {{example:chromium}}")
    for name in names:
        if not BROWSER_NAME.fullmatch(name):
            raise ValueError(
                f"{name!r} is not a browser name (letters, digits, '_', '.', '-'). "
                "Fix: {example:chromium}"
            )
    return tuple(dict.fromkeys(names))


def check_browsers(names: Sequence[str], farm: Farm | None) -> None:
    """Every selected browser must be local or defined in the farm file."""
    known = (*LOCAL_BROWSERS, *(farm.names() if farm else ()))
    unknown = [name for name in names if name not in known]
    if not unknown:
        return
    farm_part = (
        f"the farm file {farm.path} defines: {', '.join(farm.names())}"
        if farm
        else "no farm file is given (--wasm-tune-farm)"
    )
    raise ValueError(
        f"unknown browser {', '.join(map(repr, unknown))}. Supported locally: "
        f"{', '.join(LOCAL_BROWSERS)}; {farm_part}. Fix: {{example:{','.join(DEFAULT_BROWSERS)}}}"
        " or describe the browser in a farm file"
    )


# --- the farm file ---


def load_farm(path: Path) -> Farm:
    """Read and validate a farm file; ConfigError names the file, the entry and the fix."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"farm file {path} does not exist. Fix: check the path") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"farm file {path} cannot be read: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"farm file {path} is not valid TOML: {err}") from err
    return parse_farm(data, path)


def parse_farm(data: Mapping[str, Any], path: Path) -> Farm:
    """Validate the parsed TOML of a farm file (see README: "Remote browsers")."""
    example = (
        '[[browser]]\nname = "grid-chrome"\nurl = "http://127.0.0.1:4444"\nbrowserName = "chrome"'
    )

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"farm file {path}: {problem}")

    extra = sorted(set(data) - {"browser"})
    if extra:
        raise fail(f"unknown top-level key(s) {', '.join(extra)}; only [[browser]] tables go here")
    entries = data.get("browser")
    if not isinstance(entries, list) or not entries:
        raise fail(f"no [[browser]] tables. Fix: add one per browser, e.g.\n{example}")
    browsers: list[RemoteBrowserSpec] = []
    for index, entry in enumerate(entries, 1):
        browsers.append(_parse_farm_entry(entry, index, fail))
    hosts = sorted({browser.host for browser in browsers})
    if len(hosts) > 1:
        raise fail(
            f"the browsers name different hosts ({', '.join(hosts)}); the page server and the "
            "proxy listen on one. Fix: give every [[browser]] the same host"
        )
    names = [browser.name for browser in browsers]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise fail(f"browser name(s) {', '.join(map(repr, duplicates))} appear more than once")
    return Farm(path, tuple(browsers))


def _parse_farm_entry(
    entry: Any, index: int, fail: Callable[[str], ConfigError]
) -> RemoteBrowserSpec:
    if not isinstance(entry, dict):
        raise fail(f"browser #{index} must be a table ([[browser]]), got {entry!r}")
    name = entry.get("name")
    label = f"browser #{index}" + (f" ({name!r})" if isinstance(name, str) else "")
    unknown = sorted(set(entry) - FARM_KEYS)
    if unknown:
        raise fail(
            f"{label}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(FARM_KEYS))}"
        )
    missing = [key for key in ("name", "url", "browserName") if key not in entry]
    if missing:
        raise fail(f"{label}: missing required key(s) {', '.join(missing)}")
    url, browser_name = entry["url"], entry["browserName"]
    if not isinstance(name, str) or not BROWSER_NAME.fullmatch(name):
        raise fail(f"{label}: name must be letters, digits, '_', '.', '-' (got {name!r})")
    if name in LOCAL_BROWSERS:
        raise fail(f"{label}: {name!r} is the local browser; name it e.g. 'grid-{name}'")
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail(
            f"{label}: url must be the http(s) URL of a Selenium Grid or Appium server "
            f"(e.g. http://127.0.0.1:4444), got {url!r}"
        )
    if not isinstance(browser_name, str) or not browser_name.strip():
        raise fail(f"{label}: browserName must be a non-empty string such as 'chrome'")
    capabilities = entry.get("capabilities", {})
    if not isinstance(capabilities, dict):
        raise fail(f"{label}: capabilities must be a table ([browser.capabilities])")
    if capabilities.get("browserName", browser_name) != browser_name:
        raise fail(f"{label}: capabilities.browserName contradicts browserName {browser_name!r}")
    host = entry.get("host", defaults.LOOPBACK_HOST)
    if not isinstance(host, str) or not _is_ip_or_name(host):
        raise fail(
            f"{label}: host must be the address at which the device reaches this machine "
            f"(an IP address or host name such as 192.168.1.20), got {host!r}"
        )
    return RemoteBrowserSpec(name, url, browser_name, dict(capabilities), host)


def _is_ip_or_name(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return bool(HOST_NAME.fullmatch(text))


# --- resolution: CLI > ini > env > defaults ---


def _normalise(raw: object) -> str | None:
    """A raw value as text; None, "" and lists of nothing count as unset."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, list | tuple):
        raw = ",".join(str(item) for item in raw)
    text = str(raw)
    return text if text.strip() else None


def pick(
    setting: Setting,
    cli: Mapping[str, object],
    ini: Mapping[str, object],
    env: Mapping[str, str],
    *,
    cwd: Path,
    ini_file: Path | None,
) -> tuple[str, Source]:
    """The raw text of `setting` from the first source that sets it, and that source."""
    ini_dir = ini_file.parent if ini_file else cwd
    candidates = (
        (cli.get(setting.key), Source("cli", setting, cwd)),
        (ini.get(setting.ini), Source("ini", setting, ini_dir, ini_file)),
        (env.get(setting.env), Source("env", setting, cwd)),
    )
    for raw, source in candidates:
        text = _normalise(raw)
        if text is not None:
            return text, source
    return setting.default, Source("default", setting, cwd)


def _parsed(parse: Callable[[str], Any], text: str, source: Source) -> Any:
    try:
        return parse(text)
    except ValueError as err:
        message = re.sub(r"\{example:([^}]*)\}", lambda m: source.example(m.group(1)), str(err))
        raise ConfigError(f"{source.describe()}: {message}") from None


def _run_spec(text: str, source: Source) -> str | None:
    """A run id or "last" as given; an existing path made absolute (from its source's dir)."""
    text = text.strip()
    path = source.base_dir / Path(text).expanduser()
    return str(path.absolute()) if text and path.exists() else text or None


def resolve_config(
    cli: Mapping[str, object],
    ini: Mapping[str, object],
    env: Mapping[str, str],
    *,
    cwd: Path,
    ini_file: Path | None = None,
) -> WasmTuneConfig:
    """Build the config. `cli` is keyed by Setting.key (None = not given), `ini` by ini key,
    `env` by variable name. Relative paths are taken from the ini file's directory for ini
    values and from `cwd` otherwise."""
    raw = {
        setting.key: pick(setting, cli, ini, env, cwd=cwd, ini_file=ini_file)
        for setting in SETTINGS
    }

    def value(key: str, parse: Callable[[str], Any]) -> Any:
        return _parsed(parse, *raw[key])

    farm: Farm | None = None
    farm_text, farm_source = raw["farm"]
    if farm_text:
        try:
            farm = load_farm(farm_source.base_dir / Path(farm_text).expanduser())
        except ConfigError as err:
            raise ConfigError(f"{farm_source.describe()}: {err}") from None
    browsers = value("browsers", parse_browser_list)
    _parsed(lambda _: check_browsers(browsers, farm), raw["browsers"][0], raw["browsers"][1])
    artifacts_text, artifacts_source = raw["artifacts"]
    artifacts_dir = artifacts_source.base_dir / Path(artifacts_text).expanduser()
    if artifacts_dir.exists() and not artifacts_dir.is_dir():
        raise ConfigError(
            f"{artifacts_source.describe()}: {artifacts_dir} exists and is not a directory. "
            f"Fix: {artifacts_source.example('wasm-tune-artifacts')}"
        )
    compare_text, compare_source = raw["compare"]
    fail_text, fail_source = raw["compare_fail"]
    if fail_text and not compare_text:
        raise ConfigError(
            f"{fail_source.describe()} needs a run to compare with. "
            f"Fix: {compare_source.example('last')}"
        )
    warm_text, warm_source = raw["warm_start"]
    warm_dir = warm_source.base_dir / Path(warm_text).expanduser() if warm_text else None
    if warm_dir is not None and not warm_dir.is_dir():
        raise ConfigError(
            f"{warm_source.describe()}: {warm_dir} is not a directory. "
            f"Fix: {warm_source.example('other-run/wasm-tune-artifacts')}"
        )
    return WasmTuneConfig(
        enabled=value("enabled", parse_bool),
        trials=value("trials", parse_trials),
        browsers=browsers,
        farm=farm,
        artifacts_dir=artifacts_dir.absolute(),
        fresh=value("fresh", parse_bool),
        relaxed_simd=value("relaxed_simd", parse_bool),
        timeout_s=value("timeout", parse_timeout),
        compare=_run_spec(compare_text, compare_source),
        compare_fail_pct=value("compare_fail", parse_percent) if fail_text else None,
        warm_start_dir=warm_dir.absolute() if warm_dir is not None else None,
        sibling_seeds=value("sibling_seeds", parse_seed_count),
    )
