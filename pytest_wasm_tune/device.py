"""A measurement device: a browser whose page is registered in the tracker under a key."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from . import defaults
from .rpc_session import BrowserSession


class Browser(Protocol):
    name: str
    version: str

    def page_state(self) -> str: ...

    def restart(self) -> None: ...


class BrowserDevice:
    """Opens RPC sessions on one browser and brings it back after a hang or a crash."""

    def __init__(
        self,
        browser: Browser,
        tracker_address: tuple[str, int],
        key: str,
        registered: Callable[[], bool],
    ) -> None:
        self.browser = browser
        self.tracker_address = tracker_address
        self.key = key
        self._registered = registered
        self.restarts = 0

    @property
    def name(self) -> str:
        return self.browser.name

    def session(
        self, module: bytes | bytearray, call_timeout_s: float = defaults.REMOTE_CALL_TIMEOUT_S
    ) -> BrowserSession:
        # a throttled browser (device emulation) gets its timeouts scaled by its slowdown
        slowdown = float(getattr(self.browser, "slowdown", 1.0))
        return BrowserSession(
            self.tracker_address,
            self.key,
            module,
            on_hang=self.restart,
            open_timeout_s=defaults.SESSION_OPEN_TIMEOUT_S * slowdown,
            call_timeout_s=call_timeout_s * slowdown,
        )

    def healthy(self, wait_s: float = 2.0) -> bool:
        """True if the page is up and registered (within `wait_s`, as re-registration lags)."""
        deadline = time.monotonic() + wait_s
        while True:
            if self.browser.page_state() == "ready" and self._registered():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def recover(self) -> None:
        """Restart the browser unless it is already healthy again."""
        if not self.healthy():
            self.restart()

    def restart(self) -> None:
        self.restarts += 1
        self.browser.restart()
