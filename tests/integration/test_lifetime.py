"""A tuning pytest ended by SIGTERM or SIGKILL leaves no process and no temp dir of ours."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TASK = """
from tvm import te


def test_matmul(wasm_tune):
    A = te.placeholder((128, 128), name="A")
    B = te.placeholder((128, 128), name="B")
    k = te.reduce_axis((0, 128), name="k")
    C = te.compute((128, 128), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    wasm_tune(te.create_prim_func([A, B, C]))
"""
# what a tuning session starts: driver, browser, proxy, tracker (TVM's popen worker), watchdog
SERVICES = ("proxy_main", "tvm.exec.popen_worker", "watchdog")
DRIVERS = {"chromium": ("chromedriver", "chromium"), "firefox": ("geckodriver", "firefox-esr")}
GRACE_S = 15


def _ours(root: psutil.Process, parts: tuple[str, ...]) -> dict[str, list[psutil.Process]]:
    found: dict[str, list[psutil.Process]] = {part: [] for part in parts}
    for process in root.children(recursive=True):
        try:
            cmdline = " ".join(process.cmdline())
        except psutil.Error:
            continue
        for part in parts:
            if part in cmdline:
                found[part].append(process)
    return found


def _naming(scratch: Path) -> list[psutil.Process]:
    """Processes whose command line names the child's TMPDIR (re-parented ones too)."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if str(scratch) in " ".join(process.cmdline()):
                found.append(process)
    return found


def _survivors(started: list[psutil.Process], scratch: Path) -> list[str]:
    alive = [p for p in started if _running(p)] + _naming(scratch)
    left = []
    for process in alive:
        with contextlib.suppress(psutil.Error):
            left.append(f"{process.pid} {' '.join(process.cmdline())[:120]}")
    # the child's own TMPDIR: whatever is in it (ours, the browser's) was left by the run, but
    # for the host's measurement lock file, which every run shares and keeps (host_lock.py)
    lock = scratch / f"pytest-wasm-tune-{os.getuid()}"
    kept = [lock] if lock.is_dir() and [p.name for p in lock.iterdir()] == ["measure.lock"] else []
    return left + [f"left {path}" for path in scratch.iterdir() if path not in kept]


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@pytest.mark.parametrize(
    ("browser", "signum"),
    [
        ("chromium", signal.SIGTERM),
        ("chromium", signal.SIGKILL),
        ("firefox", signal.SIGKILL),  # geckodriver makes the profile (under --profile-root)
    ],
    ids=["chromium-SIGTERM", "chromium-SIGKILL", "firefox-SIGKILL"],
)
def test_a_killed_tuning_run_leaves_nothing_behind(
    tmp_path: Path, browser: str, signum: int
) -> None:
    parts = (*DRIVERS[browser], *SERVICES)
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "test_task.py").write_text(TASK)
    # the child's TMPDIR, ours to inspect: short, for Chromium's socket path in its profile
    scratch = Path(tempfile.mkdtemp(prefix=f"wtk{signum}-"))
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tasks", "--wasm-tune"]
    proc = subprocess.Popen(
        [*argv, "--wasm-tune-trials=64", f"--wasm-tune-browsers={browser}"],
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the signal goes to the pytest process alone, as in CI
    )
    started: list[psutil.Process] = []
    try:
        root = psutil.Process(proc.pid)
        deadline = time.monotonic() + 60
        while not all((found := _ours(root, parts)).values()):
            assert proc.poll() is None, "the tuning run ended before its stack was up"
            assert time.monotonic() < deadline, f"the stack did not come up: {found}"
            time.sleep(0.2)
        time.sleep(2)  # into the first batch
        started = [p for found in _ours(root, parts).values() for p in found]
        proc.send_signal(signum)
        proc.wait(timeout=GRACE_S + 20)
        deadline = time.monotonic() + GRACE_S
        while (left := _survivors(started, scratch)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert left == [], f"left behind after {signal.Signals(signum).name}: {left}"
        if signum == signal.SIGTERM:
            assert proc.returncode != 0 and proc.returncode != -signal.SIGTERM  # it unwound
    finally:
        # what a failed run left: not on this machine. Only the child's own processes (this
        # pytest's other children, e.g. the session's shared stack, are not the test's)
        leftovers = [*started, *_naming(scratch)]
        with contextlib.suppress(psutil.Error):
            leftovers += psutil.Process(proc.pid).children(recursive=True)
        if proc.poll() is None:
            proc.kill()
        for process in leftovers:
            with contextlib.suppress(psutil.Error):
                process.kill()
        shutil.rmtree(scratch, ignore_errors=True)
