"""CPU plans (browser vs compile CPUs), pipelined chunks, candidate outcomes and the trial
journal."""

import os
import threading
from itertools import islice
from pathlib import Path

import pytest

from pytest_wasm_tune.artifacts.trial_journal import TrialEntry, TrialJournal
from pytest_wasm_tune.measure.builder import chunk_sizes
from pytest_wasm_tune.measure.cpus import CpuPlan, parse_cpu_list
from pytest_wasm_tune.measure.outcome import Outcome, classify


def test_cpu_plan_gives_the_browser_the_last_cpu_and_compiles_the_rest() -> None:
    plan = CpuPlan.for_cpus(frozenset({0, 1}))
    assert (plan.measure, plan.work, plan.separated) == (frozenset({1}), frozenset({0}), True)
    wide = CpuPlan.for_cpus(frozenset(range(8)), measure=frozenset({2, 3}))
    assert wide.work == frozenset({0, 1, 4, 5, 6, 7}) and wide.work_threads == 6


def test_a_single_cpu_cannot_be_separated() -> None:
    plan = CpuPlan.for_cpus(frozenset({3}))
    assert not plan.separated and plan.work == plan.measure == frozenset({3})
    assert "pause" in plan.describe()


def test_measure_cpus_must_be_available() -> None:
    with pytest.raises(ValueError, match="WASM_TUNE_MEASURE_CPUS"):
        CpuPlan.for_cpus(frozenset({0, 1}), measure=frozenset({5}))


@pytest.mark.parametrize(("text", "cpus"), [("3", {3}), ("2,3", {2, 3}), ("0-2, 5", {0, 1, 2, 5})])
def test_parse_cpu_list(text: str, cpus: set[int]) -> None:
    assert parse_cpu_list(text) == frozenset(cpus)


@pytest.mark.parametrize("text", ["a", "3-1", "1,,2"])
def test_parse_cpu_list_quotes_bad_input(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text).replace("[", r"\[")):
        parse_cpu_list(text)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to separate")
def test_working_pins_every_thread_and_restores_it() -> None:
    available = frozenset(os.sched_getaffinity(0))
    plan = CpuPlan.for_cpus(available)
    seen: dict[str, frozenset[int]] = {}
    release = threading.Event()

    def worker() -> None:
        release.wait(5)
        seen["worker"] = frozenset(os.sched_getaffinity(0))

    thread = threading.Thread(target=worker)
    thread.start()
    with plan.working():
        seen["main"] = frozenset(os.sched_getaffinity(0))
        release.set()
        thread.join(5)
    assert seen == {"main": plan.work, "worker": plan.work}
    assert frozenset(os.sched_getaffinity(0)) == available


@pytest.mark.parametrize(
    ("build", "run", "abandoned", "outcome"),
    [
        (None, None, False, Outcome.MEASURED),
        (None, None, True, Outcome.ABANDONED),
        ("wasm build failed: ValueError: x", None, False, Outcome.BUILD_ERROR),
        ("wasm build timed out: killed after 30 s", None, False, Outcome.BUILD_TIMEOUT),
        ("wasm-ld link failed: undefined symbol", None, False, Outcome.LINK_ERROR),
        (None, "kernel failed in chromium: trap", False, Outcome.RUN_ERROR),
        (None, "wrong result in argument 2: max abs diff 1", False, Outcome.WRONG_RESULT),
    ],
)
def test_outcomes(build: str | None, run: str | None, abandoned: bool, outcome: Outcome) -> None:
    assert classify(build, run, abandoned) is outcome
    assert outcome.failed is (outcome not in (Outcome.MEASURED, Outcome.ABANDONED))


def test_journal_round_trips_and_survives_a_torn_last_line(tmp_path: Path) -> None:
    journal = TrialJournal(tmp_path)
    first = TrialEntry(1, Outcome.MEASURED, 8, (0.001, 0.0012), None, True, "chromium", "156")
    second = TrialEntry(-2, Outcome.ABANDONED, 1, (0.5,))
    journal.append([first, second])
    assert journal.read() == [first, second]
    with journal.path.open("a") as handle:
        handle.write('{"key": 3, "outco')  # a run killed mid-write
    third = TrialEntry(3, Outcome.BUILD_TIMEOUT, error="wasm build timed out: killed after 30 s")
    journal.append([third])
    assert journal.read() == [first, second, third]


def test_pipelined_batches_start_with_a_half_chunk_else_one_module() -> None:
    assert list(islice(chunk_sizes(64, 16), 4)) == [8, 16, 16, 16]
    assert list(islice(chunk_sizes(64, 1), 2)) == [1, 1]
    assert list(islice(chunk_sizes(64, None), 2)) == [64, 64]
    assert next(chunk_sizes(0, None)) == 1


def test_an_abandoned_candidates_call_counts_as_timed_not_as_warm_up() -> None:
    measured = TrialEntry(1, Outcome.MEASURED, 8, (0.001, 0.002), warmup_ms=30.0)
    assert measured.timed_s == pytest.approx(0.024)
    assert measured.warmup_s == pytest.approx(0.030)
    # timed by the faster of its two warm-up calls (0.5 s and 0.6 s)
    abandoned = TrialEntry(2, Outcome.ABANDONED, 1, (0.5,), warmup_ms=1100.0)
    assert abandoned.timed_s == pytest.approx(0.5)
    assert abandoned.warmup_s == pytest.approx(0.6)
