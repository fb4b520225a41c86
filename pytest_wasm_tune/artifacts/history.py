"""Run history: every session's report kept as `<artifacts>/runs/<run id>.json` (+ `.html`).

A run id is the local start time, plus the git revision of the tasks when they are in a
repository: `20261202T153012-1a1fde0c3b7e`. `report.json` at the top stays the latest run.

    save_run(artifacts_dir, report)               # -> runs/<id>.json
    load_run(artifacts_dir, "last")               # id, unique id prefix, path or "last"
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import WasmTuneError
from .report import write_report

RUNS_DIR = "runs"
GIT_TIMEOUT_S = 10.0


class RunNotFoundError(WasmTuneError):
    """No stored run matches what was asked for."""


@dataclass(frozen=True)
class RunInfo:
    """One stored run, as listed by `python -m pytest_wasm_tune report`."""

    run_id: str
    path: Path
    created: str
    mode: str
    tasks: int
    revision: str | None

    def line(self) -> str:
        revision = self.revision or "-"
        return f"{self.run_id:<32} {self.created:<25} {self.mode:<6} {self.tasks:>5}  {revision}"


def runs_dir(artifacts_dir: Path) -> Path:
    return artifacts_dir / RUNS_DIR


def git_revision(directory: Path) -> dict[str, Any] | None:
    """The commit checked out in `directory` and whether its files differ from it; None
    outside a repository (or without git)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(directory), *args],
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    revision = git("rev-parse", "HEAD")
    if not revision:
        return None
    status = git("status", "--porcelain", "--", ".")
    return {"revision": revision, "dirty": bool(status), "dir": str(directory)}


def new_run_id(artifacts_dir: Path, git: Mapping[str, Any] | None, now: float) -> str:
    """`<local time>[-<12 hex of the revision>]`, made unique among the stored runs."""
    base = time.strftime("%Y%m%dT%H%M%S", time.localtime(now))
    if git:
        base += f"-{git['revision'][:12]}"
    run_id, number = base, 1
    while (runs_dir(artifacts_dir) / f"{run_id}.json").exists():
        number += 1
        run_id = f"{base}.{number}"
    return run_id


def save_run(
    artifacts_dir: Path, report: Mapping[str, Any], tasks_dir: Path | None = None
) -> tuple[dict[str, Any], Path]:
    """Store `report` under a new run id; returns it with its "run" entry, and its path."""
    git = git_revision(tasks_dir) if tasks_dir is not None else None
    run_id = new_run_id(artifacts_dir, git, time.time())
    stored = {**report, "run": {"id": run_id, "git": git}}
    return stored, write_report(runs_dir(artifacts_dir) / f"{run_id}.json", stored)


def _info(path: Path) -> RunInfo | None:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict):
        return None
    git = (report.get("run") or {}).get("git") or {}
    revision = git.get("revision", "")[:12] + ("+dirty" if git.get("dirty") else "")
    return RunInfo(
        path.stem,
        path,
        str(report.get("created", "")),
        str((report.get("config") or {}).get("mode", "")),
        len(report.get("tasks") or ()),
        revision or None,
    )


def _order(path: Path) -> tuple[str, int]:
    """Start time, then the number that made an id unique (`<time>[-<rev>].<n>`)."""
    base, _, number = path.stem.partition(".")
    return base, int(number) if number.isdigit() else 1


def list_runs(artifacts_dir: Path) -> list[RunInfo]:
    """The stored runs, oldest first (unreadable files are left out)."""
    infos = (_info(path) for path in sorted(runs_dir(artifacts_dir).glob("*.json"), key=_order))
    return [info for info in infos if info is not None]


def find_run(artifacts_dir: Path, spec: str) -> Path:
    """The report file `spec` names: "last", a run id (or a unique prefix of one), a report
    file or a directory holding report.json."""
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    if (path / "report.json").is_file():
        return path / "report.json"
    runs = list_runs(artifacts_dir)
    where = runs_dir(artifacts_dir)
    if spec == "last":
        if not runs:
            raise RunNotFoundError(
                f"no stored run in {where} to compare with. Fix: run once without "
                "--wasm-tune-compare first, or name a report file"
            )
        return runs[-1].path
    matches = [info for info in runs if info.run_id.startswith(spec)]
    exact = [info for info in matches if info.run_id == spec]
    if len(exact) == 1 or len(matches) == 1:
        return (exact or matches)[0].path
    known = ", ".join(info.run_id for info in (matches or runs)[-5:]) or "none"
    problem = "matches several runs" if matches else "is neither a stored run nor a file"
    raise RunNotFoundError(
        f"run {spec!r} {problem} (in {where}: {known}). Fix: `python -m pytest_wasm_tune "
        "report` lists the runs; pass one id, 'last' or a report file"
    )


def load_run(artifacts_dir: Path, spec: str) -> dict[str, Any]:
    """The report of run `spec` (see `find_run`)."""
    path = find_run(artifacts_dir, spec)
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RunNotFoundError(f"report {path} cannot be read: {err}") from err
    if not isinstance(report, dict) or not isinstance(report.get("tasks"), list):
        raise RunNotFoundError(f"{path} is not a wasm-tune report (no 'tasks' list)")
    return report
