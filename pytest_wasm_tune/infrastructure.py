"""The processes a tuning session needs, as plain classes (no pytest):

- SessionServices: TVM tracker, page server (the page + the staging directory) and RPC proxy,
  one set per session; under pytest-xdist the controller owns them.
- SharedServices: starts SessionServices on first request and hands out their addresses as a
  picklable dict (what the controller puts into every worker's `workerinput`).
- WorkerBrowsers: the browsers of one process (a worker, or the plain session), each registered
  in the tracker under its own key, handed out as tuning Workbenches.

    with SessionServices() as services, WorkerBrowsers(services.addresses) as browsers:
        result = tune(task, browsers.workbench("chromium"), work_dir)
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import urllib.parse
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import defaults, processes
from .config import Farm
from .errors import BrowserError, ServiceError, WasmTuneError
from .services.tracker import tracker_free_keys
from .toolchain.runtime import Progress, print_progress

if TYPE_CHECKING:
    from .services import PageServer, ProxyService, TrackerService
    from .toolchain import WebRuntime
    from .tuning import Workbench


@dataclass(frozen=True)
class ServiceAddresses:
    """Where the session's services listen; all a worker needs to start its browsers."""

    tracker: tuple[str, int]
    proxy_ws_url: str
    page_origin: str
    stage_dir: Path

    def page_url(self, key: str) -> str:
        """The page that registers in the tracker under `key` via the proxy."""
        query = urllib.parse.urlencode({"key": key, "proxy": self.proxy_ws_url})
        return f"{self.page_origin}/?{query}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "tracker": [self.tracker[0], self.tracker[1]],
            "proxy_ws_url": self.proxy_ws_url,
            "page_origin": self.page_origin,
            "stage_dir": str(self.stage_dir),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServiceAddresses:
        host, port = data["tracker"]
        return cls(
            (str(host), int(port)),
            str(data["proxy_ws_url"]),
            str(data["page_origin"]),
            Path(data["stage_dir"]),
        )


def expected_page_assets() -> dict[str, Path]:
    """The page's assets at the paths the cached runtime has (or will have once built).

    The page server reads files per request, so it can start before a worker builds the runtime.
    """
    from .page import page_assets
    from .toolchain.runtime import expected_web_runtime

    return page_assets(expected_web_runtime(), check=False)


class SessionServices:
    """Tracker + page server + proxy for the `with` block; `addresses` describes them."""

    def __init__(self, stage_dir: Path | None = None, host: str = defaults.LOOPBACK_HOST) -> None:
        self._stage_dir = stage_dir
        self._host = host
        self._stack = contextlib.ExitStack()
        self.addresses: ServiceAddresses
        self.tracker: TrackerService
        self.page_server: PageServer
        self.proxy: ProxyService

    def __enter__(self) -> SessionServices:
        from .services import PageServer, ProxyService, TrackerService

        if not ipaddress.ip_address(socket.gethostbyname(self._host)).is_loopback:
            warnings.warn(
                f"wasm-tune: the page server and the RPC proxy listen on {self._host}, reachable "
                "from other machines (the farm file asks for it); the proxy accepts only the "
                "page's origin",
                stacklevel=2,
            )
        try:
            stage_dir = self._stage_dir or Path(
                self._stack.enter_context(processes.temporary_directory("stage"))
            )
            assets = expected_page_assets()
            tracker = self._stack.enter_context(TrackerService(host=self._host))
            page = self._stack.enter_context(PageServer(assets, stage_dir, self._host))
            proxy = self._stack.enter_context(
                ProxyService(tracker.address, allowed_origins=[page.origin], host=self._host)
            )
        except BaseException:
            self._stack.close()
            raise
        self.tracker, self.page_server, self.proxy = tracker, page, proxy
        self.addresses = ServiceAddresses(tracker.address, proxy.ws_url, page.origin, stage_dir)
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stack.close()


class SharedServices:
    """Starts SessionServices on the first `payload()` and remembers the outcome.

    The payload is a picklable dict: the addresses, or `{"error": message}` when the services
    could not start (workers then fail their tasks with that message).
    """

    def __init__(self) -> None:
        self._services: SessionServices | None = None
        self._payload: dict[str, Any] | None = None

    def payload(self) -> dict[str, Any]:
        if self._payload is None:
            try:
                self._services = SessionServices().__enter__()
                self._payload = self._services.addresses.to_dict()
            except (WasmTuneError, OSError, ImportError) as err:
                self._payload = {"error": f"{type(err).__name__}: {err}"}
        return self._payload

    def close(self) -> None:
        if self._services is not None:
            self._services.__exit__(None, None, None)
            self._services = None


def addresses_from_payload(payload: dict[str, Any]) -> ServiceAddresses:
    """The addresses a controller handed out, or the ServiceError it recorded."""
    if "error" in payload:
        raise ServiceError(f"the controller's wasm-tune services did not start: {payload['error']}")
    return ServiceAddresses.from_dict(payload)


class WorkerBrowsers:
    """The browsers of one process, started on first use and stopped at exit.

    `workbench(name)` gives the Workbench (device, linker, staging) for a browser; a browser
    that failed to start raises the same error again instead of being retried per task.
    """

    def __init__(
        self,
        services: ServiceAddresses,
        farm: Farm | None = None,
        *,
        worker_id: str = "main",
        progress: Progress = print_progress,
        relaxed_simd: bool = False,
    ) -> None:
        self.services = services
        self.farm = farm
        self.relaxed_simd = relaxed_simd
        self.worker_id = worker_id
        self._progress = progress
        self._stack = contextlib.ExitStack()
        self._runtime: WebRuntime | None = None
        self._benches: dict[str, Workbench] = {}
        self._failed: dict[str, WasmTuneError] = {}
        self.versions: dict[str, str] = {}

    def __enter__(self) -> WorkerBrowsers:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stack.close()
        self._benches.clear()

    def runtime(self) -> WebRuntime:
        """The web runtime (built on first use, which prints progress) with its page checked."""
        if self._runtime is None:
            from .page import page_assets
            from .toolchain import ensure_web_runtime

            runtime = ensure_web_runtime(progress=self._progress)
            page_assets(runtime)
            self._runtime = runtime
        return self._runtime

    def workbench(self, name: str) -> Workbench:
        if name in self._failed:
            raise self._failed[name]
        if name not in self._benches:
            try:
                self._benches[name] = self._start(name)
            except WasmTuneError as err:
                self._failed[name] = err
                raise
        return self._benches[name]

    def _start(self, name: str) -> Workbench:
        from .browsers.registry import LOCAL_BROWSERS
        from .browsers.remote_webdriver import RemoteWebDriverBrowser
        from .device import BrowserDevice
        from .measure.cpus import CpuPlan
        from .measure.staging import StagingDirectory
        from .toolchain.link import KernelLinker
        from .tuning import Workbench

        remote = self.farm.get(name) if self.farm else None
        kind = LOCAL_BROWSERS.get(name)
        if remote is None and kind is None:
            raise BrowserError(
                f"no browser named {name!r}: not a local one ({', '.join(LOCAL_BROWSERS)}) "
                "and not in a farm file. Fix: --wasm-tune-browsers chromium"
            )
        linker = KernelLinker(self.runtime())
        key = f"wasm-tune-{self.worker_id}-{name}-{uuid.uuid4().hex[:8]}"
        tracker = self.services.tracker

        def registered() -> bool:
            return tracker_free_keys(tracker).get(key, 0) > 0

        url = self.services.page_url(key)
        cpus = None if remote is not None else CpuPlan.for_this_host()
        if remote is not None:
            browser = RemoteWebDriverBrowser(remote, url, registered, report=self._progress)
        else:
            assert kind is not None
            browser = kind.load()(url, registered, cpus=cpus, report=self._progress)
        self._stack.enter_context(browser)
        self.versions[name] = browser.version
        relaxed = self.relaxed_simd and (kind is None or kind.relaxed_simd)
        if self.relaxed_simd and not relaxed:
            self._progress(
                f"{name}: its engine does not run relaxed SIMD; it measures SIMD128 builds "
                "(databases without the -relaxed-simd suffix)"
            )
        device = BrowserDevice(browser, tracker, key, registered)
        staging = StagingDirectory(self.services.stage_dir)
        return Workbench(device, linker, staging, relaxed, cpus)
