"""bench/levers.py: variant parsing and the comparison with the baseline."""

import argparse

import pytest

from .bench_modules import load_bench_module

levers = load_bench_module("levers")


def test_a_variant_names_tune_options_fields_with_typed_values() -> None:
    name, changes = levers.parse_variant("trials_per_iter=16,pipeline=false,build_timeout_s=7.5")
    assert name == "trials_per_iter=16,pipeline=false,build_timeout_s=7.5"
    assert changes == {"trials_per_iter": 16, "pipeline": False, "build_timeout_s": 7.5}


@pytest.mark.parametrize("text", ["trials_per_iter", "no_such_field=1", "trials_per_iter=many"])
def test_a_bad_variant_is_refused_with_the_reason(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        levers.parse_variant(text)


def test_settings_are_compared_with_the_baseline_by_their_median_replicate() -> None:
    runs = {
        "baseline": [
            {"gflops": 20.0, "wall_s": 100.0, "per_trial_s": {"overhead": 0.5}},
            {"gflops": 24.0, "wall_s": 110.0, "per_trial_s": {"overhead": 0.7}},
        ],
        "trials_per_iter=16": [
            {"gflops": 30.0, "wall_s": 120.0, "per_trial_s": {"overhead": 0.9}},
            {"gflops": 26.0, "wall_s": 140.0, "per_trial_s": {"overhead": 0.9}},
            {"gflops": None, "wall_s": 130.0, "per_trial_s": {"overhead": 0.9}},
        ],
    }
    summary = levers.summarize(runs)
    assert summary["baseline"]["median_gflops"] == 20.0
    assert summary["trials_per_iter=16"]["median_gflops"] == 26.0
    assert summary["trials_per_iter=16"]["range_gflops"] == [26.0, 30.0]
    assert summary["trials_per_iter=16"]["gflops_vs_baseline"] == 1.3
    assert summary["trials_per_iter=16"]["wall_vs_baseline"] == round(130.0 / 105.0, 3)
    assert summary["baseline"]["median_overhead_per_trial_s"] == 0.6


def test_a_measure_field_goes_to_the_options_measure_config() -> None:
    _name, changes = levers.parse_variant("measure.abandon_factor=3,trials_per_iter=32")
    options = levers.tune_options(changes, trials=128, seed=1)
    assert options.measure.abandon_factor == 3
    assert (options.trials_per_iter, options.trials, options.seed) == (32, 128, 1)
    assert options.measure.repeat == levers.MeasureConfig().repeat
