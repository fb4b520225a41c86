"""End-to-end model results: the record, the headline, and report.json's "models"."""

from __future__ import annotations

import pytest

from pytest_wasm_tune.artifacts.model_result import ModelResult, headline
from pytest_wasm_tune.artifacts.report import RunRecorder
from pytest_wasm_tune.stats import Spread


def _result(tuned: list[float] | None) -> ModelResult:
    return ModelResult(
        "resnet-18",
        "chromium",
        "156.0",
        Spread.of([1.50, 1.52, 1.51, 1.49, 1.53]),
        Spread.of(tuned) if tuned else None,
        20 if tuned else 0,
        20,
        "/tmp/resnet-18.wasm",
    )


def test_a_tuned_model_reports_its_speedup_with_both_spreads() -> None:
    record = _result([0.200, 0.210, 0.205, 0.190, 0.220]).to_record()
    assert record["speedup"] == pytest.approx(1.51 / 0.205)
    assert record["tuned_s"]["n"] == 5 and record["untuned_s"]["q1"] == pytest.approx(1.50)
    assert headline(record) == (
        "resnet-18 in chromium 156.0: tuned 205.0 ms (IQR 200.0–210.0, n=5), "
        "untuned 1510.0 ms (IQR 1500.0–1520.0, n=5); 7.37x, 20 of 20 functions tuned"
    )


def test_an_untuned_model_is_never_called_tuned() -> None:
    record = _result(None).to_record()
    assert record["tuned_s"] is None and record["speedup"] is None
    assert headline(record) == (
        "resnet-18 in chromium 156.0: untuned 1510.0 ms (IQR 1500.0–1520.0, n=5); "
        "0 of 20 functions tuned"
    )


def test_the_report_lists_models_beside_tasks() -> None:
    recorder = RunRecorder()
    assert recorder.empty
    recorder.add_model(
        "tasks/test_resnet18.py::test_resnet18_end_to_end", _result(None).to_record()
    )
    assert not recorder.empty
    report = recorder.build({}, {}, "session")
    (model,) = report["models"]
    assert model["nodeid"].endswith("test_resnet18_end_to_end") and model["model"] == "resnet-18"
