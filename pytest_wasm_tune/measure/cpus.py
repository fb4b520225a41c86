"""Quiet timing: the browser's processes get CPUs of their own, compile and search the others.

On a host with at least two usable CPUs the last one is the *measure* CPU: the browser (its
driver and every process it starts) is pinned there, and while a task tunes, our threads and the
compile workers are pinned to the rest, so no compile or search thread of ours competes with a
timed repeat. On a single CPU nothing can be separated; the plan says so and tuning pauses
builds while the browser measures (no pipelining).

    plan = CpuPlan.for_this_host()
    with plan.working():          # this process (all its threads) on the work CPUs
        ...
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MEASURE_CPUS_ENV = "WASM_TUNE_MEASURE_CPUS"


@dataclass(frozen=True)
class CpuPlan:
    """Which CPUs time kernels (the browser's) and which compile and search (ours)."""

    measure: frozenset[int]
    work: frozenset[int]

    @property
    def separated(self) -> bool:
        """True if no work CPU is also a measure CPU (pipelining cannot disturb timing)."""
        return not (self.measure & self.work)

    @property
    def work_threads(self) -> int:
        return len(self.work)

    @classmethod
    def for_cpus(cls, available: frozenset[int], measure: frozenset[int] | None = None) -> CpuPlan:
        """The plan for `available` CPUs: `measure` if given, else the highest-numbered one."""
        if not available:
            raise ValueError("no CPU is available to this process")
        if measure is None:
            measure = frozenset({max(available)})
        if not measure <= available:
            raise ValueError(
                f"measure CPUs {sorted(measure)} are not all available (available: "
                f"{sorted(available)}); fix {MEASURE_CPUS_ENV}"
            )
        work = available - measure
        return cls(measure, work) if work else cls(measure, available)

    @classmethod
    def for_this_host(cls) -> CpuPlan:
        """The plan for this process's CPU affinity; `WASM_TUNE_MEASURE_CPUS=3` or `2,3`
        chooses the measure CPUs."""
        available = frozenset(os.sched_getaffinity(0))
        text = os.environ.get(MEASURE_CPUS_ENV, "").strip()
        return cls.for_cpus(available, parse_cpu_list(text) if text else None)

    def pin_browser(self) -> None:
        """For a browser driver's `preexec_fn`: the child and all it starts run on `measure`."""
        os.sched_setaffinity(0, self.measure)

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        """Pin every thread of this process to the work CPUs (threads and processes started
        meanwhile inherit it); restore each thread's previous affinity afterwards."""
        if not self.separated:
            yield
            return
        caller_before = frozenset(os.sched_getaffinity(0))
        before = _pin_all_threads(self.work)
        try:
            yield
        finally:
            # threads started while pinned (thread pools) get the caller's previous set
            for tid in _thread_ids():
                with contextlib.suppress(OSError):  # a thread may have ended meanwhile
                    os.sched_setaffinity(tid, before.get(tid, caller_before))

    def describe(self) -> str:
        if not self.separated:
            return f"CPUs {sorted(self.work)} shared: builds pause while kernels are timed"
        measure, work = _cpu_text(self.measure), _cpu_text(self.work)
        return f"browser on CPU {measure}, compiles on {work}"


def search_threads(workers: int = 1) -> int:
    """MetaSchedule search threads for one of `workers` processes tuning at once (xdist
    workers): its share of this process's CPUs, at least one."""
    return max(1, len(os.sched_getaffinity(0)) // max(1, workers))


def parse_cpu_list(text: str) -> frozenset[int]:
    """`"3"`, `"2,3"` or `"0-2,5"` → the set of CPU numbers (ValueError quoting bad input)."""
    cpus: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                first, last = (int(n) for n in part.split("-", 1))
                if last < first:
                    raise ValueError
                cpus.update(range(first, last + 1))
            else:
                cpus.add(int(part))
        except ValueError:
            raise ValueError(f"bad CPU list {text!r}: expected e.g. '3', '2,3' or '0-2'") from None
    return frozenset(cpus)


def _cpu_text(cpus: frozenset[int]) -> str:
    return ",".join(str(c) for c in sorted(cpus))


def _thread_ids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc/self/task").iterdir()]


def _pin_all_threads(cpus: frozenset[int]) -> dict[int, frozenset[int]]:
    before: dict[int, frozenset[int]] = {}
    for tid in _thread_ids():
        with contextlib.suppress(OSError):  # a thread may end meanwhile
            before[tid] = frozenset(os.sched_getaffinity(tid))
            os.sched_setaffinity(tid, cpus)
    return before
