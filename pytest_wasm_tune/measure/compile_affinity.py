"""Elastic compile CPUs: compile workers use every CPU while the browser idles and only the work
CPUs while it times kernels.

With pipelining on a small host (2 CPUs: one measures, one works) a fixed split leaves the
measure CPU idle whenever the browser waits for the next chunk, e.g. during a batch's first
chunk. Here the workers are moved, thread by thread, onto the measure CPU too while nothing is
timed, and off it for the whole of every timing session (`timing()`), so no compile thread
shares a CPU with a timed repeat. They also run at a lower priority (`WORKER_NICENESS`), so
that the runner's and the RPC proxy's threads on the work CPUs answer the browser at once.

    affinity = CompileAffinity(plan, pool.worker_pids)
    with affinity.timing():      # a session of timed repeats
        ...
    affinity.apply()             # after a worker (re)started: give it the current CPUs
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .cpus import CpuPlan

WORKER_NICENESS = 10


class CompileAffinity:
    """Moves the compile workers between all CPUs (browser idle) and the work CPUs (timing)."""

    def __init__(self, plan: CpuPlan, worker_pids: Callable[[], Iterable[int]]) -> None:
        self.plan = plan
        self._worker_pids = worker_pids
        self._timing = 0  # nested or concurrent timing sessions
        # workers already on `current` (threads they start later inherit it)
        self._placed: set[int] = set()
        self._lock = threading.Lock()

    @property
    def current(self) -> frozenset[int]:
        """The CPUs the workers may use now."""
        return self.plan.work if self._timing else self.plan.work | self.plan.measure

    @contextlib.contextmanager
    def timing(self) -> Iterator[None]:
        """While the browser times kernels: workers off its CPUs."""
        with self._lock:
            self._timing += 1
            self._move_workers(everyone=True)
        try:
            yield
        finally:
            with self._lock:
                self._timing -= 1
                self._move_workers(everyone=True)

    def apply(self) -> None:
        """Give a worker started since the last move (a replaced one) the current CPUs."""
        with self._lock:
            self._move_workers(everyone=False)

    def _move_workers(self, everyone: bool) -> None:
        cpus = self.current
        pids = set(self._worker_pids())
        if everyone:
            self._placed.clear()
        for pid in pids - self._placed:
            for tid in _thread_ids(pid):
                # a worker (or thread) may exit meanwhile: a killed compile, a recycled worker
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(tid, cpus)
                    if os.getpriority(os.PRIO_PROCESS, tid) < WORKER_NICENESS:
                        os.setpriority(os.PRIO_PROCESS, tid, WORKER_NICENESS)
        self._placed = pids


def _thread_ids(pid: int) -> list[int]:
    try:
        return [int(entry.name) for entry in Path(f"/proc/{pid}/task").iterdir()]
    except OSError:
        return []
