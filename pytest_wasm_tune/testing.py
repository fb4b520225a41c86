"""A whole local stack in one context manager: runtime, tracker, page server, proxy, Chromium.

with LocalStack() as stack:
    with stack.session(wasm_bytes) as session:
        ...
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import uuid
from pathlib import Path
from types import TracebackType

from .browsers.chromium import ChromiumBrowser
from .device import BrowserDevice
from .measure.cpus import CpuPlan
from .measure.staging import StagingDirectory
from .page import page_assets
from .remote import BrowserSession
from .services import PageServer, ProxyService, TrackerService
from .toolchain import WebRuntime, ensure_web_runtime
from .toolchain.link import KernelLinker
from .tuning import Workbench
from .tvm_import import import_tensor_intrinsics


class LocalStack:
    """Tracker + proxy + page server + one headless Chromium registered under `key`."""

    def __init__(
        self, key: str | None = None, stage_dir: Path | None = None, relaxed_simd: bool = False
    ) -> None:
        self.key = key or f"wasm-tune-{uuid.uuid4().hex[:8]}"
        self._stage_dir = stage_dir
        self._relaxed_simd = relaxed_simd
        self._stack = contextlib.ExitStack()
        self.runtime: WebRuntime
        self.linker: KernelLinker
        self.tracker: TrackerService
        self.proxy: ProxyService
        self.page_server: PageServer
        self.browser: ChromiumBrowser
        self.device: BrowserDevice
        self.workbench: Workbench

    def __enter__(self) -> LocalStack:
        # MetaSchedule's slow first import overlaps with starting the services and the browser
        threading.Thread(target=import_tensor_intrinsics, daemon=True).start()
        try:
            self.runtime = ensure_web_runtime()
            self.linker = KernelLinker(self.runtime)
            stage_dir = self._stage_dir or Path(
                self._stack.enter_context(tempfile.TemporaryDirectory())
            )
            self.stage_dir = stage_dir
            self.tracker = self._stack.enter_context(TrackerService())
            self.page_server = self._stack.enter_context(
                PageServer(page_assets(self.runtime), stage_dir)
            )
            self.proxy = self._stack.enter_context(
                ProxyService(self.tracker.address, allowed_origins=[self.page_server.origin])
            )
            url = self.page_server.page_url(self.key, self.proxy.ws_url)
            cpus = CpuPlan.for_this_host()
            self.browser = self._stack.enter_context(
                ChromiumBrowser(url, self._registered, cpus=cpus)
            )
            self.device = BrowserDevice(
                self.browser, self.tracker.address, self.key, self._registered
            )
            self.workbench = Workbench(
                self.device, self.linker, StagingDirectory(stage_dir), self._relaxed_simd, cpus
            )
        except BaseException:
            self._stack.close()
            raise
        return self

    def _registered(self) -> bool:
        return self.tracker.free_keys().get(self.key, 0) > 0

    def session(self, module: bytes | bytearray) -> BrowserSession:
        return self.device.session(module)

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stack.close()
