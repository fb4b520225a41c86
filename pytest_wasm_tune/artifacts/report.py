"""report.json: every task with its trials and timings, failed items, config and environment.

RunRecorder collects what the controller sees in test reports (results arrive in
`user_properties`, with or without xdist); write_report writes the file atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .side_by_side import cross_engine, per_browser

REPORT_VERSION = 1
OUTCOME_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


@dataclass
class RunRecorder:
    """Results and per-item outcomes of the wasm_tune items of one session."""

    tasks: list[dict[str, Any]] = field(default_factory=list)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: list[dict[str, Any]] = field(default_factory=list)

    def add_result(self, record: Mapping[str, Any]) -> None:
        self.tasks.append(dict(record))

    def add_model(self, nodeid: str, record: Mapping[str, Any]) -> None:
        """An end-to-end model result (artifacts/model_result.py)."""
        self.models.append({"nodeid": nodeid, **record})

    def add_outcome(self, nodeid: str, when: str, outcome: str, message: str = "") -> None:
        """Keep the worst outcome per item (a failed setup is an "error", as pytest says)."""
        if outcome == "failed" and when != "call":
            outcome = "error"
        item = self.items.setdefault(nodeid, {"nodeid": nodeid, "outcome": "passed"})
        if OUTCOME_RANK.get(outcome, 0) > OUTCOME_RANK[item["outcome"]]:
            item.update(outcome=outcome, when=when, message=message)

    @property
    def empty(self) -> bool:
        return not self.tasks and not self.items and not self.models

    def browsers(self) -> dict[str, str]:
        return {task["browser"]: task.get("browser_version", "") for task in self.tasks}

    def without_result(self) -> list[dict[str, Any]]:
        """Items that failed or erred before any result came back."""
        with_result = {task["nodeid"] for task in self.tasks}
        return [
            item
            for nodeid, item in self.items.items()
            if nodeid not in with_result and item["outcome"] in ("failed", "error")
        ]

    def build(
        self, config: Mapping[str, Any], environment: Mapping[str, Any], role: str
    ) -> dict[str, Any]:
        tasks = []
        for task in self.tasks:
            outcome = self.items.get(task["nodeid"], {}).get("outcome", "passed")
            tasks.append({**task, "outcome": outcome})
        return {
            "version": REPORT_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "written_by": {"role": role, "pid": os.getpid()},
            "config": dict(config),
            "environment": dict(environment),
            "tasks": tasks,
            "side_by_side": per_browser(tasks),
            "cross_engine": cross_engine(tasks),
            "models": list(self.models),
            "items": list(self.items.values()),
        }


def write_report(path: Path, report: Mapping[str, Any]) -> Path:
    """Write `report` as JSON via a temporary file and a rename (never a half-written file)."""
    return atomic_write_text(path, json.dumps(report, indent=1, default=str) + "\n")


def atomic_write_text(path: Path, text: str) -> Path:
    """Write `text` to `path` via a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
