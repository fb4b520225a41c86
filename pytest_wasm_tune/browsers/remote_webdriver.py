"""A browser behind a remote WebDriver endpoint: a Selenium Grid hub or an Appium server.

The farm file's capabilities are sent as they are (Grid and Appium match and start the
browser or device from them); the page is then opened at the address the device reaches us.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import defaults
from ..errors import BrowserError
from .base import WebDriverBrowser

if TYPE_CHECKING:
    from ..config import RemoteBrowserSpec


def remote_options(spec: RemoteBrowserSpec) -> Any:
    """W3C options carrying exactly the farm entry's browserName and capabilities."""
    from selenium.webdriver.common.options import ArgOptions

    options = ArgOptions()
    options.set_capability("browserName", spec.browser_name)
    for key, value in spec.capabilities.items():
        options.set_capability(key, value)
    return options


class RemoteWebDriverBrowser(WebDriverBrowser):
    """One farm-file entry; its processes live on the remote end, which stops them on quit."""

    title = "remote browser"

    def __init__(
        self,
        spec: RemoteBrowserSpec,
        page_url: str,
        registered: Callable[[], bool],
        *,
        ready_timeout_s: float = defaults.BROWSER_READY_TIMEOUT_S,
        report: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(page_url, registered, ready_timeout_s=ready_timeout_s, report=report)
        self.spec = spec
        self.name = spec.name  # type: ignore[misc]  # the farm's name, e.g. "grid-firefox"
        self.title = f"{spec.name} ({spec.browser_name} at {spec.url})"  # type: ignore[misc]

    def _launch(self) -> Any:
        import urllib3.exceptions
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException

        try:
            return webdriver.Remote(
                command_executor=self.spec.url, options=remote_options(self.spec)
            )
        except WebDriverException as err:
            raise BrowserError(
                f"{self.title} did not start a session: {err.msg}. Check that the Grid or Appium "
                "server runs and has a node matching the capabilities in the farm file"
            ) from err
        except (OSError, urllib3.exceptions.HTTPError) as err:  # refused, unreachable, DNS
            raise BrowserError(f"{self.title} cannot be reached: {err}") from err

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.spec.url).hostname or self.spec.url

    def browser_pids(self) -> list[int]:
        return []  # not ours: the remote end owns them

    @property
    def capabilities(self) -> dict[str, Any]:
        """What the remote end says it started (for records and tests)."""
        return dict(self._driver.capabilities) if self._driver is not None else {}
