"""A task's MetaSchedule JSON database on disk: where it lives, repaired before it is opened,
locked while written, read per workload.

A database lives in `<work dir>/<task name>-<workload key>/<browser and target>/`: the name is
for people; the key, the first 12 hex digits of the workload's structural hash, gives two
workloads with one name two databases, and a workload under a new name starts from a copy of
the records it has under an old one.

MetaSchedule appends one JSON line per workload and per record, and its `JSONDatabase` refuses
to load (or crashes on) a file with a single bad line: a run killed mid-write or a full disk
would cost every record. Before opening, damaged lines (a torn tail, blank lines, records of a
workload that was never written) are moved to `<file>.torn-<timestamp>` with a warning and every
complete line stays. One writer at a time holds `<dir>/.lock` (flock) for a task's whole tuning;
another process waits for it, saying so; readers take the same lock briefly to load.

    directory = database_dir(work_dir, "matmul256", mod, "chromium")
    with database_for_tuning(directory) as database:  # JSONDatabase, locked
        records = workload_records(database, mod)
    database = database_for_reading(directory)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import DatabaseError
from .trial_journal import JOURNAL_NAME

WORKLOAD_FILE = "database_workload.json"
RECORDS_FILE = "database_tuning_record.json"
LOCK_FILE = ".lock"
KEY_DIGITS = 12


class DatabaseWarning(UserWarning):
    """A database was repaired, its lock is held by another writer, or its final choice
    (final_choice.py) cannot be applied."""


def workload_hash(mod: Any) -> int:
    """MetaSchedule's identity of a workload: its structural hash (as in the workload file)."""
    import tvm_ffi

    return int(tvm_ffi.structural_hash(mod)) % 2**64


def workload_key(mod: Any) -> str:
    """The first 12 hex digits of the workload's structural hash."""
    return f"{workload_hash(mod):016x}"[:KEY_DIGITS]


def database_dir(work_dir: Path, name: str, mod: Any, database: str) -> Path:
    """`<work_dir>/<name>-<workload key>/<database>` (`database`: browser and target)."""
    return work_dir / f"{name}-{workload_key(mod)}" / database


def workload_records(database: Any, mod: Any) -> list[Any]:
    """The database's records of the workload `mod` (others are ignored), in MetaSchedule's
    order: fastest mean first."""
    wanted = workload_hash(mod)
    return [
        record
        for record in database.get_all_tuning_records()
        if workload_hash(record.workload.mod) == wanted
    ]


def _parsed(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


def _is_workload(line: bytes) -> bool:
    """`["<structural hash>", "<base64 module>"]`"""
    item = _parsed(line)
    return isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)


def _is_record(line: bytes, workloads: int) -> bool:
    """`[<workload line index>, [trace, run_secs, target, args_info]]`"""
    item = _parsed(line)
    return (
        isinstance(item, list)
        and len(item) == 2
        and type(item[0]) is int
        and 0 <= item[0] < workloads
        and isinstance(item[1], list)
    )


def split_lines(data: bytes, valid: Callable[[bytes], bool]) -> tuple[list[bytes], list[int]]:
    """The lines of a JSON-lines file and the indices of those that are not `valid`.

    A final line without its newline counts only if it is complete (valid)."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines, [index for index, line in enumerate(lines) if not valid(line)]


def _set_aside(path: Path, lines: list[bytes], damaged: list[int]) -> Path:
    """Append the damaged lines to `<path>.torn-<timestamp>`, then rewrite `path` without them."""
    torn = path.with_name(f"{path.name}.torn-{time.strftime('%Y%m%dT%H%M%S')}")
    with torn.open("ab") as handle:
        handle.write(b"".join(lines[index] + b"\n" for index in damaged))
        handle.flush()
        os.fsync(handle.fileno())
    drop = set(damaged)
    kept = b"".join(line + b"\n" for index, line in enumerate(lines) if index not in drop)
    staged = path.with_name(f"{path.name}.repairing")
    with staged.open("wb") as handle:
        handle.write(kept)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staged, path)
    warnings.warn(
        f"tuning database {path}: {len(damaged)} damaged line(s) (a run killed mid-write or a "
        f"full disk) moved to {torn}; its {len(lines) - len(damaged)} complete line(s) are kept",
        DatabaseWarning,
        stacklevel=2,
    )
    return torn


def _repair_file(
    path: Path, valid: Callable[[bytes], bool], tail_only: bool
) -> tuple[int, Path | None]:
    """Complete lines kept and the `.torn-*` file written (None: nothing was damaged)."""
    if not path.exists():
        return 0, None
    data = path.read_bytes()
    lines, damaged = split_lines(data, valid)
    if not damaged:
        if data and not data.endswith(b"\n"):  # complete, but the next append must not glue on
            with path.open("ab") as handle:
                handle.write(b"\n")
        return len(lines), None
    if tail_only and damaged != list(range(damaged[0], len(lines))):
        raise DatabaseError(
            f"tuning database {path}: line {damaged[0] + 1} is damaged and complete workloads "
            f"follow it, so its records cannot be kept. Move the directory {path.parent} aside "
            "(or run with --wasm-tune-fresh) to tune it anew"
        )
    return len(lines) - len(damaged), _set_aside(path, lines, damaged)


def repair(directory: Path) -> list[Path]:
    """Set damaged lines of the directory's workload and records files aside; the files written.

    A damaged workload line is only set aside at the end of its file: records refer to
    workloads by line number, so one in the middle raises DatabaseError."""
    workloads, torn_workloads = _repair_file(directory / WORKLOAD_FILE, _is_workload, True)
    _, torn_records = _repair_file(
        directory / RECORDS_FILE, lambda line: _is_record(line, workloads), False
    )
    return [path for path in (torn_workloads, torn_records) if path is not None]


@contextlib.contextmanager
def writer_lock(directory: Path) -> Iterator[None]:
    """Hold `<directory>/.lock` exclusively; if another process holds it, warn and wait."""
    with (directory / LOCK_FILE).open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            warnings.warn(
                f"tuning database {directory} is locked by {holder}; waiting until it is done "
                "(runs tuning one workload share its records, one at a time)",
                DatabaseWarning,
                stacklevel=2,
            )
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.ctime()}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _open(directory: Path, allow_missing: bool) -> Any:
    from tvm.s_tir import meta_schedule as ms

    repair(directory)
    return ms.database.JSONDatabase(
        str(directory / WORKLOAD_FILE), str(directory / RECORDS_FILE), allow_missing=allow_missing
    )


def _empty(directory: Path) -> None:
    for entry in directory.iterdir():
        if entry.name == LOCK_FILE:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _workload_keys(directory: Path) -> set[str]:
    """Keys of the workloads in the directory's workload file."""
    path = directory / WORKLOAD_FILE
    keys = set()
    for line in path.read_bytes().splitlines() if path.is_file() else []:
        shash = json.loads(line)[0] if _is_workload(line) else ""
        if shash.isdigit():
            keys.add(f"{int(shash) % 2**64:016x}"[:KEY_DIGITS])
    return keys


def _adopt(directory: Path) -> None:
    """Into a new `directory`, copy the database that holds the same workload under another
    task name, or under the name alone (the layout before workload keys)."""
    if (directory / RECORDS_FILE).exists():
        return
    slug, _, key = directory.parent.name.rpartition("-")
    work_dir, name = directory.parent.parent, directory.name
    sources = [
        source
        for source in (*work_dir.glob(f"*-{key}/{name}"), work_dir / slug / name)
        if source != directory
        and (source / RECORDS_FILE).is_file()
        and key in _workload_keys(source)
    ]
    if not sources:
        return
    source = max(sources, key=lambda other: (other / RECORDS_FILE).stat().st_size)
    with writer_lock(source):
        repair(source)
        for file_name in (WORKLOAD_FILE, RECORDS_FILE, JOURNAL_NAME):
            if (source / file_name).is_file():
                shutil.copyfile(source / file_name, directory / file_name)


@contextlib.contextmanager
def database_for_tuning(directory: Path, fresh: bool = False) -> Iterator[Any]:
    """The directory's JSONDatabase, with the writer's lock held for the `with` block.

    Created if missing (from a copy of the same workload's database under another name, if
    any); emptied first if `fresh`. Records of other workloads in it are for `workload_records`
    to leave out."""
    directory.mkdir(parents=True, exist_ok=True)
    with writer_lock(directory):
        if fresh:
            _empty(directory)
        else:
            _adopt(directory)
        yield _open(directory, allow_missing=True)


def database_for_reading(directory: Path) -> Any:
    """The directory's JSONDatabase, loaded (after any repair) while no writer holds it."""
    paths = (directory / WORKLOAD_FILE, directory / RECORDS_FILE)
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"tuning database incomplete: {', '.join(missing)}")
    with writer_lock(directory):
        return _open(directory, allow_missing=False)
