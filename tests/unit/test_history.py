"""Run history: stored runs, their ids and git revisions, and how a run is named."""

import json
import subprocess
from pathlib import Path

import pytest

from pytest_wasm_tune.artifacts.history import (
    RunNotFoundError,
    find_run,
    git_revision,
    list_runs,
    load_run,
    new_run_id,
    save_run,
)


def report(mode="tune", tasks=1):
    return {"created": "2026-12-02T10:00:00", "config": {"mode": mode}, "tasks": [{}] * tasks}


def test_runs_are_kept_with_the_tasks_git_revision(tmp_path: Path) -> None:
    tasks = tmp_path / "repo" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "test_a.py").write_text("x = 1\n")
    git = ["git", "-C", str(tasks), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    artifacts = tmp_path / "artifacts"

    stored, path = save_run(artifacts, report(), tasks)
    assert stored["run"]["git"] == {"revision": head.strip(), "dirty": False, "dir": str(tasks)}
    assert path == artifacts / "runs" / f"{stored['run']['id']}.json"
    assert stored["run"]["id"].endswith(f"-{head[:12]}")
    (tasks / "test_a.py").write_text("x = 2\n")
    second, _ = save_run(artifacts, report(mode="check", tasks=3), tasks)
    assert second["run"]["git"]["dirty"]
    runs = list_runs(artifacts)
    assert [run.run_id for run in runs] == sorted([stored["run"]["id"], second["run"]["id"]])
    assert runs[-1].revision == f"{head[:12]}+dirty" and (runs[-1].mode, runs[-1].tasks) == (
        "check",
        3,
    )


def test_outside_a_repository_there_is_no_revision(tmp_path: Path) -> None:
    assert git_revision(tmp_path) is None
    stored, _ = save_run(tmp_path, report(), tmp_path)
    assert stored["run"]["git"] is None


def test_ids_in_one_second_stay_unique(tmp_path: Path) -> None:
    first = new_run_id(tmp_path, None, 0.0)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / f"{first}.json").write_text("{}")
    assert new_run_id(tmp_path, None, 0.0) == f"{first}.2"


def test_a_run_is_found_by_last_id_prefix_or_path(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    for run_id in ("20261201T100000", "20261202T100000", "20261202T110000"):
        (runs / f"{run_id}.json").write_text(json.dumps({"tasks": [], "run": {"id": run_id}}))
    assert find_run(tmp_path, "last") == runs / "20261202T110000.json"
    assert find_run(tmp_path, "20261201") == runs / "20261201T100000.json"
    assert find_run(tmp_path, str(runs / "20261202T100000.json")).stem == "20261202T100000"
    (tmp_path / "report.json").write_text('{"tasks": []}')
    assert find_run(tmp_path, str(tmp_path)) == tmp_path / "report.json"
    assert load_run(tmp_path, "last")["run"]["id"] == "20261202T110000"
    with pytest.raises(RunNotFoundError, match="matches several runs .*report` lists the runs"):
        find_run(tmp_path, "20261202")
    with pytest.raises(RunNotFoundError, match="neither a stored run nor a file"):
        find_run(tmp_path, "nope")
    (runs / "broken.json").write_text("[1]")
    with pytest.raises(RunNotFoundError, match="not a wasm-tune report"):
        load_run(tmp_path, str(runs / "broken.json"))


def test_last_without_runs_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(RunNotFoundError, match="no stored run in .* run once without"):
        find_run(tmp_path, "last")
