"""A phone imitated by desktop Chromium: Chrome's mobile emulation (screen, user agent, touch)
plus CDP CPU throttling. It shows how a schedule behaves on a slower V8 device; it is labelled
emulation everywhere (ids, reports, databases) and is never a device result."""

from __future__ import annotations

from typing import Any

from .chromium import ChromiumBrowser

# A mid-range Android phone (Pixel 7 class): its screen, its Chrome's user agent and a CPU
# about 4x slower than this desktop core on single-threaded wasm.
PHONE_METRICS = {"width": 412, "height": 915, "pixelRatio": 2.625, "touch": True, "mobile": True}
PHONE_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Mobile Safari/537.36"
)
CPU_SLOWDOWN = 4


class AndroidEmulationBrowser(ChromiumBrowser):
    """Headless Chromium imitating an Android phone; timings are emulation, not a device."""

    name = "android-emulation"
    title = "Chromium (Android emulation)"
    slowdown = CPU_SLOWDOWN

    def _options(self) -> Any:
        options = super()._options()
        options.add_experimental_option(
            "mobileEmulation", {"deviceMetrics": PHONE_METRICS, "userAgent": PHONE_USER_AGENT}
        )
        return options

    def open_page(self) -> None:
        if self._driver is not None:
            self._driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        super().open_page()
