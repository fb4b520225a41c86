"""pytest entry point (`pytest11: wasm_tune`): options, parametrization, reporting hooks.

Under pytest-xdist the controller owns the services (tracker, proxy, page server) and hands
their addresses to the workers in `workerinput`; workers own their browsers. Results travel in
report `user_properties`, so report.json and the summary are written by the controller (or the
plain session) from the same code path with and without xdist.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

import pytest

from .artifacts import RunRecorder, collect_environment
from .artifacts.model_result import MODEL_PROPERTY, headline
from .artifacts.publish import Published, publish, tasks_dir, with_peers
from .artifacts.side_by_side import format_cross_engine, format_side_by_side
from .config import SETTINGS, ConfigError, resolve_config
from .errors import WasmTuneError
from .fixtures import (
    FIXTURE_NAMES,
    RESULT_PROPERTY,
    STATE_KEY,
    WORKERINPUT_KEY,
    PluginState,
    task_syntax_error,
    wasm_tune,
    wasm_tune_browser,
    wasm_tune_config,
    wasm_tune_services,
    wasm_tune_workbench,
    wasm_tune_worker_browsers,
)
from .gate import gate_of, register_gate
from .progress import LiveProgress, format_summary

if TYPE_CHECKING:
    from .infrastructure import SharedServices
    from .service_broker import ServiceBroker

__all__ = [
    "wasm_tune",
    "wasm_tune_browser",
    "wasm_tune_config",
    "wasm_tune_services",
    "wasm_tune_workbench",
    "wasm_tune_worker_browsers",
]
MARKER = "wasm_tune"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wasm-tune", "auto-tune TVM kernels for WebAssembly in browsers")
    for setting in SETTINGS:
        kind = {"action": "store_true"} if setting.is_switch else {"metavar": setting.metavar}
        group.addoption(
            setting.flag, default=None, dest=_dest(setting.key), help=setting.help, **kind
        )
        parser.addini(
            setting.ini, help=f"{setting.about} Default: {setting.shown_default}", default=""
        )


def _dest(key: str) -> str:
    return f"wasm_tune_{key}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: a tuning task measured in browsers")
    if config.getoption("help", False) or config.getoption("version", False):
        return
    try:
        wasm_config = resolve_config(
            {setting.key: config.getoption(_dest(setting.key)) for setting in SETTINGS},
            {setting.ini: config.getini(setting.ini) for setting in SETTINGS},
            os.environ,
            cwd=config.invocation_params.dir,
            ini_file=config.inipath,
        )
    except ConfigError as err:
        raise pytest.UsageError(str(err)) from None
    is_worker = hasattr(config, "workerinput")
    write_line = None if is_worker else _line_writer(config)
    state = PluginState(
        wasm_config,
        write_line=write_line,
        progress=LiveProgress(write_line) if write_line else None,
        recorder=None if is_worker else RunRecorder(),
    )
    config.stash[STATE_KEY] = state
    register_gate(config, wasm_config)
    if not is_worker:
        config.pluginmanager.register(_ReportHooks(config, state), "wasm_tune.report")
        if config.pluginmanager.hasplugin("xdist") and not config.option.collectonly:
            config.pluginmanager.register(_XdistControllerHooks(), "wasm_tune.xdist")


def _line_writer(config: pytest.Config) -> Callable[[str], None]:
    """Write a whole line on the terminal, past pytest's output capture (thread-safe)."""
    lock = threading.Lock()

    def write_line(line: str) -> None:
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        if terminal is None:
            return
        capture = config.pluginmanager.get_plugin("capturemanager")
        suspended = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
        with lock, suspended:
            terminal.write_line(line)
            terminal.flush()

    return write_line


@pytest.hookimpl(trylast=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize every item using wasm_tune over the browsers; trylast puts the id last.

    An item that parametrizes `wasm_tune_browser` itself keeps its own browsers.
    """
    if "wasm_tune_browser" not in metafunc.fixturenames:
        return
    if _parametrized_by_user(metafunc, "wasm_tune_browser"):
        return
    browsers = list(metafunc.config.stash[STATE_KEY].config.browsers)
    metafunc.parametrize("wasm_tune_browser", browsers, ids=browsers)


def _parametrized_by_user(metafunc: pytest.Metafunc, name: str) -> bool:
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [part.strip() for part in names.split(",")]
        if name in names:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark wasm_tune items (so `-m wasm_tune` selects them and reports carry the keyword).

    A broken task file must not stop the other tasks: a session that collects wasm_tune items
    continues past collection errors (they are still reported and fail the run).
    """
    tuned = [item for item in items if "wasm_tune" in getattr(item, "fixturenames", ())]
    for item in tuned:
        item.add_marker(MARKER)
    if tuned:
        config.option.continue_on_collection_errors = True


def pytest_collection_finish(session: pytest.Session) -> None:
    state = session.config.stash.get(STATE_KEY, None)
    if state is not None and state.progress is not None:
        state.progress.total = sum(1 for item in session.items if item.get_closest_marker(MARKER))


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """A task file with a syntax error: the error in a few lines, not an import traceback."""
    report = yield
    if report.failed and isinstance(collector, pytest.Module):
        message = task_syntax_error(collector.path)
        if message is not None:
            report.longrepr = message
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A WasmTuneError (missing toolchain, browser, ...) is one message with its fix, not a
    traceback wall (unless --tb=long/short/... asks for one)."""
    report = yield
    excinfo = call.excinfo
    if (
        report.failed
        and excinfo is not None
        and excinfo.errisinstance(WasmTuneError)
        and FIXTURE_NAMES.intersection(getattr(item, "fixturenames", ()))
        and item.config.getoption("tbstyle", "auto") == "auto"
    ):
        report.longrepr = excinfo.getrepr(style="value", chain=False)
    return report


class _ReportHooks:
    """Controller (or plain session) side: collect results, write report.json, summarise."""

    def __init__(self, config: pytest.Config, state: PluginState) -> None:
        self.config = config
        self.state = state
        self.recorder = state.recorder or RunRecorder()
        self.published: Published | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "teardown":
            self._take_models(report)
        if MARKER not in report.keywords:
            return
        message = _failure_message(report) if report.failed else ""
        self.recorder.add_outcome(report.nodeid, report.when, report.outcome, message)
        if report.when != "teardown":
            return
        kept = []
        for name, value in report.user_properties:
            if name == RESULT_PROPERTY and isinstance(value, dict):
                self.recorder.add_result(value)  # the full record goes to report.json, not JUnit
            else:
                kept.append((name, value))
        report.user_properties = kept

    def _take_models(self, report: pytest.TestReport) -> None:
        """End-to-end model results (any item may record one) go to report.json's "models"."""
        kept = []
        for name, value in report.user_properties:
            if name == MODEL_PROPERTY and isinstance(value, dict):
                self.recorder.add_model(report.nodeid, value)
            else:
                kept.append((name, value))
        report.user_properties = kept

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.recorder.empty:
            return
        config = self.state.config
        role = "controller" if self.config.pluginmanager.hasplugin("dsession") else "session"
        self.recorder.models = with_peers(self.recorder.models, config.artifacts_dir)
        report = self.recorder.build(
            config.to_dict(), collect_environment(self.recorder.browsers()), role
        )
        gate = gate_of(self.config)
        if gate is not None:
            report["comparison"] = gate.to_dict(self.recorder.tasks)
        nodeids = [task["nodeid"] for task in self.recorder.tasks] or list(self.recorder.items)
        where = tasks_dir(self.config.rootpath, nodeids)
        self.published = publish(report, config.artifacts_dir, where)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.recorder.empty:
            return
        terminalreporter.write_sep("=", f"wasm-tune summary ({self.state.config.mode})")
        if self.recorder.tasks:
            for line in format_summary(self.recorder.tasks):
                terminalreporter.write_line(line)
            for line in format_side_by_side(self.recorder.tasks):
                terminalreporter.write_line(line)
            cross = format_cross_engine(self.recorder.tasks)
            if cross:
                terminalreporter.write_line("each browser's best re-measured in the others:")
            for line in cross:
                terminalreporter.write_line(line)
        for model in self.recorder.models:
            terminalreporter.write_line(headline(model))
        missing = self.recorder.without_result()
        if missing:
            terminalreporter.write_line(f"{len(missing)} wasm_tune item(s) gave no result:")
            for item in missing:
                terminalreporter.write_line(f"  {item['nodeid']}: {item.get('message', '')}")
        gate = gate_of(self.config)
        if gate is not None and self.recorder.tasks:
            for line in gate.summary(self.recorder.tasks):
                terminalreporter.write_line(line)
        if self.published is not None:
            terminalreporter.write_line(f"report: {self.published.report}")
            terminalreporter.write_line(f"html report: {self.published.html}")


def _failure_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    lines = report.longreprtext.strip().splitlines()
    return lines[-1] if lines else report.outcome


class _XdistControllerHooks:
    """Registered on the xdist controller: every worker gets a ticket; the services start
    when the first worker asks for them (`service_broker`), so a suite without tuning tasks
    starts none and imports no TVM."""

    def __init__(self) -> None:
        self.shared: SharedServices | None = None
        self.broker: ServiceBroker | None = None

    def pytest_configure_node(self, node: object) -> None:
        if self.broker is None:
            from .service_broker import ServiceBroker

            self.broker = ServiceBroker(self)
        node.workerinput[WORKERINPUT_KEY] = self.broker.ticket()  # type: ignore[attr-defined]

    def payload(self) -> dict[str, object]:
        """The broker's source (called under its lock): start the services once."""
        if self.shared is None:
            from .infrastructure import SharedServices

            self.shared = SharedServices()
        return self.shared.payload()

    def pytest_unconfigure(self) -> None:
        if self.broker is not None:
            self.broker.close()
        if self.shared is not None:
            self.shared.close()
