"""A whole model's end-to-end result: untuned and tuned latency with their spread.

An end-to-end item records it with `record_property(MODEL_PROPERTY, result.to_record())`; the
controller puts it into report.json ("models") and prints `headline(record)` in the summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..stats import Spread

MODEL_PROPERTY = "wasm_tune_model"


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
    return f"{where}: {tuned}, {untuned}; {record['speedup']:.2f}x, {schedules}"
