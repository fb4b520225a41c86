"""Every local browser the farm knows, in one table: adding one is a module plus a line here.

Config, doctor, fixtures and the stack read this table; it imports nothing heavy, so the
configuration can validate browser names without Selenium.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import defaults

if TYPE_CHECKING:
    from .base import WebDriverBrowser

CHROMIUM, FIREFOX = str(defaults.CHROMIUM_BINARY), str(defaults.FIREFOX_BINARY)


@dataclass(frozen=True)
class BrowserKind:
    """One local browser: where its class lives and what its engine can do."""

    name: str
    engine: str  # the JavaScript/wasm engine that measures
    module: str  # under pytest_wasm_tune.browsers
    class_name: str
    relaxed_simd: bool  # runs modules built with relaxed SIMD (measured: web/README.md)
    version_argv: tuple[str, ...]  # prints the installed version (for the doctor)
    emulation: bool = False  # a desktop engine imitating a device, never a device result

    def load(self) -> type[WebDriverBrowser]:
        module = importlib.import_module(f"{__package__}.{self.module}")
        return getattr(module, self.class_name)  # type: ignore[no-any-return]

    def check(self) -> None:
        """BrowserError naming the fix if the browser cannot start on this machine."""
        self.load()(page_url="", registered=lambda: False).check()


LOCAL_BROWSERS: dict[str, BrowserKind] = {
    kind.name: kind
    for kind in (
        BrowserKind("chromium", "V8", "chromium", "ChromiumBrowser", True, (CHROMIUM, "--version")),
        BrowserKind(
            "firefox", "SpiderMonkey", "firefox", "FirefoxBrowser", True, (FIREFOX, "--version")
        ),
        BrowserKind(
            "webkit",
            "JavaScriptCore",
            "webkit",
            "WebKitBrowser",
            False,
            ("dpkg-query", "-W", "-f", "WebKitGTK ${Version}", "libwebkit2gtk-4.1-0"),
        ),
        BrowserKind(
            "android-emulation",
            "V8",
            "android_emulation",
            "AndroidEmulationBrowser",
            True,
            (CHROMIUM, "--version"),
            emulation=True,
        ),
    )
}
LOCAL_BROWSER_NAMES = tuple(LOCAL_BROWSERS)
