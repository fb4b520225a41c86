"""A whole model's end-to-end result: untuned and tuned latency with their spread.

An end-to-end item records it with `record_property(MODEL_PROPERTY, result.to_record())`; the
controller puts it into report.json ("models") and prints `headline(record)` in the summary.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..stats import Spread

MODEL_PROPERTY = "wasm_tune_model"
BENCH_RESULTS = "bench-results.json"  # `make bench` (bench/run.py)
BENCH_MODELS = {"resnet-18": "resnet18_ms"}  # model name → its figures in bench-results.json


@dataclass(frozen=True)
class ModelResult:
    """Latencies in seconds, each from `calls` single calls timed in the page."""

    model: str
    browser: str
    browser_version: str
    untuned: Spread
    tuned: Spread | None  # None: no function got a tuned schedule (nothing is called tuned)
    tuned_functions: int
    functions: int
    wasm: str

    @property
    def speedup(self) -> float | None:
        return self.untuned.median / self.tuned.median if self.tuned else None

    def to_record(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "browser": self.browser,
            "browser_version": self.browser_version,
            "untuned_s": self.untuned.to_dict(),
            "tuned_s": self.tuned.to_dict() if self.tuned else None,
            "speedup": self.speedup,
            "tuned_functions": self.tuned_functions,
            "functions": self.functions,
            "wasm": self.wasm,
        }


def _latency(spread: Mapping[str, Any]) -> str:
    return (
        f"{spread['median'] * 1e3:.1f} ms (IQR {spread['q1'] * 1e3:.1f}–"
        f"{spread['q3'] * 1e3:.1f}, n={spread['n']})"
    )


def headline(record: Mapping[str, Any]) -> str:
    """One line: 'resnet-18 in chromium 156: tuned 211.8 ms (IQR ...), untuned ...; 7.40x ...'."""
    where = f"{record['model']} in {record['browser']} {record['browser_version']}".rstrip()
    schedules = f"{record['tuned_functions']} of {record['functions']} functions tuned"
    untuned = f"untuned {_latency(record['untuned_s'])}"
    if record.get("tuned_s") is None:
        return f"{where}: {untuned}; {schedules}"
    tuned = f"tuned {_latency(record['tuned_s'])}"
    return f"{where}: {tuned}, {untuned}; {record['speedup']:.2f}x, {schedules}{_peers(record)}"


def _peers(record: Mapping[str, Any]) -> str:
    peers = record.get("peers")
    if not peers:
        return ""
    figures = ", ".join(f"{name} {ms['median']:.1f} ms" for name, ms in peers["ms"].items())
    return f"; peers (make bench of {peers['measured']}): {figures}"


def find_bench_results(artifacts_dir: Path) -> Path | None:
    """`bench-results.json` in the artifacts directory or the one above it (where `make bench`
    writes it), if any."""
    for directory in (artifacts_dir, artifacts_dir.parent):
        if (directory / BENCH_RESULTS).is_file():
            return directory / BENCH_RESULTS
    return None


def peer_latencies(record: Mapping[str, Any], bench_results: Path) -> dict[str, Any] | None:
    """The peers' latency of the record's model from `make bench` (milliseconds: median,
    quartiles, n), or None when the file does not have them. Measured in another session:
    compare with care."""
    field = BENCH_MODELS.get(str(record.get("model")))
    try:
        results = json.loads(bench_results.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    figures = results.get(field) if field and isinstance(results, dict) else None
    if not isinstance(figures, dict):
        return None
    peers = {
        name: ms
        for name, ms in figures.items()
        if name != "ours" and isinstance(ms, dict) and isinstance(ms.get("median"), int | float)
    }
    if not peers:
        return None
    measured = time.strftime("%Y-%m-%d %H:%M", time.localtime(bench_results.stat().st_mtime))
    return {"source": str(bench_results), "measured": measured, "ms": peers}
