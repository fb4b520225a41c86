"""A task's MetaSchedule JSON database on disk: repaired before it is opened, locked while written.

MetaSchedule appends one JSON line per workload and per record, and its `JSONDatabase` refuses
to load (or crashes on) a file with a single bad line: a run killed mid-write or a full disk
would cost every record. Before opening, damaged lines (a torn tail, blank lines, records of a
workload that was never written) are moved to `<file>.torn-<timestamp>` with a warning and every
complete line stays. One writer at a time holds `<dir>/.lock` (flock) for a task's whole tuning;
another process waits for it, saying so; readers take the same lock briefly to load.

    with database_for_tuning(directory) as database:  # JSONDatabase, locked
        ...
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

WORKLOAD_FILE = "database_workload.json"
RECORDS_FILE = "database_tuning_record.json"
LOCK_FILE = ".lock"


class DatabaseWarning(UserWarning):
    """A database was repaired, or its lock is held by another writer."""


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


@contextlib.contextmanager
def database_for_tuning(directory: Path, fresh: bool = False) -> Iterator[Any]:
    """The directory's JSONDatabase (created if missing; emptied first if `fresh`), with the
    writer's lock held for the `with` block."""
    directory.mkdir(parents=True, exist_ok=True)
    with writer_lock(directory):
        if fresh:
            for entry in directory.iterdir():
                if entry.name == LOCK_FILE:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        yield _open(directory, allow_missing=True)


def database_for_reading(directory: Path) -> Any:
    """The directory's JSONDatabase, loaded (after any repair) while no writer holds it."""
    paths = (directory / WORKLOAD_FILE, directory / RECORDS_FILE)
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"tuning database incomplete: {', '.join(missing)}")
    with writer_lock(directory):
        return _open(directory, allow_missing=False)
