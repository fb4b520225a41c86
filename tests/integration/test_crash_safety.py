"""A tuning process killed with SIGKILL mid-run: the rerun keeps every complete record and
measures no candidate twice."""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from pytest_wasm_tune.artifacts import database as db
from pytest_wasm_tune.artifacts.trial_journal import TrialJournal
from pytest_wasm_tune.local_stack import LocalStack
from pytest_wasm_tune.measure.builder import candidate_key
from pytest_wasm_tune.tuning import TuneOptions, database_paths, tune

from . import tuning_child

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TRIALS, PER_ITER, SEED = 16, 8, 4
CHILD = Path(tuning_child.__file__)
REPO = CHILD.parents[2]


def _kill_group(proc: subprocess.Popen, scratch: Path) -> None:
    """SIGKILL the child and everything it started (tracker, proxy, chromedriver, Chromium)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while left := _leftovers(proc.pid, scratch):
        if time.monotonic() > deadline:
            raise AssertionError(f"processes of the killed run are still alive: {left}")
        time.sleep(0.1)


def _leftovers(pgid: int, scratch: Path) -> list[psutil.Process]:
    """Processes in the group, or using the child's temp dir (Chromium's profile is there)."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(process.pid) == pgid or str(scratch) in " ".join(process.cmdline()):
                found.append(process)
    return found


def _record_keys(work_dir: Path) -> list[int]:
    from tvm.s_tir.meta_schedule.database import JSONDatabase

    _, workload_path, records_path = database_paths(work_dir, tuning_child.task(), "chromium")
    database = JSONDatabase(str(workload_path), str(records_path), allow_missing=False)
    return [
        candidate_key(r.as_measure_candidate().sch.mod) for r in database.get_all_tuning_records()
    ]


@pytest.fixture
def scratch() -> Iterator[Path]:
    """The child's TMPDIR: a short path (Chromium's singleton socket goes there, ≤ 107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="wasm-tune-kill-") as name:
        yield Path(name)


def test_a_sigkilled_run_loses_nothing_complete_and_measures_nothing_twice(
    local_stack: LocalStack, tmp_path: Path, scratch: Path
) -> None:
    work_dir = tmp_path / "work"
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(work_dir), str(TRIALS), str(PER_ITER), str(SEED)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(REPO)},
        start_new_session=True,  # its own process group: the kill takes its services along
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not lines or lines[-1] != f"batch {PER_ITER}":
            line = proc.stdout.readline().strip()
            assert line, f"the tuning child ended early after {lines}"
            lines.append(line)
            if line == "ready":
                ready = time.monotonic()
        # halfway into the second batch: compiling, or measuring in the browser
        time.sleep((time.monotonic() - ready) / 2)
    finally:
        _kill_group(proc, scratch)

    db_dir, workload_path, records_path = database_paths(work_dir, tuning_child.task(), "chromium")
    before = records_path.read_bytes().splitlines()
    recorded_before = set(_record_keys(work_dir))
    journalled_before = [entry.key for entry in TrialJournal(db_dir).read()]
    assert len(recorded_before) >= PER_ITER and set(journalled_before) <= recorded_before
    # the worst a kill or a full disk leaves behind: a workload line without its newline (a kill
    # between MetaSchedule's write of a line and of its "\n"), a torn record, a torn journal line
    workload_path.write_bytes(workload_path.read_bytes().rstrip(b"\n"))
    torn_record = before[-1][: len(before[-1]) // 2]
    with records_path.open("ab") as handle:
        handle.write(torn_record)
    with (db_dir / "trials.jsonl").open("ab") as handle:
        handle.write(b'{"key":12,"outc')

    with pytest.warns(db.DatabaseWarning, match=r"1 damaged line") as warned:
        resumed = tune(
            tuning_child.task(),
            local_stack.workbench,
            work_dir,
            TuneOptions(trials=TRIALS, trials_per_iter=PER_ITER, seed=SEED),
        )

    assert not [w for w in warned if "locked by" in str(w.message)], "SIGKILL released the lock"
    after = records_path.read_bytes().splitlines()
    assert after[: len(before)] == before, "every complete record line is kept, in order"
    (torn_file,) = db_dir.glob(f"{db.RECORDS_FILE}.torn-*")
    assert torn_file.read_bytes() == torn_record + b"\n"
    keys = _record_keys(work_dir)
    assert len(keys) == len(set(keys)) == TRIALS, "the budget is kept, no candidate twice"
    assert not {entry.key for entry in resumed.trial_log} & recorded_before
    assert resumed.trials == TRIALS - len(recorded_before) and resumed.correct
    journal = [entry.key for entry in TrialJournal(db_dir).read()]
    assert len(journal) == len(set(journal)), "the journal measured no candidate twice"
    assert set(journal) <= set(keys)
