"""What a session leaves: report.json and report.html (the latest run) and the same pair kept
under runs/ (artifacts/history.py); the peers' latency of `make bench` beside the models."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .history import save_run
from .model_result import find_bench_results, peer_latencies
from .report import write_report


@dataclass(frozen=True)
class Published:
    report: Path  # the latest run's report.json
    html: Path
    run: Path  # runs/<id>.json


def with_peers(models: Iterable[Mapping[str, Any]], artifacts_dir: Path) -> list[dict[str, Any]]:
    """The model records, each with its peers from bench-results.json when it has them."""
    bench = find_bench_results(artifacts_dir)
    records = []
    for model in models:
        peers = peer_latencies(model, bench) if bench is not None else None
        records.append({**model, "peers": peers} if peers else dict(model))
    return records


def tasks_dir(rootdir: Path, nodeids: Iterable[str]) -> Path | None:
    """The directory holding the files of these items (their common parent)."""
    parents = {os.path.dirname(nodeid.split("::")[0]) or "." for nodeid in nodeids}
    return rootdir / os.path.commonpath(sorted(parents)) if parents else None


def publish(report: Mapping[str, Any], artifacts_dir: Path, tasks_dir: Path | None) -> Published:
    """Write the report of this session: stored as a new run, then as the latest."""
    from .html_report import write_html

    stored, run_path = save_run(artifacts_dir, report, tasks_dir)
    html = write_html(stored, run_path.with_suffix(".html"))
    latest_html = artifacts_dir / "report.html"
    shutil.copyfile(html, latest_html)
    return Published(write_report(artifacts_dir / "report.json", stored), latest_html, run_path)


def report_command(artifacts_dir: Path, run: str | None, html: bool) -> int:
    """`python -m pytest_wasm_tune report [RUN] [--html]`: list the runs, or show where one
    is and rebuild its report.html (runs/<id>.html)."""
    from .history import RUNS_DIR, find_run, list_runs, load_run

    if run is None:
        runs = list_runs(artifacts_dir)
        if not runs:
            print(f"no runs in {artifacts_dir / RUNS_DIR}")
            return 1
        print(f"{'run':<32} {'created':<25} {'mode':<6} {'tasks':>5}  tasks' git revision")
        for info in runs:
            print(info.line())
        return 0
    path = find_run(artifacts_dir, run)
    if not html:
        print(path)
        return 0
    from .html_report import write_html

    print(write_html(load_run(artifacts_dir, str(path)), path.with_suffix(".html")))
    return 0
