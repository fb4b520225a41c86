"""The regression gate's comparison: limit AND beyond both runs' IQRs."""

import pytest

from pytest_wasm_tune.artifacts.compare import compare_task, compare_tasks, format_deltas


def record(best_s, q1=None, q3=None, task="mm", browser="chromium"):
    spread = None if q1 is None else {"median": best_s, "q1": q1, "q3": q3}
    return {"task": task, "browser": browser, "best_s": best_s, "best_spread_s": spread}


def test_slower_beyond_the_limit_and_both_iqrs_regresses() -> None:
    delta = compare_task(record(0.0120, 0.0118, 0.0125), record(0.0100, 0.0098, 0.0102), 5.0)
    assert delta.change_pct == pytest.approx(20.0)
    assert delta.beyond_spread and delta.regressed and delta.verdict == "REGRESSED"
    assert delta.message("run-1") == (
        "wasm-tune regression: mm in chromium: final best 12 ms (IQR 11.8–12.5) "
        "against 10 ms (IQR 9.8–10.2) in run run-1: +20.0 %, more than "
        "--wasm-tune-compare-fail 5% and beyond both IQRs"
    )


def test_a_change_within_the_spread_fails_nothing_even_above_the_limit() -> None:
    delta = compare_task(record(0.0120, 0.0095, 0.0130), record(0.0100, 0.0090, 0.0110), 5.0)
    assert delta.change_pct == pytest.approx(20.0)
    assert not delta.beyond_spread and not delta.regressed
    assert delta.verdict == "within spread"


def test_beyond_the_spread_but_under_the_limit_passes() -> None:
    delta = compare_task(record(0.0104, 0.01035, 0.0105), record(0.0100, 0.0099, 0.0101), 5.0)
    assert delta.beyond_spread and not delta.regressed and delta.verdict == "slower"


def test_faster_new_missing_and_compare_only() -> None:
    baseline = {"tasks": [record(0.0100, 0.0099, 0.0101), record(0.002, task="conv")]}
    current = [
        record(0.0080, 0.0079, 0.0081),
        record(0.001, task="new-task"),
        record(None, task="conv"),
    ]
    faster, new, failed = compare_tasks(current, baseline, 5.0)
    assert (faster.verdict, faster.regressed) == ("faster", False)
    assert (new.verdict, new.baseline_s, new.regressed) == ("new", None, False)
    assert (failed.verdict, failed.change_pct) == ("no result", None)
    # without a limit nothing regresses, however much slower
    (slower,) = compare_tasks([record(1.0)], baseline, None)
    assert slower.beyond_spread and not slower.regressed
    # without spreads the point values decide
    assert compare_task(record(0.012), record(0.010), 5.0).regressed


def test_the_browser_is_part_of_the_identity() -> None:
    baseline = {"tasks": [record(0.010, browser="firefox")]}
    (delta,) = compare_tasks([record(0.020)], baseline, 5.0)
    assert delta.verdict == "new"


def test_summary_table() -> None:
    deltas = compare_tasks(
        [record(0.0120, 0.0118, 0.0125), record(0.001, task="other")],
        {"tasks": [record(0.0100, 0.0098, 0.0102)]},
        5.0,
    )
    assert format_deltas(deltas, "run-1") == [
        "task   browser   run-1 ms  now ms  change  verdict",
        "mm     chromium        10      12  +20.0%  REGRESSED",
        "other  chromium         -       1       -  new",
    ]
