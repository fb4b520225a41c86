"""One timed measurement at a time per host.

Browsers started by different processes (pytest-xdist workers, two pytest runs, the bench) run
on the same measure CPU (`CpuPlan`); two of them timing kernels at the same moment skew both.
Every timed call into a page (`wasm_tune.measure`, `wasm_tune.measure_vm`) holds an exclusive
`flock` on one lock file per user and host, only for the duration of that call:

    with host_measure_lock().held():
        reply = remote_measure(...)

`WASM_TUNE_MEASURE_LOCK` names another lock file (e.g. on a shared directory), or `off`.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_ENV = "WASM_TUNE_MEASURE_LOCK"
REPORT_WAIT_S = 10.0  # a wait longer than this is logged

log = logging.getLogger("pytest_wasm_tune")


def default_lock_path() -> Path | None:
    """$WASM_TUNE_MEASURE_LOCK, `off` for none, else <tmp>/pytest-wasm-tune-<uid>/measure.lock."""
    given = os.environ.get(LOCK_ENV, "").strip()
    if given.lower() == "off":
        return None
    if given:
        return Path(given)
    return Path(tempfile.gettempdir()) / f"pytest-wasm-tune-{os.getuid()}" / "measure.lock"


class HostMeasureLock:
    """An exclusive lock on `path` shared by every process of the host that uses the same path
    (None: no locking). Each `held()` opens its own descriptor, so threads of one process
    exclude each other too. `waited_s` adds up the time spent waiting for it."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.waited_s = 0.0
        self._count = threading.Lock()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if self.path is None:
            yield
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as handle:
            started = time.monotonic()
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fcntl.flock(handle, fcntl.LOCK_EX)  # another browser of this host is timing
            waited = time.monotonic() - started
            with self._count:
                self.waited_s += waited
            if waited > REPORT_WAIT_S:
                log.info("waited %.0f s for another measurement on this host", waited)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


@functools.cache
def host_measure_lock() -> HostMeasureLock:
    """This process's lock on the default path (see `default_lock_path`)."""
    return HostMeasureLock(default_lock_path())
