"""Trials per minute with one browser, and with two under `pytest -n 2` (the host lock on).

The same task file (four matmuls) is tuned through pytest twice, into fresh artifacts each
time: once in one process with one Chromium, once spread over two xdist workers, each with a
Chromium of its own. Two browsers on one host never time kernels at the same moment (the
per-host measurement lock), so what the second browser can win is the time one spends
outside timed repeats (compiling, searching, opening sessions). Wall time counts from the
pytest start to its end, browser starts and TVM imports included.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SIZES = (96, 128, 160, 192)
TASK_FILE = """
import pytest
from tvm import te


@pytest.mark.parametrize("n", {sizes})
def test_matmul(n, wasm_tune):
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    assert wasm_tune(te.create_prim_func([A, B, C])).correct
"""


def _run(workers: int, trials: int, root: Path) -> dict[str, Any]:
    root.mkdir(parents=True)
    (root / "test_parallel_tasks.py").write_text(TASK_FILE.format(sizes=list(SIZES)))
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--wasm-tune"]
    argv += ["--wasm-tune-trials", str(trials), "-n", str(workers), "test_parallel_tasks.py"]
    started = time.monotonic()
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=3600)
    wall_s = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"pytest -n {workers} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
        )
    report = json.loads((root / "wasm-tune-artifacts" / "report.json").read_text())
    tried = sum(task["trials"] for task in report["tasks"])
    return {
        "workers": workers,
        "wall_s": round(wall_s, 1),
        "trials": tried,
        "trials_per_min": round(60 * tried / wall_s, 1),
    }


def parallel_bench(trials: int, log: Callable[[str], None]) -> dict[str, Any]:
    """`{"one_browser": {...}, "two_workers": {...}, "speedup": trials/min ratio}`."""
    with tempfile.TemporaryDirectory(prefix="wasm-tune-bench-xdist-") as tmp:
        log(f"parallel: {len(SIZES)} matmuls x {trials} trials, one browser")
        one = _run(0, trials, Path(tmp) / "one")
        log(f"parallel: the same under -n 2 ({one['trials_per_min']} trials/min with one)")
        two = _run(2, trials, Path(tmp) / "two")
    return {
        "tasks": [f"matmul{n}" for n in SIZES],
        "one_browser": one,
        "two_workers": two,
        "speedup": round(two["trials_per_min"] / one["trials_per_min"], 2),
    }
