"""Local headless Chromium (Debian's chromium + chromedriver) driven by Selenium."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from .. import defaults
from ..errors import BrowserError
from .sandbox import sandbox_flags

if TYPE_CHECKING:
    from ..measure.cpus import CpuPlan

CHROMIUM_FIX = "sudo apt-get install chromium chromium-driver   (or run `make setup`)"

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not try to download drivers
os.environ.setdefault("SE_AVOID_STATS", "true")


def check_chromium(
    binary: Path = defaults.CHROMIUM_BINARY, driver: Path = defaults.CHROMEDRIVER_BINARY
) -> None:
    """Raise BrowserError naming the fix if the browser or its driver is missing."""
    for path, what in ((binary, "Chromium"), (driver, "ChromeDriver")):
        if not os.access(path, os.X_OK):
            raise BrowserError(f"{what} was not found at {path}. Install it: {CHROMIUM_FIX}")


def quit_driver(driver: object, leftover_pids: Sequence[int]) -> None:
    """Quit a Selenium driver, then SIGKILL `leftover_pids` (a hung renderer can outlive
    quit()); a dead browser must not stop the teardown."""
    with contextlib.suppress(Exception):
        driver.quit()  # type: ignore[attr-defined]
    for pid in leftover_pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


class ChromiumBrowser:
    """Opens the page in headless Chromium and waits until its RPC key is in the tracker.

    `registered` is polled to know when the page's RPC server has reached the tracker; the
    caller passes it (e.g. `lambda: tracker.free_keys().get(key, 0) > 0`).
    """

    name = "chromium"

    def __init__(
        self,
        page_url: str,
        registered: Callable[[], bool],
        *,
        binary: Path = defaults.CHROMIUM_BINARY,
        driver: Path = defaults.CHROMEDRIVER_BINARY,
        flags: Sequence[str] = defaults.CHROMIUM_FLAGS,
        ready_timeout_s: float = defaults.BROWSER_READY_TIMEOUT_S,
        cpus: CpuPlan | None = None,
    ) -> None:
        self.page_url = page_url
        self._registered = registered
        self._binary = binary
        self._driver_path = driver
        self._flags = tuple(flags)
        self._ready_timeout_s = ready_timeout_s
        self.cpus = cpus  # with a plan, the driver and the whole browser run on its measure CPUs
        self._driver = None
        self._profile: str | None = None
        self.version = ""

    def __enter__(self) -> ChromiumBrowser:
        self.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        """Launch the browser, open the page and wait until it is registered."""
        check_chromium(self._binary, self._driver_path)
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service

        self._profile = tempfile.mkdtemp(prefix="wasm-tune-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = str(self._binary)
        for flag in (*self._flags, *sandbox_flags(), f"--user-data-dir={self._profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        popen_kw = {"preexec_fn": self.cpus.pin_browser} if self.cpus is not None else {}
        try:
            self._driver = webdriver.Chrome(
                options=options, service=Service(str(self._driver_path), popen_kw=popen_kw)
            )
        except WebDriverException as err:
            self.stop()
            raise BrowserError(f"Chromium did not start: {err.msg}. Check: {CHROMIUM_FIX}") from err
        self.version = str(self._driver.capabilities.get("browserVersion", ""))
        self._driver.set_script_timeout(10)
        self.open_page()

    def open_page(self) -> None:
        """(Re)load the page, which also closes a hung RPC websocket; wait for registration."""
        assert self._driver is not None
        self._driver.get(self.page_url)
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self._ready_timeout_s
        while time.monotonic() < deadline:
            if self.page_state() == "ready" and self._registered():
                return
            time.sleep(0.05)
        raise BrowserError(
            f"Chromium loaded {self.page_url} but the page did not register with the tracker "
            f"within {self._ready_timeout_s:.0f} s (page state: {self.page_state()!r}). "
            f"Browser log:\n{self.console_log()}"
        )

    def page_state(self) -> str:
        from selenium.common.exceptions import WebDriverException

        if self._driver is None:
            return "stopped"
        try:
            return str(self._driver.execute_script("return window.wasmTuneState || 'loading'"))
        except WebDriverException as err:
            return f"unreachable ({err.msg})"

    def console_log(self) -> str:
        from selenium.common.exceptions import WebDriverException

        if self._driver is None:
            return ""
        try:
            entries = self._driver.get_log("browser")
        except WebDriverException:
            return "(browser log unavailable)"
        return "\n".join(str(entry.get("message", "")) for entry in entries[-40:])

    def browser_pids(self) -> list[int]:
        """PIDs of the browser processes started by the driver (for crash tests and cleanup)."""
        import psutil

        if self._driver is None:
            return []
        try:
            driver = psutil.Process(self._driver.service.process.pid)
            return [child.pid for child in driver.children() if "chrom" in child.name()]
        except (psutil.Error, AttributeError):
            return []

    def restart(self) -> None:
        """Kill and relaunch the browser (after a crash or a hang)."""
        self.stop()
        self.start()

    def stop(self) -> None:
        if self._driver is not None:
            quit_driver(self._driver, self.browser_pids())
            self._driver = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None
