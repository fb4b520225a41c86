"""The watchdog: ends what a process started once that process is gone, however it ended.

    python -m pytest_wasm_tune.watchdog

runs in a session of its own (a signal to its owner's process group does not reach it) and
reads lines from stdin, a pipe only its owner holds open:

    pid <pid> <start time>   a child process (the start time guards against pid reuse)
    group <pgid>             a process group (a browser driver and everything it started)
    path <directory>         a temporary directory; processes naming it in their command line
                             (Chromium's --user-data-dir) are ended too, then it is removed
    -pid / -group / -path    the owner cleaned it up itself

At end of input (the owner exited, crashed or was SIGKILLed) every registered process, every
member of a registered group and every process naming a registered directory gets SIGTERM,
then SIGKILL after a grace period, and the directories are removed. Standard library only: it
must start fast and never fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

GRACE_S = 2.0


def _stat(pid: int) -> tuple[int, str] | None:
    """(process group, start time) of a live `pid` from /proc/<pid>/stat; None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # fields from the 3rd on: state, ppid, pgrp, ...
    return None if fields[0] in "ZX" else (int(fields[2]), fields[19])


def start_time(pid: int) -> str | None:
    """The kernel's start time of a live `pid` (guards against pid reuse), None if it is gone."""
    stat = _stat(pid)
    return stat[1] if stat else None


@dataclass
class Registry:
    """What the owner asked to end and remove."""

    pids: dict[int, str] = field(default_factory=dict)
    groups: set[int] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)

    def apply(self, line: str) -> None:
        command, _, argument = line.strip().partition(" ")
        if command == "pid":
            pid, started = argument.split(" ", 1)
            self.pids[int(pid)] = started
        elif command == "-pid":
            self.pids.pop(int(argument), None)
        elif command == "group":
            self.groups.add(int(argument))
        elif command == "-group":
            self.groups.discard(int(argument))
        elif command == "path":
            self.paths.add(argument)
        elif command == "-path":
            self.paths.discard(argument)

    def live_processes(self) -> set[int]:
        """Registered pids still running, members of registered groups, processes naming a
        registered path."""
        found = {pid for pid, started in self.pids.items() if start_time(pid) == started}
        needles = [path.encode() for path in self.paths]
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            pid = int(entry.name)
            stat = _stat(pid)
            if stat is None:
                continue
            if stat[0] in self.groups:
                found.add(pid)
            elif needles:
                with contextlib.suppress(OSError):
                    cmdline = (entry / "cmdline").read_bytes()
                    if any(needle in cmdline for needle in needles):
                        found.add(pid)
        return found


def _signal_all(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)


def clean_up(registry: Registry) -> None:
    """SIGTERM, wait, SIGKILL (also processes that appeared meanwhile), remove the paths."""
    left = registry.live_processes()
    _signal_all(left, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = registry.live_processes()
    for _ in range(20):  # a dying browser may still fork: until nothing is left
        if not left:
            break
        _signal_all(left, signal.SIGKILL)
        time.sleep(0.05)
        left = registry.live_processes()
    for path in registry.paths:
        shutil.rmtree(path, ignore_errors=True)


def main() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)  # only the end of input ends it
    registry = Registry()
    for line in sys.stdin:
        registry.apply(line)
    clean_up(registry)


if __name__ == "__main__":
    main()
