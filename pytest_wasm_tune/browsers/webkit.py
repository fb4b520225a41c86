"""Local WebKitGTK (Debian's webkit2gtk-driver and its MiniBrowser) under a private Xvfb:
JavaScriptCore, the engine of Safari, as close to Safari as this machine gets."""

from __future__ import annotations

import os
from typing import Any

from .. import defaults
from ..errors import BrowserError
from .base import WebDriverBrowser
from .xvfb import Xvfb

WEBKIT_FIX = "sudo apt-get install webkit2gtk-driver xvfb   (or run `make setup`)"

# SharedArrayBuffer is off in WebKitGTK unless JavaScriptCore is told otherwise.
JSC_ENV = {"JSC_useSharedArrayBuffer": "true"}


def check_webkit() -> None:
    """BrowserError naming the fix if the driver, the browser or Xvfb is missing."""
    for path, what in (
        (defaults.WEBKIT_DRIVER_BINARY, "WebKitWebDriver"),
        (defaults.WEBKIT_BROWSER_BINARY, "WebKitGTK's MiniBrowser"),
        (defaults.XVFB_BINARY, "Xvfb"),
    ):
        if not os.access(path, os.X_OK):
            raise BrowserError(f"{what} was not found at {path}. Install it: {WEBKIT_FIX}")


class WebKitBrowser(WebDriverBrowser):
    """MiniBrowser in automation mode, on its own X display."""

    name = "webkit"
    title = "WebKit"

    _xvfb: Xvfb | None = None

    def check(self) -> None:
        check_webkit()

    def _launch(self) -> Any:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service

        self._xvfb = Xvfb(defaults.XVFB_BINARY)
        self._xvfb.start()
        options = Options()
        options.binary_location = str(defaults.WEBKIT_BROWSER_BINARY)
        options.add_argument("--automation")
        env = {**os.environ, **JSC_ENV, "DISPLAY": self._xvfb.display}
        popen_kw = self._popen_kw()
        service = Service(
            str(defaults.WEBKIT_DRIVER_BINARY), env=env, log_output=os.devnull, popen_kw=popen_kw
        )
        try:
            return webdriver.WebKitGTK(options=options, service=service)
        except WebDriverException as err:
            raise BrowserError(f"WebKit did not start: {err.msg}. Check: {WEBKIT_FIX}") from err

    def _release(self) -> None:
        if self._xvfb is not None:
            self._xvfb.stop()
            self._xvfb = None
