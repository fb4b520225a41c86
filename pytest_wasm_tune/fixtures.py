"""The plugin's fixtures: thin wrappers over the plain classes, each overridable in a conftest.

wasm_tune_config → wasm_tune_services → wasm_tune_worker_browsers →
wasm_tune_workbench(wasm_tune_browser) → wasm_tune. The session-wide plugin state lives in
`config.stash[STATE_KEY]`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import defaults
from .artifacts.report import RunRecorder
from .artifacts.results import result_to_dict
from .config import WasmTuneConfig, scaled_trials
from .errors import WasmTuneError
from .progress import LiveProgress

if TYPE_CHECKING:
    from .infrastructure import ServiceAddresses, WorkerBrowsers
    from .tuning import TuneResult, TuneTask, Workbench

RESULT_PROPERTY = "wasm_tune_result"  # user_properties entry carrying a result record
WORKERINPUT_KEY = "wasm_tune_services"  # the controller's ticket for its services (xdist)
FIXTURE_NAMES = frozenset(
    {
        "wasm_tune",
        "wasm_tune_config",
        "wasm_tune_services",
        "wasm_tune_worker_browsers",
        "wasm_tune_workbench",
        "wasm_tune_browser",
    }
)


class TaskDeclarationError(WasmTuneError):
    """What was passed to `wasm_tune()` is not a single tunable PrimFunc."""


@dataclass
class PluginState:
    """What the hooks share with the fixtures for one session."""

    config: WasmTuneConfig
    write_line: Callable[[str], None] | None = None  # prints past capture; None on xdist workers
    progress: LiveProgress | None = None
    recorder: RunRecorder | None = None  # only where report.json is written

    def note(self, message: str) -> None:
        line = f"[wasm-tune] {message}"
        if self.write_line is not None:
            self.write_line(line)
        else:
            print(line, file=sys.stderr, flush=True)


STATE_KEY = pytest.StashKey[PluginState]()


def default_task_name(item: pytest.Item) -> str:
    """The item's name without the browser id: `test_matmul[256-chromium]` → `test_matmul[256]`."""
    callspec = getattr(item, "callspec", None)
    browser = callspec.params.get("wasm_tune_browser") if callspec else None
    original = getattr(item, "originalname", item.name)
    if callspec is None or browser is None:
        return item.name
    ids = callspec.id
    if ids == browser:
        return original
    if ids.endswith(f"-{browser}"):
        return f"{original}[{ids[: -len(browser) - 1]}]"
    return item.name


def make_task(func: Any, name: str) -> TuneTask:
    """A TuneTask from a PrimFunc or an IRModule holding one, or one clear error."""
    import tvm

    from .tuning import TuneTask

    if not isinstance(func, tvm.tirx.PrimFunc | tvm.IRModule):
        raise TaskDeclarationError(
            f"wasm_tune() takes a PrimFunc (or an IRModule holding one), got "
            f"{type(func).__module__}.{type(func).__qualname__}. "
            "Fix: wasm_tune(te.create_prim_func([A, B, C]))"
        )
    try:
        return TuneTask.from_prim_func(func, name)
    except Exception as err:
        raise TaskDeclarationError(
            f"task {name!r} cannot be tuned: {type(err).__name__}: {str(err).strip()[:2000]}"
        ) from err


def task_syntax_error(path: Path) -> str | None:
    """For a task file (one that mentions wasm_tune) that does not parse: the SyntaxError as
    a few lines (file, line, the code and a caret) instead of an import traceback."""
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if "wasm_tune" not in source:
        return None
    try:
        compile(source, str(path), "exec")
    except SyntaxError as err:
        lines = [f"SyntaxError in task file {path}, line {err.lineno}: {err.msg}"]
        if err.text:
            lines.append(f"    {err.text.rstrip()}")
            if err.offset:
                lines.append(" " * (3 + err.offset) + "^")
        return "\n".join(lines)
    return None


class TaskTuner:
    """`wasm_tune(func, name=None, trials_scale=1.0)`: tune (with --wasm-tune) or check one task
    on the item's browser; returns the TuneResult and records it for the report and JUnit.
    With --wasm-tune the task gets `trials_scale` × `--wasm-tune-trials` trials."""

    def __init__(
        self,
        config: WasmTuneConfig,
        workbench: Workbench,
        item: pytest.Item,
        browser: str,
        scratch: Callable[[], Path],
        record_property: Callable[[str, object], None],
        progress: LiveProgress | None = None,
    ) -> None:
        self.config = config
        self.workbench = workbench
        self.item = item
        self.browser = browser
        self._scratch = scratch
        self._record_property = record_property
        self._progress = progress

    def __call__(self, func: Any, name: str | None = None, trials_scale: float = 1.0) -> TuneResult:
        from . import tuning
        from .measure.cpus import search_threads
        from .measure.runner import MeasureConfig

        config = self.config
        workers = int(getattr(self.item.config, "workerinput", {}).get("workercount", 1))
        task = make_task(func, name or default_task_name(self.item))
        trials = scaled_trials(config.trials, trials_scale)  # checked in the check mode too
        options = tuning.TuneOptions(
            trials=trials if config.enabled else 0,
            final_rounds=defaults.FINAL_ROUNDS if config.enabled else defaults.CHECK_ROUNDS,
            measure=MeasureConfig(call_timeout_s=config.timeout_s),
            fresh=config.fresh,
            search_threads=search_threads(workers),  # each xdist worker: its share of the CPUs
            warm_start_dir=config.warm_start_dir if config.enabled else None,
            sibling_seeds=config.sibling_seeds,
        )
        work_dir = config.databases_dir if config.enabled else self._scratch()
        live = None
        if self._progress is not None:
            live = self._progress.start(task.name, self.browser, options.trials)
        result = tuning.tune(task, self.workbench, work_dir, options, progress=live)
        browser = getattr(getattr(self.workbench, "device", None), "browser", None)
        record = result_to_dict(
            result,
            nodeid=self.item.nodeid,
            mode=config.mode,
            browser_version=str(getattr(browser, "version", "")),
            keep_database=config.enabled,
        )
        if live is not None:
            live.done(record)
        for key in ("best_gflops", "speedup"):
            if record[key] is not None:
                self._record_property(f"wasm_tune_{key}", round(record[key], 3))
        self.item.user_properties.append((RESULT_PROPERTY, record))
        return result


def plugin_state(config: pytest.Config) -> PluginState:
    return config.stash[STATE_KEY]


@pytest.fixture(scope="session")
def wasm_tune_config(pytestconfig: pytest.Config) -> WasmTuneConfig:
    """The validated plugin configuration (CLI > ini > env > defaults)."""
    return plugin_state(pytestconfig).config


@pytest.fixture(scope="session")
def wasm_tune_services(pytestconfig: pytest.Config) -> Iterator[ServiceAddresses]:
    """Tracker, proxy and page server: the xdist controller's, else started for this session."""
    from .infrastructure import SessionServices, addresses_from_payload
    from .service_broker import request_services

    ticket = getattr(pytestconfig, "workerinput", {}).get(WORKERINPUT_KEY)
    if ticket is not None:
        yield addresses_from_payload(request_services(ticket))
        return
    with SessionServices() as services:
        yield services.addresses


@pytest.fixture(scope="session")
def wasm_tune_worker_browsers(
    pytestconfig: pytest.Config,
    wasm_tune_config: WasmTuneConfig,
    wasm_tune_services: ServiceAddresses,
) -> Iterator[WorkerBrowsers]:
    """This process's browsers (started on first use, stopped at the end of the session)."""
    from .infrastructure import WorkerBrowsers

    worker_id = str(getattr(pytestconfig, "workerinput", {}).get("workerid", "main"))
    note = plugin_state(pytestconfig).note
    with WorkerBrowsers(
        wasm_tune_services,
        wasm_tune_config.farm,
        worker_id=worker_id,
        progress=note,
        relaxed_simd=wasm_tune_config.relaxed_simd,
    ) as farm:
        yield farm


@pytest.fixture
def wasm_tune_browser(wasm_tune_config: WasmTuneConfig) -> str:
    """The item's browser; wasm_tune items are parametrized over --wasm-tune-browsers."""
    return wasm_tune_config.browsers[0]


@pytest.fixture
def wasm_tune_workbench(
    wasm_tune_worker_browsers: WorkerBrowsers, wasm_tune_browser: str
) -> Workbench:
    """Device, linker and staging for the item's browser."""
    return wasm_tune_worker_browsers.workbench(wasm_tune_browser)


@pytest.fixture
def wasm_tune(
    request: pytest.FixtureRequest,
    wasm_tune_config: WasmTuneConfig,
    wasm_tune_browser: str,
    wasm_tune_workbench: Workbench,
    record_property: Callable[[str, object], None],
    tmp_path_factory: pytest.TempPathFactory,
) -> TaskTuner:
    """`wasm_tune(prim_func, name=None, trials_scale=1.0) -> TuneResult` for the item's
    browser."""
    return TaskTuner(
        wasm_tune_config,
        wasm_tune_workbench,
        request.node,
        wasm_tune_browser,
        lambda: tmp_path_factory.mktemp("wasm-tune-check"),
        record_property,
        plugin_state(request.config).progress,
    )
