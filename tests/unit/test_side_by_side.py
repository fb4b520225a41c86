"""The per-browser table of tuned GFLOPS."""

from pytest_wasm_tune.artifacts.side_by_side import format_side_by_side, per_browser

TASKS = [
    {"task": "mm[64]", "browser": "chromium", "best_gflops": 30.5},
    {"task": "mm[64]", "browser": "firefox", "best_gflops": 22.25},
    {"task": "conv", "browser": "chromium", "best_gflops": 12.0},
    {"task": "conv", "browser": "firefox", "best_gflops": None},
    {"task": "mm[64]", "browser": "webkit", "best_gflops": 18.0},
]


def test_each_task_is_one_row_with_a_column_per_browser() -> None:
    assert per_browser(TASKS) == {
        "mm[64]": {"chromium": 30.5, "firefox": 22.25, "webkit": 18.0},
        "conv": {"chromium": 12.0, "firefox": None},
    }
    assert format_side_by_side(TASKS) == [
        "task    chromium GFLOPS  firefox GFLOPS  webkit GFLOPS",
        "------  ---------------  --------------  -------------",
        "mm[64]            30.50           22.25          18.00",
        "conv              12.00               -              -",
    ]


def test_one_browser_needs_no_side_by_side_table() -> None:
    assert format_side_by_side([t for t in TASKS if t["browser"] == "chromium"]) == []
