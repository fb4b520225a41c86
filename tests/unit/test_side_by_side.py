"""The per-browser table of tuned GFLOPS and the cross-engine table of re-measured bests."""

from pytest_wasm_tune.artifacts.side_by_side import (
    cross_engine,
    format_cross_engine,
    format_side_by_side,
    per_browser,
)

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


def _crossed(browser: str, own: float, foreign: dict[str, float | None]) -> dict:
    return {
        "task": "mm",
        "browser": browser,
        "database_name": f"{browser}-relaxed-simd",
        "best_gflops": own,
        "cross_engine": {
            name: {"gflops": g, "verified": g is not None} for name, g in foreign.items()
        },
    }


def test_each_best_is_a_row_with_the_browsers_it_was_timed_in() -> None:
    tasks = [
        _crossed("chromium", 30.0, {}),
        _crossed("firefox", 20.0, {"chromium-relaxed-simd": 18.5}),
        _crossed("webkit", 15.0, {"chromium-relaxed-simd": 16.0, "firefox-relaxed-simd": None}),
        {"task": "solo", "browser": "chromium", "best_gflops": 9.0},
    ]
    assert cross_engine(tasks) == {
        "mm": {
            "chromium-relaxed-simd": {"chromium": 30.0, "firefox": 18.5, "webkit": 16.0},
            "firefox-relaxed-simd": {"firefox": 20.0, "webkit": None},
            "webkit-relaxed-simd": {"webkit": 15.0},
        }
    }
    assert format_cross_engine(tasks) == [
        "task  best of                in chromium  in firefox  in webkit",
        "----  ---------------------  -----------  ----------  ---------",
        "mm    chromium-relaxed-simd        30.00       18.50      16.00",
        "mm    firefox-relaxed-simd             -       20.00          -",
        "mm    webkit-relaxed-simd              -           -      15.00",
    ]


def test_no_foreign_best_needs_no_cross_engine_table() -> None:
    assert cross_engine(TASKS) == {}
    assert format_cross_engine(TASKS) == []
