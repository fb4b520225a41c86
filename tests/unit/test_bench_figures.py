"""bench/figures.py: replicates of one kernel and peers measured in several passes."""

import pytest

from pytest_wasm_tune.tuning import SearchBatch

from .bench_modules import load_bench_module

figures = load_bench_module("figures")


def _summary(seed: int, gflops: float | None) -> dict:
    return {"seed": seed, "tuned": None if gflops is None else {"gflops": gflops}}


def test_replicates_take_the_median_one_and_the_range() -> None:
    across = figures.replicate_figures([_summary(0, 20.0), _summary(1, 30.0), _summary(2, 25.0)])
    assert across["median_gflops"] == 25.0
    assert across["median_replicate"] == 2
    assert across["range_gflops"] == [20.0, 30.0]
    assert across["seeds"] == [0, 1, 2]


def test_an_even_count_takes_the_lower_middle_and_failed_replicates_are_left_out() -> None:
    across = figures.replicate_figures([_summary(0, 30.0), _summary(1, None), _summary(2, 20.0)])
    assert across["n"] == 2
    assert across["median_gflops"] == 20.0
    assert across["median_replicate"] == 2
    assert figures.replicate_figures([_summary(0, None)]) is None


def _pass(ceiling: float, matmul_s: float, resnet_ms: float) -> dict:
    return {
        "ceiling_gflops": ceiling,
        "ops": {"tfjs": {"matmul512": {"median_s": matmul_s}}},
        "resnet18_ms": {"tfjs": {"median": resnet_ms}},
    }


def test_peer_passes_keep_the_fastest_pass_and_every_median() -> None:
    combined = figures.combine_peer_passes([_pass(30.0, 0.010, 140.0), _pass(32.0, 0.012, 130.0)])
    assert combined["passes"] == 2
    assert combined["ceiling_gflops"] == 32.0
    assert combined["ops"]["tfjs"]["matmul512"]["median_s"] == 0.010
    assert combined["ops"]["tfjs"]["matmul512"]["passes_median_s"] == [0.010, 0.012]
    assert combined["resnet18_ms"]["tfjs"]["median"] == 130.0
    assert combined["resnet18_ms"]["tfjs"]["passes_median"] == [140.0, 130.0]


def test_our_model_timed_in_two_passes_keeps_the_faster_with_its_spread() -> None:
    first = {"median": 84.6, "q1": 78.6, "q3": 87.2, "n": 15, "wasm": "m.wasm"}
    second = {"median": 75.4, "q1": 73.6, "q3": 78.0, "n": 15, "wasm": "m.wasm"}
    assert figures.fastest_pass([first, second]) == {**second, "passes_median": [84.6, 75.4]}
    assert figures.fastest_pass([first])["passes_median"] == [84.6]


def test_overhead_parts_add_up_when_compiles_overlap_the_browser() -> None:
    # pipelined: the builder phase (6 s) held 4 s of the browser's 9 s busy time
    batch = SearchBatch(
        trials=10,
        wall_s=12.0,
        generate_s=1.0,
        builder_s=6.0,
        join_s=5.0,
        kernel_s=7.0,
        best_s=None,
        browser_s=9.0,
        warmup_s=0.5,
        untimed_s=0.25,
    )
    assert batch.overhead_parts_s == {
        "generate": 1.0,
        "compile_wait": 2.0,
        "warmup": 0.5,
        "calibration": 0.25,
        "browser_rest": 1.25,
    }
    assert sum(batch.overhead_parts_s.values()) == batch.wall_s - batch.kernel_s
    parts = figures.breakdown_per_trial([batch, batch])
    assert parts == pytest.approx(
        {
            "generate": 0.1,
            "compile_wait": 0.2,
            "warmup": 0.05,
            "calibration": 0.025,
            "browser_rest": 0.125,
        }
    )
