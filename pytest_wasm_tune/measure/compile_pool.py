"""Candidate compiles in worker processes (TVM's PopenPoolExecutor), each bounded in time.

A compile that exceeds its bound is killed with its worker (the next one starts fresh), so one
pathological candidate becomes a failed trial instead of a stalled task. Workers persist across
batches and tasks of a process (starting one costs ~1 s: it imports TVM); they inherit the CPU
affinity of the thread that first uses the pool.
"""

from __future__ import annotations

import atexit
import subprocess
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from .outcome import BUILD_FAILED, BUILD_TIMED_OUT

# Recycle a worker after this many compiles: TVM notes memory growth in long-lived workers.
MAX_USES_PER_WORKER = 256

_pools: dict[tuple[int, float], CompilePool] = {}
_pools_lock = threading.Lock()


class CompilePool:
    """`compile(items)`: (mod, target, symbol, out_dir) → object files, or an error message."""

    def __init__(self, workers: int, timeout_s: float) -> None:
        from tvm.support.popen_pool import PopenPoolExecutor

        self.workers = workers
        self.timeout_s = timeout_s
        self._pool = PopenPoolExecutor(
            max_workers=workers,
            timeout=timeout_s,
            maximum_process_uses=MAX_USES_PER_WORKER,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def submit(self, mod: Any, target: Any, symbol: str, out_dir: Path) -> Future:
        from .builder import compile_object

        return self._pool.submit(compile_object, mod, target, symbol, out_dir)

    def result(self, future: Future) -> list[Path] | str:
        """The object files of a submitted compile, or why it failed."""
        try:
            return list(future.result())
        except TimeoutError:
            return f"{BUILD_TIMED_OUT}: killed after {self.timeout_s:g} s"
        except Exception as err:
            return f"{BUILD_FAILED}: {type(err).__name__}: {err}"

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for CompileAffinity)."""
        # PopenPoolExecutor keeps one PopenWorker per pool thread; `_proc` is its Popen, None
        # before the first compile and after a kill
        workers = list(self._pool._worker_map.values())
        return [w._proc.pid for w in workers if w._proc is not None and w._proc.poll() is None]

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def shared_compile_pool(workers: int, timeout_s: float) -> CompilePool:
    """The process's pool for these settings (created on first use, closed at exit)."""
    with _pools_lock:
        key = (workers, float(timeout_s))
        if key not in _pools:
            _pools[key] = CompilePool(workers, timeout_s)
        return _pools[key]


@atexit.register
def _close_pools() -> None:
    with _pools_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()
