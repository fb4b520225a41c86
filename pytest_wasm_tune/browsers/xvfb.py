"""A private X server (Xvfb) for browsers that have no headless mode of their own."""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path
from types import TracebackType

from ..errors import BrowserError

XVFB_START_TIMEOUT_S = 10.0


def _read_line(fd: int, timeout_s: float) -> str:
    """Text up to the first newline (Xvfb writes the number and the newline separately, and
    fails if the pipe is closed in between), or "" after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    data = b""
    while b"\n" not in data:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 32) if ready else b""
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").strip()


class Xvfb:
    """Starts `Xvfb` on a free display (it picks one and writes it to a pipe: -displayfd)."""

    def __init__(self, binary: Path) -> None:
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None
        self.display = ""

    def __enter__(self) -> Xvfb:
        self.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        read_end, write_end = os.pipe()
        try:
            self._process = subprocess.Popen(
                [
                    str(self._binary),
                    "-displayfd",
                    str(write_end),
                    "-nolisten",
                    "tcp",
                    "-screen",
                    "0",
                    "1280x800x24",
                ],
                pass_fds=(write_end,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            os.close(write_end)
            write_end = -1
            number = _read_line(read_end, XVFB_START_TIMEOUT_S)
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
        if not number.isdigit():
            error = self._stderr()
            self.stop()
            raise BrowserError(f"Xvfb did not start within {XVFB_START_TIMEOUT_S:.0f} s: {error}")
        self.display = f":{number}"

    def _stderr(self) -> str:
        if self._process is None or self._process.stderr is None:
            return ""
        if self._process.poll() is None:
            return "(still running)"
        return self._process.stderr.read().decode(errors="replace").strip()[-500:]

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stderr is not None:
                self._process.stderr.close()
            self._process = None
