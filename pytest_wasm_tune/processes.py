"""Everything we start dies with us: child processes, browsers and temporary directories.

- `adopt(pid)` / `disown(pid)` and `owned_tempdir(kind)` / `remove_tempdir(path)` tell this
  process's watchdog (`watchdog.py`, started on first use) what to end and remove if we die
  without cleaning up: SIGKILL, a crash, a teardown that hangs.
- On the first registration, SIGTERM and SIGHUP (if nobody else handles them) raise
  `Terminated` in the main thread, so `with` blocks and pytest fixtures tear down as usual;
  if that takes longer than `TEARDOWN_GRACE_S` (or a second signal comes), the process exits
  at once and the watchdog cleans up.
- Our temporary directories are named `wasm-tune-<kind>-<owner pid>-*`; `prune_stale_tempdirs()`
  removes those whose owner is gone (a machine reset, a killed watchdog).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import IO

from .watchdog import start_time

TEARDOWN_GRACE_S = 20.0
TEMP_KINDS = ("chromium", "firefox", "stage", "proxy", "batch", "obj")
_TEMP_NAME = re.compile(rf"wasm-tune-(?:{'|'.join(TEMP_KINDS)})-(\d+)-")


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C so that every teardown runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"received {signal.Signals(signum).name}: tearing down")
        self.signum = signum


class _Watchdog:
    """The pipe to this process's watchdog; the watchdog acts when the pipe closes."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "pytest_wasm_tune.watchdog"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            start_new_session=True,  # a signal to our process group must not reach it
        )
        assert self._proc.stdin is not None
        self._pipe: IO[str] = self._proc.stdin

    def tell(self, line: str) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):
            self._pipe.write(line + "\n")
            self._pipe.flush()


_watchdog: _Watchdog | None = None
_watchdog_lock = threading.Lock()


def _tell(line: str) -> None:
    global _watchdog
    with _watchdog_lock:
        if _watchdog is None or _watchdog.owner != os.getpid():  # none yet, or we forked
            prune_stale_tempdirs()
            _watchdog = _Watchdog()
            install_signal_teardown()
    _watchdog.tell(line)


def adopt(pid: int) -> None:
    """End process `pid` if we die while it runs."""
    started = start_time(pid)
    if started is not None:
        _tell(f"pid {pid} {started}")


def disown(pid: int) -> None:
    """`pid` was ended by its normal teardown."""
    if _watchdog is not None:
        _watchdog.tell(f"-pid {pid}")


def adopt_group(pgid: int) -> None:
    """End every process of group `pgid` if we die (a browser driver started with
    `start_new_session=True`: the browser and its helpers stay in the driver's group)."""
    _tell(f"group {pgid}")


def end_group(pgid: int) -> None:
    """Normal teardown: SIGKILL what is left of group `pgid` (a hung renderer can outlive its
    driver's quit()) and stop watching it."""
    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGKILL)
    if _watchdog is not None:
        _watchdog.tell(f"-group {pgid}")


def run_in_group(
    argv: list[str], *, timeout_s: float, **popen_kw: object
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run(argv, capture_output=True, text=True)` whose whole process tree (emcc
    and the tools it starts) is ended with the call, also when we are interrupted or die."""
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **popen_kw,  # type: ignore[call-overload]
    )
    adopt_group(proc.pid)
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired as expired:
        raise subprocess.TimeoutExpired(argv, timeout_s) from expired
    finally:
        end_group(proc.pid)
        proc.kill()
        proc.wait()
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def owned_tempdir(kind: str) -> Path:
    """A new `wasm-tune-<kind>-<pid>-*` temporary directory, removed if we die; processes
    naming it in their command line (a browser's profile) are ended then too."""
    assert kind in TEMP_KINDS, kind
    path = Path(tempfile.mkdtemp(prefix=f"wasm-tune-{kind}-{os.getpid()}-"))
    _tell(f"path {path}")
    return path


def remove_tempdir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if _watchdog is not None:
        _watchdog.tell(f"-path {path}")


@contextlib.contextmanager
def temporary_directory(kind: str) -> Iterator[Path]:
    """`owned_tempdir(kind)` for the `with` block."""
    path = owned_tempdir(kind)
    try:
        yield path
    finally:
        remove_tempdir(path)


def prune_stale_tempdirs(root: Path | None = None) -> list[Path]:
    """Remove our temporary directories whose owner process is gone; return them."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    with contextlib.suppress(OSError):
        for entry in root.iterdir():
            match = _TEMP_NAME.match(entry.name)
            if match and entry.is_dir() and not _alive(int(match.group(1))):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def install_signal_teardown() -> None:
    """SIGTERM/SIGHUP → `Terminated` in the main thread (only where the default is set)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _on_signal)


_deadline: threading.Timer | None = None


def _on_signal(signum: int, frame: FrameType | None) -> None:
    global _deadline
    if _deadline is not None:  # the second signal: no more waiting
        os._exit(128 + signum)
    _deadline = threading.Timer(TEARDOWN_GRACE_S, os._exit, [128 + signum])
    _deadline.daemon = True
    _deadline.start()
    raise Terminated(signum)
