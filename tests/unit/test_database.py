"""Damaged database files keep every complete line; one writer at a time."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_wasm_tune.artifacts import database as db
from pytest_wasm_tune.errors import DatabaseError

WORKLOAD = json.dumps(["123", "bW9kdWxl"])
RECORD = json.dumps([0, [[["GetSBlock", [], ["C", "main"], ["b0"]]], [0.001], {}, []]])


def _write(directory: Path, workloads: bytes, records: bytes) -> None:
    (directory / db.WORKLOAD_FILE).write_bytes(workloads)
    (directory / db.RECORDS_FILE).write_bytes(records)


def _torn(directory: Path, name: str) -> list[Path]:
    return sorted(directory.glob(f"{name}.torn-*"))


def test_a_torn_last_record_is_set_aside_and_complete_ones_stay(tmp_path: Path) -> None:
    complete = f"{RECORD}\n{RECORD}\n".encode()
    _write(tmp_path, f"{WORKLOAD}\n".encode(), complete + RECORD[:25].encode())
    with pytest.warns(db.DatabaseWarning, match=r"1 damaged line.* 2 complete line"):
        written = db.repair(tmp_path)
    assert (tmp_path / db.RECORDS_FILE).read_bytes() == complete
    assert written == _torn(tmp_path, db.RECORDS_FILE)
    assert written[0].read_bytes() == RECORD[:25].encode() + b"\n"
    assert (tmp_path / db.WORKLOAD_FILE).read_bytes() == f"{WORKLOAD}\n".encode()


def test_a_complete_last_line_without_newline_gets_one(
    tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    _write(tmp_path, WORKLOAD.encode(), f"{RECORD}\n{RECORD}".encode())
    assert db.repair(tmp_path) == []
    assert (tmp_path / db.WORKLOAD_FILE).read_bytes() == f"{WORKLOAD}\n".encode()
    assert (tmp_path / db.RECORDS_FILE).read_bytes() == f"{RECORD}\n{RECORD}\n".encode()
    assert not recwarn.list


def test_a_sound_database_is_left_alone(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    _write(tmp_path, f"{WORKLOAD}\n".encode(), f"{RECORD}\n".encode())
    before = (tmp_path / db.RECORDS_FILE).stat().st_mtime_ns
    assert db.repair(tmp_path) == []
    assert (tmp_path / db.RECORDS_FILE).stat().st_mtime_ns == before
    assert not recwarn.list


def test_blank_and_garbled_record_lines_are_set_aside(tmp_path: Path) -> None:
    _write(tmp_path, f"{WORKLOAD}\n".encode(), f"{RECORD}\n\n\x00\x00{RECORD}\n{RECORD}\n".encode())
    with pytest.warns(db.DatabaseWarning, match="2 damaged"):
        db.repair(tmp_path)
    assert (tmp_path / db.RECORDS_FILE).read_bytes() == f"{RECORD}\n{RECORD}\n".encode()


def test_records_of_a_torn_workload_go_with_it(tmp_path: Path) -> None:
    second = json.dumps([1, [[], [0.002], {}, []]])
    _write(tmp_path, f"{WORKLOAD}\n{WORKLOAD[:9]}".encode(), f"{RECORD}\n{second}\n".encode())
    with pytest.warns(db.DatabaseWarning):
        written = db.repair(tmp_path)
    assert len(written) == 2
    assert (tmp_path / db.WORKLOAD_FILE).read_bytes() == f"{WORKLOAD}\n".encode()
    assert (tmp_path / db.RECORDS_FILE).read_bytes() == f"{RECORD}\n".encode()


def test_a_damaged_workload_before_complete_ones_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, f"{WORKLOAD}\n{{oops\n{WORKLOAD}\n".encode(), f"{RECORD}\n".encode())
    with pytest.raises(DatabaseError, match=r"line 2 is damaged.*--wasm-tune-fresh"):
        db.repair(tmp_path)


def test_fresh_empties_the_directory_but_keeps_the_lock(tmp_path: Path) -> None:
    _write(tmp_path, f"{WORKLOAD}\n".encode(), f"{RECORD}\n".encode())
    (tmp_path / "logs").mkdir()
    with db.database_for_tuning(tmp_path, fresh=True) as database:
        assert database.get_all_tuning_records() == []
    names = {db.LOCK_FILE, db.WORKLOAD_FILE, db.RECORDS_FILE}
    assert {p.name for p in tmp_path.iterdir()} == names


def test_a_torn_real_database_opens_with_its_complete_records(tmp_path: Path) -> None:
    import tvm
    from tvm import te
    from tvm.s_tir import meta_schedule as ms

    a = te.placeholder((8,), name="A")
    b = te.compute((8,), lambda i: a[i] * 2.0, name="B")
    mod = tvm.IRModule({"main": te.create_prim_func([a, b])})
    with db.database_for_tuning(tmp_path) as database:
        workload = database.commit_workload(mod)
        sch = tvm.s_tir.Schedule(mod)
        args = ms.arg_info.ArgInfo.from_prim_func(mod["main"])
        for secs in (1e-3, 2e-3, 3e-3):
            target = tvm.target.Target("llvm")
            database.commit_tuning_record(
                ms.database.TuningRecord(sch.trace, workload, [secs], target, args)
            )
    records = tmp_path / db.RECORDS_FILE
    records.write_bytes(records.read_bytes()[:-20])  # the last record torn mid-write
    with pytest.warns(db.DatabaseWarning, match="2 complete"):
        reopened = db.database_for_reading(tmp_path)
    secs = sorted(float(r.run_secs[0]) for r in reopened.get_all_tuning_records())
    assert secs == pytest.approx([1e-3, 2e-3])


def test_a_second_writer_waits_with_a_message(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from pytest_wasm_tune.artifacts.database import writer_lock\n"
            "with writer_lock(Path(sys.argv[1])):\n"
            "    print('held', flush=True); time.sleep(1.0)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        started = time.monotonic()
        with (
            pytest.warns(db.DatabaseWarning, match=rf"locked by pid {holder.pid} .*waiting"),
            db.writer_lock(tmp_path),
        ):
            waited = time.monotonic() - started
        assert waited > 0.5
        assert f"pid {holder.pid}" not in (tmp_path / db.LOCK_FILE).read_text()
    finally:
        holder.wait(timeout=10)
