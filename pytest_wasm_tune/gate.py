"""The regression gate in pytest: `--wasm-tune-compare RUN [--wasm-tune-compare-fail 5%]`.

Registered where items run (a worker or the plain session) to fail the regressed items, and on
the controller to put the deltas in the summary and report.json. The comparison itself is
artifacts/compare.py.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from typing import Any

import pytest

from .artifacts.compare import Delta, compare_tasks, format_deltas
from .artifacts.history import RunNotFoundError, find_run, load_run
from .config import ConfigError, WasmTuneConfig
from .fixtures import RESULT_PROPERTY

GATE_KEY = "wasm_tune.gate"


class RegressionGate:
    """An earlier run's report and the limit (None: only compare, fail nothing)."""

    def __init__(
        self, baseline: Mapping[str, Any], baseline_id: str, limit_pct: float | None
    ) -> None:
        self.baseline = baseline
        self.baseline_id = baseline_id
        self.limit_pct = limit_pct

    @classmethod
    def from_config(cls, config: WasmTuneConfig) -> RegressionGate | None:
        if config.compare is None:
            return None
        try:
            path = find_run(config.artifacts_dir, config.compare)
            baseline = load_run(config.artifacts_dir, str(path))
        except RunNotFoundError as err:
            raise ConfigError(f"--wasm-tune-compare: {err}") from None
        baseline_id = (baseline.get("run") or {}).get("id") or str(path)
        return cls(baseline, baseline_id, config.compare_fail_pct)

    def deltas(self, records: Iterable[Mapping[str, Any]]) -> list[Delta]:
        return compare_tasks(records, self.baseline, self.limit_pct)

    def summary(self, records: Iterable[Mapping[str, Any]]) -> list[str]:
        limit = "" if self.limit_pct is None else f", failing above +{self.limit_pct:g}%"
        title = f"compared with run {self.baseline_id}{limit} (beyond both IQRs):"
        return [title, *format_deltas(self.deltas(records), self.baseline_id)]

    def to_dict(self, records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """report.json's "comparison"."""
        return {
            "baseline": self.baseline_id,
            "limit_pct": self.limit_pct,
            "deltas": [
                {
                    "task": d.task,
                    "browser": d.browser,
                    "baseline_s": d.baseline_s,
                    "current_s": d.current_s,
                    "change_pct": d.change_pct,
                    "beyond_spread": d.beyond_spread,
                    "verdict": d.verdict,
                }
                for d in self.deltas(records)
            ],
        }

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """A passed item whose result regressed fails, saying by how much and against what."""
        report = yield
        if call.when != "call" or not report.passed or self.limit_pct is None:
            return report
        records = [value for name, value in item.user_properties if name == RESULT_PROPERTY]
        regressed = [delta for delta in self.deltas(records) if delta.regressed]
        if regressed:
            report.outcome = "failed"
            report.longrepr = "\n".join(delta.message(self.baseline_id) for delta in regressed)
        return report


def register_gate(config: pytest.Config, wasm_config: WasmTuneConfig) -> None:
    """Load the baseline (a usage error when it cannot be found) and register the gate."""
    try:
        gate = RegressionGate.from_config(wasm_config)
    except ConfigError as err:
        raise pytest.UsageError(str(err)) from None
    if gate is not None:
        config.pluginmanager.register(gate, GATE_KEY)


def gate_of(config: pytest.Config) -> RegressionGate | None:
    plugin = config.pluginmanager.get_plugin(GATE_KEY)
    return plugin if isinstance(plugin, RegressionGate) else None
