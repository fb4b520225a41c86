"""What every browser of the farm does: open the page, wait for its registration, restart, stop.

A browser is a Selenium WebDriver session on the measurement page. Subclasses say how the
session is created (`_launch`) and what else they own (profiles, an X server: `_release`);
everything the tuner and the device need is here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from .. import defaults, processes
from ..errors import BrowserError

if TYPE_CHECKING:
    from ..measure.cpus import CpuPlan

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not try to download drivers
os.environ.setdefault("SE_AVOID_STATS", "true")


def quit_driver(driver: object, leftover_pids: Sequence[int]) -> None:
    """Quit a Selenium driver, then SIGKILL `leftover_pids` (a hung renderer can outlive
    quit()); a dead browser must not stop the teardown."""
    with contextlib.suppress(Exception):
        driver.quit()  # type: ignore[attr-defined]
    for pid in leftover_pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def driver_group(driver: Any) -> int | None:
    """The process group of a local driver's service (None for a remote WebDriver)."""
    pid = getattr(getattr(getattr(driver, "service", None), "process", None), "pid", None)
    try:
        return os.getpgid(pid) if isinstance(pid, int) else None
    except OSError:
        return None


def driver_descendants(driver: Any) -> list[int]:
    """PIDs of every process below a local driver's service (the browser and its helpers)."""
    import psutil

    try:
        service = psutil.Process(driver.service.process.pid)
        return [child.pid for child in service.children(recursive=True)]
    except (psutil.Error, AttributeError):
        return []


class WebDriverBrowser:
    """Opens the page in a WebDriver browser and waits until its RPC key is in the tracker.

    `registered` is polled to know when the page's RPC server has reached the tracker; the
    caller passes it (e.g. `lambda: tracker.free_keys().get(key, 0) > 0`).
    """

    name: ClassVar[str]
    title: ClassVar[str]  # how messages name it: "Chromium", "Firefox", ...
    start_attempts: ClassVar[int] = defaults.BROWSER_START_ATTEMPTS
    slowdown: ClassVar[float] = 1.0  # how much slower it runs code than the host (timeouts)

    def __init__(
        self,
        page_url: str,
        registered: Callable[[], bool],
        *,
        ready_timeout_s: float = defaults.BROWSER_READY_TIMEOUT_S,
        cpus: CpuPlan | None = None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.page_url = page_url
        self._registered = registered
        self._ready_timeout_s = ready_timeout_s
        self.cpus = cpus  # with a plan, the driver and the whole browser run on its measure CPUs
        self._report = report
        self._driver: Any = None
        self._driver_group: int | None = None
        self.version = ""

    # --- what a subclass provides ---

    def check(self) -> None:
        """Raise BrowserError naming the fix if something the browser needs is missing."""

    def _launch(self) -> Any:
        """Start the browser; return the WebDriver. Raise BrowserError if it does not start."""
        raise NotImplementedError

    def _release(self) -> None:
        """Remove what `_launch` created besides the driver (profiles, servers)."""

    def console_log(self) -> str:
        """The page's recent console output, for error messages."""
        return self._page_log()

    def _popen_kw(self) -> dict[str, Any]:
        """How a local driver is started: in a process group of its own, which the browser
        and its helpers inherit (ended as one, also by the watchdog: see processes), on the
        measure CPUs of the plan."""
        pin = {"preexec_fn": self.cpus.pin_browser} if self.cpus is not None else {}
        return {"start_new_session": True, **pin}

    # --- the common part ---

    def __enter__(self) -> WebDriverBrowser:
        self.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        """Launch the browser, open the page and wait until it is registered; a failed start
        is retried a few times, then its last error is raised."""
        self.check()
        for attempt in range(1, self.start_attempts + 1):
            try:
                self._start_once()
                return
            except BrowserError as err:
                self.stop()
                if attempt == self.start_attempts:
                    raise
                if self._report is not None:
                    self._report(
                        f"Failed {attempt}/{self.start_attempts} times to reach {self.name}; "
                        f"retrying ({str(err).splitlines()[0]})"
                    )

    def _start_once(self) -> None:
        from selenium.common.exceptions import WebDriverException

        self._driver = self._launch()
        self._driver_group = driver_group(self._driver)
        if self._driver_group is not None:
            processes.adopt_group(self._driver_group)
        self.version = str(self._driver.capabilities.get("browserVersion", ""))
        try:
            self._driver.set_script_timeout(10)
        except WebDriverException as err:
            raise BrowserError(f"{self.title} stopped answering: {err.msg}") from err
        self.open_page()

    def open_page(self) -> None:
        """(Re)load the page, which also closes a hung RPC websocket; wait for registration."""
        from selenium.common.exceptions import WebDriverException

        if self._driver is None:
            raise BrowserError(f"{self.title} is not running")
        try:
            self._driver.get(self.page_url)
        except WebDriverException as err:
            raise BrowserError(f"{self.title} could not open {self.page_url}: {err.msg}") from err
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self._ready_timeout_s
        while time.monotonic() < deadline:
            if self.page_state() == "ready" and self._registered():
                return
            time.sleep(0.05)
        raise BrowserError(
            f"{self.title} loaded {self.page_url} but the page did not register with the "
            f"tracker within {self._ready_timeout_s:.0f} s (page state: {self.page_state()!r}). "
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

    def _page_log(self) -> str:
        """The page's own log (its `#log` element): readable in every engine."""
        from selenium.common.exceptions import WebDriverException

        if self._driver is None:
            return ""
        try:
            text = self._driver.execute_script(
                "const el = document.getElementById('log'); return el ? el.textContent : ''"
            )
        except WebDriverException:
            return "(page log unavailable)"
        return "\n".join(str(text or "").splitlines()[-40:])

    @property
    def host(self) -> str:
        """The machine the browser runs on (records name it)."""
        return socket.gethostname()

    def browser_pids(self) -> list[int]:
        """PIDs of the browser processes started by the driver (for crash tests and cleanup)."""
        return driver_descendants(self._driver) if self._driver is not None else []

    def restart(self) -> None:
        """Kill and relaunch the browser (after a crash or a hang)."""
        self.stop()
        self.start()

    def stop(self) -> None:
        if self._driver is not None:
            quit_driver(self._driver, self.browser_pids())
            self._driver = None
        if self._driver_group is not None:
            processes.end_group(self._driver_group)
            self._driver_group = None
        self._release()
