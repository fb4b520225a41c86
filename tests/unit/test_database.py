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


def _mod(n: int):
    import tvm
    from tvm import te

    a = te.placeholder((n,), name="A")
    b = te.compute((n,), lambda i: a[i] * 2.0, name="B")
    return tvm.IRModule({"main": te.create_prim_func([a, b])})


def _commit(database, mod, secs: list[float]) -> None:
    import tvm
    from tvm.s_tir import meta_schedule as ms

    workload = database.commit_workload(mod)
    trace = tvm.s_tir.Schedule(mod).trace
    args = ms.arg_info.ArgInfo.from_prim_func(mod["main"])
    for sec in secs:
        record = ms.database.TuningRecord(trace, workload, [sec], tvm.target.Target("llvm"), args)
        database.commit_tuning_record(record)


def _secs(records) -> list[float]:
    return sorted(float(r.run_secs[0]) for r in records)


def test_a_torn_real_database_opens_with_its_complete_records(tmp_path: Path) -> None:
    with db.database_for_tuning(tmp_path) as database:
        _commit(database, _mod(8), [1e-3, 2e-3, 3e-3])
    records = tmp_path / db.RECORDS_FILE
    records.write_bytes(records.read_bytes()[:-20])  # the last record torn mid-write
    with pytest.warns(db.DatabaseWarning, match="2 complete"):
        reopened = db.database_for_reading(tmp_path)
    assert _secs(reopened.get_all_tuning_records()) == pytest.approx([1e-3, 2e-3])


def test_two_workloads_with_one_name_get_two_databases(tmp_path: Path) -> None:
    first, second = (db.database_dir(tmp_path, "task", _mod(n), "chromium") for n in (8, 16))
    assert first != second and first == db.database_dir(tmp_path, "task", _mod(8), "chromium")
    assert first.parent.name == f"task-{db.workload_key(_mod(8))}" and first.name == "chromium"
    with db.database_for_tuning(first) as database:
        _commit(database, _mod(8), [1e-3])
    assert db._workload_keys(first) == {db.workload_key(_mod(8))}  # MetaSchedule's own hash


def test_records_are_read_per_workload(tmp_path: Path) -> None:
    with db.database_for_tuning(tmp_path) as database:
        _commit(database, _mod(8), [1e-3, 2e-3])
        _commit(database, _mod(16), [5e-3])
        assert _secs(db.workload_records(database, _mod(8))) == pytest.approx([1e-3, 2e-3])
        assert _secs(db.workload_records(database, _mod(16))) == pytest.approx([5e-3])
        assert db.workload_records(database, _mod(32)) == []


def test_a_renamed_workload_starts_from_its_records(tmp_path: Path) -> None:
    mod, other = _mod(8), _mod(16)
    with db.database_for_tuning(db.database_dir(tmp_path, "old", mod, "chromium")) as database:
        _commit(database, mod, [1e-3, 2e-3])
    with db.database_for_tuning(db.database_dir(tmp_path, "new", mod, "chromium")) as database:
        assert _secs(database.get_all_tuning_records()) == pytest.approx([1e-3, 2e-3])
    for fresh_dir in (
        db.database_dir(tmp_path, "new", other, "chromium"),  # another workload
        db.database_dir(tmp_path, "old", mod, "firefox"),  # another browser
    ):
        with db.database_for_tuning(fresh_dir) as database:
            assert database.get_all_tuning_records() == []


def test_a_database_of_the_layout_without_keys_is_adopted(tmp_path: Path) -> None:
    mod = _mod(8)
    with db.database_for_tuning(tmp_path / "task" / "chromium") as database:  # before keys
        _commit(database, mod, [1e-3])
    with db.database_for_tuning(db.database_dir(tmp_path, "task", mod, "chromium")) as database:
        assert _secs(db.workload_records(database, mod)) == pytest.approx([1e-3])
    with db.database_for_tuning(db.database_dir(tmp_path, "task", _mod(16), "chromium")) as d:
        assert d.get_all_tuning_records() == []  # it held another workload


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
