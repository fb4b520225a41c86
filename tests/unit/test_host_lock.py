"""The per-host measurement lock: one timed call at a time across processes and threads."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pytest_wasm_tune.measure.host_lock import LOCK_ENV, HostMeasureLock, default_lock_path

HOLD_IN_CHILD = """
import sys, time
from pathlib import Path
from pytest_wasm_tune.measure.host_lock import HostMeasureLock
with HostMeasureLock(Path(sys.argv[1])).held():
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_second_process_waits_until_the_first_releases(tmp_path: Path) -> None:
    path = tmp_path / "measure.lock"
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_IN_CHILD, str(path), "0.6"], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    lock = HostMeasureLock(path)
    with lock.held():
        pass  # in only once the child let go, ~0.6 s after it took the lock
    child.wait(timeout=10)
    assert 0.3 < lock.waited_s < 5


def test_threads_of_one_process_exclude_each_other(tmp_path: Path) -> None:
    lock = HostMeasureLock(tmp_path / "measure.lock")
    inside = 0
    most_inside = 0
    guard = threading.Lock()

    def timed_call() -> None:
        nonlocal inside, most_inside
        with lock.held():
            with guard:
                inside += 1
                most_inside = max(most_inside, inside)
            time.sleep(0.05)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=timed_call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert most_inside == 1
    assert lock.waited_s > 0.05


def test_the_lock_file_can_be_moved_or_switched_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCK_ENV, str(tmp_path / "shared.lock"))
    assert default_lock_path() == tmp_path / "shared.lock"
    monkeypatch.setenv(LOCK_ENV, "off")
    assert default_lock_path() is None
    with HostMeasureLock(None).held():
        pass  # no file, no waiting
    monkeypatch.delenv(LOCK_ENV)
    assert default_lock_path().name == "measure.lock"
