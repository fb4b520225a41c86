"""The pure parts of the terminal output and report.json (no pytester)."""

from pathlib import Path

from pytest_wasm_tune.artifacts.environment import cpu_model
from pytest_wasm_tune.artifacts.report import RunRecorder
from pytest_wasm_tune.fixtures import task_syntax_error
from pytest_wasm_tune.progress import LiveProgress, format_progress, format_summary


def test_progress_line() -> None:
    line = format_progress(3, 12, 4.333, 4.71, 40, 64, 12.3)
    assert (
        line == "[Task  3/12]  Current/Best:    4.33/   4.71 GFLOPS | Progress: (40/64) | 12.30 s"
    )
    assert format_progress(1, 1, None, None, 4, 4, 1) == (
        "[Task 1/1]  Current/Best:       -/      - GFLOPS | Progress: (4/4) | 1.00 s"
    )


def test_live_progress_numbers_tasks_and_shows_the_first_error() -> None:
    lines: list[str] = []
    live = LiveProgress(lines.append, total=2)
    first = live.start("mm", "chromium", 8)
    live.start("conv", "chromium", 0).done({"mode": "check", "correct": True, "wall_s": 1.0})
    first.done(
        {"mode": "tune", "correct": False, "trials": 8, "errors": 8, "wall_s": 2.0,
         "error_messages": ["kernel failed in chromium:\n  wasm trap"]}
    )  # fmt: skip
    assert lines == [
        "[Task 1/2]  mm in chromium: tuning 8 trials",
        "[Task 2/2]  Done: default schedule - GFLOPS, correct | 1.00 s",
        "[Task 1/2]  Done: best - GFLOPS (- over the default -), WRONG or not verified, 8 trials,"
        " 8 errors | 2.00 s\n[Task 1/2]  first error: kernel failed in chromium: wasm trap",
    ]


def test_a_task_without_arithmetic_reports_times() -> None:
    lines: list[str] = []
    LiveProgress(lines.append, total=1).start("transpose", "chromium", 4).done(
        {"mode": "tune", "correct": True, "trials": 4, "errors": 0, "wall_s": 3.0, "flops": 0,
         "best_s": 12.5e-6, "default_s": 15e-6, "speedup": 1.2, "best_iqr_pct": 2.0}
    )  # fmt: skip
    assert lines[-1] == (
        "[Task 1/1]  Done: best 12.50 us (IQR 2.0 %) (1.20x over the default 15.00 us), correct,"
        " 4 trials, 0 errors | 3.00 s"
    )


def test_a_kept_default_is_said_so_instead_of_a_speedup() -> None:
    kept = {"task": "pool", "browser": "chromium", "mode": "tune", "correct": True, "trials": 8,
            "errors": 0, "wall_s": 3.0, "default_gflops": 14.9, "best_gflops": 14.9,
            "best_iqr_pct": 1.5, "speedup": 1.0, "default_kept": True}  # fmt: skip
    lines: list[str] = []
    LiveProgress(lines.append, total=1).start("pool", "chromium", 8).done(kept)
    assert lines[-1] == (
        "[Task 1/1]  Done: default kept 14.90 GFLOPS (IQR 1.5 %), no tuned schedule beat it,"
        " correct, 8 trials, 0 errors | 3.00 s"
    )
    assert format_summary([kept])[2].split() == (
        ["pool", "chromium", "14.90", "14.90", "1.50", "default", "kept", "8", "0"]
    )


def test_summary_table() -> None:
    records = [
        {"task": "mm[256]", "browser": "chromium", "default_gflops": 2.5, "best_gflops": 59.8,
         "best_iqr_pct": 1.25, "speedup": 23.92, "trials": 192, "errors": 3},
        {"task": "conv", "browser": "grid-chrome", "default_gflops": None, "best_gflops": None,
         "speedup": None, "trials": 0, "errors": 1},
    ]  # fmt: skip
    assert format_summary(records) == [
        "task     browser      default GFLOPS  best GFLOPS  IQR %  speedup  trials  errors",
        "-------  -----------  --------------  -----------  -----  -------  ------  ------",
        "mm[256]  chromium               2.50        59.80   1.25   23.92x     192       3",
        "conv     grid-chrome               -            -      -        -       0       1",
    ]


def test_recorder_keeps_the_worst_outcome_and_items_without_result() -> None:
    recorder = RunRecorder()
    assert recorder.empty
    recorder.add_outcome("a", "setup", "passed")
    recorder.add_outcome("a", "call", "failed", "assert False")
    recorder.add_outcome("a", "teardown", "passed")
    recorder.add_outcome("b", "setup", "failed", "BrowserError: no Chromium")
    recorder.add_result({"nodeid": "a", "task": "a", "browser": "chromium", "browser_version": "1"})
    report = recorder.build({"mode": "tune"}, {"cpu": {}}, "session")
    assert report["tasks"][0]["outcome"] == "failed"
    assert recorder.without_result() == [
        {"nodeid": "b", "outcome": "error", "when": "setup", "message": "BrowserError: no Chromium"}
    ]
    assert recorder.browsers() == {"chromium": "1"}


def test_cpu_model_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n")
    assert cpu_model(cpuinfo) == "AMD EPYC 7B13"
    assert cpu_model(tmp_path / "missing")


def test_syntax_errors_only_rewritten_for_task_files(tmp_path: Path) -> None:
    task = tmp_path / "test_task.py"
    task.write_text("def test_x(wasm_tune):\n    return (\n")
    assert task_syntax_error(task) == (
        f"SyntaxError in task file {task}, line 2: '(' was never closed\n"
        "        return (\n"
        "               ^"
    )
    other = tmp_path / "test_other.py"
    other.write_text("def test_x(:\n")
    assert task_syntax_error(other) is None
