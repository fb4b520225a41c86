"""Local headless Chromium (Debian's chromium + chromedriver): V8."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import defaults, processes
from ..errors import BrowserError
from .base import WebDriverBrowser
from .sandbox import sandbox_flags

if TYPE_CHECKING:
    from ..measure.cpus import CpuPlan

CHROMIUM_FIX = "sudo apt-get install chromium chromium-driver   (or run `make setup`)"
# Chromium aborts when $TMPDIR/org.chromium.Chromium.XXXXXX/SingletonSocket does not fit a unix
# socket address (sun_path: 108 bytes with its NUL)
_SOCKET_TAIL = len("/org.chromium.Chromium.XXXXXX/SingletonSocket")
_SUN_PATH = 108


def check_chromium(
    binary: Path = defaults.CHROMIUM_BINARY, driver: Path = defaults.CHROMEDRIVER_BINARY
) -> None:
    """Raise BrowserError naming the fix if the browser or its driver is missing."""
    for path, what in ((binary, "Chromium"), (driver, "ChromeDriver")):
        if not os.access(path, os.X_OK):
            raise BrowserError(f"{what} was not found at {path}. Install it: {CHROMIUM_FIX}")


def driver_env(profile: str) -> dict[str, str] | None:
    """chromedriver's environment (None: ours): TMPDIR in the profile, so that what it and
    Chromium put there (the singleton socket, chromedriver's scoped dirs) goes with the profile,
    also when they are killed; ours where that socket path would be too long."""
    if len(profile) + _SOCKET_TAIL >= _SUN_PATH:
        return None
    return {**os.environ, "TMPDIR": profile}


class ChromiumBrowser(WebDriverBrowser):
    """Headless Chromium with a fresh profile, started by chromedriver."""

    name = "chromium"
    title = "Chromium"

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
        report: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(
            page_url, registered, ready_timeout_s=ready_timeout_s, cpus=cpus, report=report
        )
        self._binary = binary
        self._driver_path = driver
        self._flags = tuple(flags)
        self._profile: str | None = None

    def _options(self) -> Any:
        """Chromium's options; subclasses (device emulation) add to them."""
        from selenium import webdriver

        options = webdriver.ChromeOptions()
        options.binary_location = str(self._binary)
        for flag in (*self._flags, *sandbox_flags(), f"--user-data-dir={self._profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        return options

    def check(self) -> None:
        check_chromium(self._binary, self._driver_path)

    def _launch(self) -> Any:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service

        # Chromium's command line names the profile: the watchdog finds it even before the
        # driver's group is adopted; so does chromedriver's (its log lives there)
        self._profile = str(processes.owned_tempdir("chromium"))
        log = ["--log-level=WARNING"]
        popen_kw = self._popen_kw()
        try:
            return webdriver.Chrome(
                options=self._options(),
                service=Service(
                    str(self._driver_path),
                    service_args=log,
                    log_output=f"{self._profile}/chromedriver.log",
                    env=driver_env(self._profile),
                    popen_kw=popen_kw,
                ),
            )
        except WebDriverException as err:
            raise BrowserError(f"Chromium did not start: {err.msg}. Check: {CHROMIUM_FIX}") from err

    def console_log(self) -> str:
        from selenium.common.exceptions import WebDriverException

        if self._driver is None:
            return ""
        try:
            entries = self._driver.get_log("browser")
        except WebDriverException:
            return self._page_log()
        return "\n".join(str(entry.get("message", "")) for entry in entries[-40:])

    def _release(self) -> None:
        if self._profile is not None:
            processes.remove_tempdir(Path(self._profile))
            self._profile = None
