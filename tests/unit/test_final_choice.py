"""The final choice file, and how the tuner decides between the default and its finalists."""

import json
import os
from pathlib import Path

import pytest

from pytest_wasm_tune.artifacts import final_choice as fc
from pytest_wasm_tune.stats import Spread
from pytest_wasm_tune.tuning import FinalFigure, TuneTask, pick_best, record_choice

CHOICE = fc.FinalChoice(
    workload="0123456789ab",
    chosen="# from tvm import s_tir\ndef apply_trace(sch):\n  pass",
    label="runner-up 1",
    default_s=1.49e-5,
    chosen_s=1.12e-5,
    decided_at="2026-12-02T10:00:00+00:00",
)


def test_a_choice_reads_back_as_written(tmp_path: Path) -> None:
    path = fc.write_choice(tmp_path, CHOICE)
    assert path == tmp_path / fc.CHOICE_FILE
    assert fc.read_choice(tmp_path) == CHOICE and not CHOICE.default_kept
    assert json.loads(path.read_text())["version"] == fc.CHOICE_VERSION
    assert sorted(p.name for p in tmp_path.iterdir()) == [fc.CHOICE_FILE]  # no temp file left


def test_a_kept_default_has_no_trace_and_may_lack_a_default_time(tmp_path: Path) -> None:
    kept = fc.FinalChoice("0123456789ab", fc.DEFAULT, "default", None, 1.4e-5, "now")
    fc.write_choice(tmp_path, kept)
    choice = fc.read_choice(tmp_path)
    assert choice == kept and choice is not None and choice.default_kept


def test_a_rewrite_replaces_the_file_in_one_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fc.write_choice(tmp_path, CHOICE)

    def crash(src: object, dst: object) -> None:
        raise OSError("killed before the rename")

    monkeypatch.setattr(os, "replace", crash)
    kept = fc.FinalChoice("0123456789ab", fc.DEFAULT, "default", 1e-5, 1e-5, "later")
    with pytest.raises(OSError, match="killed"):
        fc.write_choice(tmp_path, kept)
    assert fc.read_choice(tmp_path) == CHOICE  # the old decision, whole
    monkeypatch.undo()
    fc.write_choice(tmp_path, kept)
    assert fc.read_choice(tmp_path) == kept


def test_a_database_without_a_choice_reads_none(tmp_path: Path) -> None:
    assert fc.read_choice(tmp_path) is None


@pytest.mark.parametrize(
    "text",
    [
        '{"version": 1, "workload": "0123456789ab", "chos',  # torn
        "[1, 2]",
        '{"version": 7, "workload": "x", "chosen": "default", "label": "default",'
        ' "default_s": 1, "chosen_s": 1, "decided_at": "now"}',
        '{"version": 1, "workload": "x", "chosen": "", "label": "default",'
        ' "default_s": 1, "chosen_s": 1, "decided_at": "now"}',
        '{"version": 1, "workload": "x", "chosen": "default"}',
    ],
    ids=["torn", "not-an-object", "version", "empty-choice", "missing-fields"],
)
def test_a_garbled_choice_is_an_error_naming_the_file_and_the_fix(
    tmp_path: Path, text: str
) -> None:
    (tmp_path / fc.CHOICE_FILE).write_text(text)
    with pytest.raises(fc.FinalChoiceError, match=r"final_choice\.json cannot be read.*delete it"):
        fc.read_choice(tmp_path)


def _figure(label: str, median_s: float | None, verified: bool = True) -> FinalFigure:
    spread = None if median_s is None else Spread.of([median_s] * 3)
    trace = None if label == "default" else f"trace of {label}"
    return FinalFigure(label, spread, verified and spread is not None, trace=trace)


def test_the_fastest_verified_tuned_finalist_is_the_best() -> None:
    default = _figure("default", 3.0)
    tuned = [_figure("best", 2.0), _figure("runner-up 1", 1.5), _figure("runner-up 2", 1.0, False)]
    assert pick_best(default, tuned) == (tuned[1], False)


def test_a_default_faster_than_every_tuned_finalist_is_kept() -> None:
    default = _figure("default", 1.0)
    assert pick_best(default, [_figure("best", 1.3), _figure("runner-up 1", 0.5, False)]) == (
        default,
        True,
    )
    assert pick_best(default, [_figure("best", 1.0)])[1] is False  # a tie is no win


def test_an_unverified_default_is_never_kept() -> None:
    tuned = [_figure("best", 2.0)]
    assert pick_best(_figure("default", 1.0, verified=False), tuned) == (tuned[0], False)
    assert pick_best(_figure("default", None), []) == (None, False)


def _task() -> TuneTask:
    from tvm import te

    a = te.placeholder((8,), name="A")
    return TuneTask.from_prim_func(te.create_prim_func([a, te.compute((8,), lambda i: a[i])]), "t")


def test_the_tuner_records_its_choice_and_keeps_the_last_one_without_a_verified_figure(
    tmp_path: Path,
) -> None:
    from pytest_wasm_tune.artifacts.database import workload_key

    task, default, best = _task(), _figure("default", 3.0), _figure("runner-up 1", 2.0)
    record_choice(tmp_path, task, default, best)
    tuned = fc.read_choice(tmp_path)
    assert tuned is not None and tuned.workload == workload_key(task.mod)
    assert (tuned.chosen, tuned.label, tuned.default_s, tuned.chosen_s) == (
        "trace of runner-up 1",
        "runner-up 1",
        3.0,
        2.0,
    )
    record_choice(tmp_path, task, default, None)  # no tuned finalist verified: the default
    kept = fc.read_choice(tmp_path)
    assert kept is not None and kept.default_kept and kept.chosen_s == 3.0
    record_choice(tmp_path, task, _figure("default", None), None)  # nothing verified
    assert fc.read_choice(tmp_path) == kept
