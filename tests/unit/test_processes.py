"""Child-process lifetime: what a process adopted ends with it, however it ends."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_wasm_tune import processes
from pytest_wasm_tune.watchdog import start_time

# A process that adopts a sleeper, a sleeper in a group of its own and a temp dir named by a
# third sleeper's command line, prints their pids and the dir, then waits to be ended.
# SIGHUP starts at its default: under `nohup` every child inherits it ignored, and then (rightly)
# no handler is installed.
OWNER = """
import signal, subprocess, sys, time
from pytest_wasm_tune import processes

signal.signal(signal.SIGHUP, signal.SIG_DFL)

plain = subprocess.Popen(["sleep", "300"])
processes.adopt(plain.pid)
grouped = subprocess.Popen(["sleep", "301"], start_new_session=True)
processes.adopt_group(grouped.pid)
path = processes.owned_tempdir("chromium")
named = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(302)", str(path)], start_new_session=True
)
try:  # entered before the pids go out: a signal may come right after them
    print(plain.pid, grouped.pid, named.pid, path, flush=True)
    time.sleep(300)
finally:
    print("teardown ran", flush=True)
"""


def _start_owner(tmp_path: Path) -> tuple[subprocess.Popen[str], list[int], Path]:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", OWNER], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    *pids, path = proc.stdout.readline().split()
    return proc, [int(pid) for pid in pids], Path(path)


def _gone(pids: list[int], path: Path, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not path.exists() and all(start_time(pid) is None for pid in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_what_a_process_adopted_ends_with_it(tmp_path: Path, signum: int) -> None:
    proc, pids, path = _start_owner(tmp_path)
    assert path.is_dir() and path.name.startswith(f"wasm-tune-chromium-{proc.pid}-")
    assert all(start_time(pid) is not None for pid in pids)
    proc.send_signal(signum)
    proc.wait(timeout=10)
    assert _gone(pids, path), "an adopted process or the temp dir survived"
    assert proc.stdout is not None
    out = proc.stdout.read()  # the sleepers held the pipe: it ends only once they are gone
    if signum != signal.SIGKILL:  # SIGTERM/SIGHUP unwind the program: its teardown runs
        assert "teardown ran" in out
        assert proc.returncode != 0


def test_stale_temp_dirs_of_dead_owners_are_pruned(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"wasm-tune-stage-{dead.pid}-abc"
    live = tmp_path / f"wasm-tune-chromium-{os.getpid()}-abc"
    foreign = tmp_path / f"wasm-tune-kill-{dead.pid}-abc"
    for path in (stale, live, foreign):
        path.mkdir()
    assert processes.prune_stale_tempdirs(tmp_path) == [stale]
    assert not stale.exists() and live.is_dir() and foreign.is_dir()
