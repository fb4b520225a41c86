"""A whole local stack in one context manager, for the CLI, `bench/` and tests: the session's
services and one browser, wired by the same classes the plugin uses (infrastructure.py).

with LocalStack("firefox") as stack:
    with stack.session(wasm_bytes) as session:
        ...
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from .infrastructure import SessionServices, WorkerBrowsers
from .toolchain.runtime import Progress, print_progress
from .tvm_import import import_tensor_intrinsics

if TYPE_CHECKING:
    from .browsers.base import WebDriverBrowser
    from .config import Farm
    from .device import BrowserDevice
    from .rpc_session import BrowserSession
    from .services import PageServer, ProxyService, TrackerService
    from .toolchain import WebRuntime
    from .toolchain.link import KernelLinker
    from .tuning import Workbench


class LocalStack:
    """Tracker + page server + proxy + one browser (local, or a farm entry's remote one)."""

    def __init__(
        self,
        browser: str = "chromium",
        *,
        stage_dir: Path | None = None,
        relaxed_simd: bool = False,
        farm: Farm | None = None,
        progress: Progress = print_progress,
    ) -> None:
        self.browser_name = browser
        self._stage_dir = stage_dir
        self._relaxed_simd = relaxed_simd
        self._farm = farm
        self._progress = progress
        self._stack = contextlib.ExitStack()
        self.services: SessionServices
        self.workbench: Workbench

    def __enter__(self) -> LocalStack:
        # MetaSchedule's slow first import overlaps with starting the services and the browser
        threading.Thread(target=import_tensor_intrinsics, daemon=True).start()
        try:
            host = self._farm.services_host if self._farm else None
            self.services = self._stack.enter_context(
                SessionServices(self._stage_dir, **({"host": host} if host else {}))
            )
            browsers = self._stack.enter_context(
                WorkerBrowsers(
                    self.services.addresses,
                    self._farm,
                    progress=self._progress,
                    relaxed_simd=self._relaxed_simd,
                )
            )
            self._browsers = browsers
            self.workbench = browsers.workbench(self.browser_name)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stack.close()

    @property
    def runtime(self) -> WebRuntime:
        return self._browsers.runtime()

    @property
    def linker(self) -> KernelLinker:
        return self.workbench.linker

    @property
    def device(self) -> BrowserDevice:
        return self.workbench.device  # type: ignore[return-value]

    @property
    def browser(self) -> WebDriverBrowser:
        return self.device.browser  # type: ignore[return-value]

    @property
    def tracker(self) -> TrackerService:
        return self.services.tracker

    @property
    def proxy(self) -> ProxyService:
        return self.services.proxy

    @property
    def page_server(self) -> PageServer:
        return self.services.page_server

    @property
    def stage_dir(self) -> Path:
        return self.services.addresses.stage_dir

    def session(self, module: bytes | bytearray) -> BrowserSession:
        return self.device.session(module)
