"""Elastic compile CPUs: real child processes moved between all CPUs and the work CPUs."""

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from pytest_wasm_tune.measure.compile_affinity import WORKER_NICENESS, CompileAffinity
from pytest_wasm_tune.measure.cpus import CpuPlan

pytestmark = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to separate"
)

# a worker with a second thread: every thread of it must move
_WORKER = (
    "import sys, threading; threading.Thread(target=sys.stdin.read).start(); "
    "print('ready', flush=True); sys.stdin.read()"
)


@pytest.fixture
def worker() -> Iterator[subprocess.Popen]:
    child = subprocess.Popen(
        [sys.executable, "-c", _WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    yield child
    child.kill()
    child.wait()


def _threads(pid: int) -> list[int]:
    return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]


def _cpus_of(pid: int) -> set[frozenset[int]]:
    return {frozenset(os.sched_getaffinity(tid)) for tid in _threads(pid)}


def test_workers_leave_the_measure_cpus_while_timing_and_use_all_cpus_after(
    worker: subprocess.Popen,
) -> None:
    plan = CpuPlan.for_cpus(frozenset(os.sched_getaffinity(0)))
    affinity = CompileAffinity(plan, lambda: [worker.pid])
    assert len(_threads(worker.pid)) == 2
    affinity.apply()
    every = plan.work | plan.measure
    assert _cpus_of(worker.pid) == {every} and affinity.current == every
    with affinity.timing():
        assert _cpus_of(worker.pid) == {plan.work}
        with affinity.timing():  # a second timing session at once
            pass
        assert _cpus_of(worker.pid) == {plan.work}  # the first one still times
    assert _cpus_of(worker.pid) == {every}
    niceness = max(WORKER_NICENESS, os.getpriority(os.PRIO_PROCESS, 0))  # never lowered
    assert {os.getpriority(os.PRIO_PROCESS, t) for t in _threads(worker.pid)} == {niceness}


def test_a_worker_that_exited_is_skipped(worker: subprocess.Popen) -> None:
    plan = CpuPlan.for_cpus(frozenset(os.sched_getaffinity(0)))
    worker.kill()
    worker.wait()
    affinity = CompileAffinity(plan, lambda: [worker.pid])
    with affinity.timing():
        assert affinity.current == plan.work
