"""A tuning pytest ended by SIGTERM or SIGKILL leaves no process and no temp dir of ours."""

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
PARTS = ("chromedriver", "chromium", "proxy_main", "tvm.exec.popen_worker", "watchdog")
GRACE_S = 15


def _ours(root: psutil.Process) -> dict[str, list[psutil.Process]]:
    found: dict[str, list[psutil.Process]] = {part: [] for part in PARTS}
    for process in root.children(recursive=True):
        try:
            cmdline = " ".join(process.cmdline())
        except psutil.Error:
            continue
        for part in PARTS:
            if part in cmdline:
                found[part].append(process)
    return found


def _survivors(started: list[psutil.Process], scratch: Path) -> list[str]:
    left = [f"{p.pid} {' '.join(p.cmdline())[:120]}" for p in started if _running(p)]
    for process in psutil.process_iter():
        try:
            if str(scratch) in " ".join(process.cmdline()):
                left.append(f"{process.pid} {' '.join(process.cmdline())[:120]}")
        except psutil.Error:
            continue
    # the child's own TMPDIR: whatever is in it (ours, the browser's) was left by the run
    return left + [f"left {path}" for path in scratch.iterdir()]


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_tuning_run_leaves_nothing_behind(tmp_path: Path, signum: int) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "test_task.py").write_text(TASK)
    # the child's TMPDIR, ours to inspect: short, for Chromium's socket path in its profile
    scratch = Path(tempfile.mkdtemp(prefix=f"wtk{signum}-"))
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tasks", "--wasm-tune"]
    proc = subprocess.Popen(
        [*argv, "--wasm-tune-trials=64"],
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the signal goes to the pytest process alone, as in CI
    )
    try:
        root = psutil.Process(proc.pid)
        deadline = time.monotonic() + 60
        while not all((parts := _ours(root)).values()):
            assert proc.poll() is None, "the tuning run ended before its stack was up"
            assert time.monotonic() < deadline, f"the stack did not come up: {parts}"
            time.sleep(0.2)
        time.sleep(2)  # into the first batch
        started = [p for found in _ours(root).values() for p in found]
        proc.send_signal(signum)
        proc.wait(timeout=GRACE_S + 20)
        deadline = time.monotonic() + GRACE_S
        while (left := _survivors(started, scratch)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert left == [], f"left behind after {signal.Signals(signum).name}: {left}"
        if signum == signal.SIGTERM:
            assert proc.returncode != 0 and proc.returncode != -signal.SIGTERM  # it unwound
    finally:
        if proc.poll() is None:
            proc.kill()
        for process in psutil.Process().children(recursive=True):
            process.kill()
        shutil.rmtree(scratch, ignore_errors=True)
