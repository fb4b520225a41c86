"""bench/paired.py and its use in bench/run.py: ours and the peers in alternated rounds."""

import contextlib

import pytest

from .bench_modules import load_bench_module

paired = load_bench_module("paired")
run = load_bench_module("run")


def test_rounds_sample_everything_once_and_reverse_the_order_every_other_round() -> None:
    calls: list[str] = []

    def sampler(label: str, seconds: float):
        def sample() -> float:
            calls.append(label)
            return seconds

        return sample

    @contextlib.contextmanager
    def open_ours():
        calls.append("open")
        yield {"replicate0": sampler("replicate0", 0.01)}
        calls.append("close")

    tables = paired.alternate(
        {"mm": ({"tfjs": sampler("tfjs", 0.02), "ort": sampler("ort", 0.03)}, open_ours)},
        sampler("peak", 60.0),
        paired.PairedPlan(sessions=2, rounds=2),
    )
    one_round = ["peak", "tfjs", "ort", "replicate0"]
    reversed_round = one_round[::-1]
    session = ["open", *one_round, *reversed_round, "close"]
    assert calls == session * 2  # ours are opened afresh per session
    row = {"peak_gflops": 60.0, "tfjs": 0.02, "ort": 0.03, "replicate0": 0.01}
    assert tables == {"mm": [{**row, "session": 0}] * 2 + [{**row, "session": 1}] * 2}
    assert paired.labels_of_ours(tables["mm"], ["tfjs", "ort"]) == ["replicate0"]
    with pytest.raises(ValueError, match="at least one session"):
        paired.PairedPlan(sessions=0)


def test_operators_take_turns_session_by_session_and_a_failing_one_drops_out() -> None:
    opened: list[str] = []

    def opener(name: str, fail_in_session: int | None = None):
        @contextlib.contextmanager
        def open_ours():
            session = opened.count(name)
            opened.append(name)
            if session == fail_in_session:
                raise RuntimeError(f"{name} crashed")
            yield {"ours": lambda: 0.01}

        return open_ours

    failures: list[str] = []
    tables = paired.alternate(
        {
            "a": ({"tfjs": lambda: 0.02}, opener("a")),
            "b": ({"tfjs": lambda: 0.02}, opener("b", fail_in_session=1)),
            "c": ({"tfjs": lambda: 0.02}, opener("c")),
        },
        lambda: 60.0,
        paired.PairedPlan(sessions=3, rounds=1),
        recoverable=(RuntimeError,),
        on_failure=lambda name, err: failures.append(f"{name}: {err}"),
    )
    assert opened == ["a", "b", "c", "a", "b", "c", "a", "c"]
    assert failures == ["b: b crashed"]
    assert sorted(tables) == ["a", "c"]  # b is left unpaired
    assert [row["session"] for row in tables["c"]] == [0, 1, 2]


def test_each_session_opens_ours_in_a_browser_process_started_for_it() -> None:
    calls: list[str] = []

    @contextlib.contextmanager
    def open_ours():
        calls.append("open")
        yield {"ours": lambda: 0.01}
        calls.append("close")

    opener = paired.in_fresh_browser(lambda: calls.append("restart"), open_ours)
    plan = paired.PairedPlan(sessions=3, rounds=2)
    tables = paired.alternate({"mm": ({"tfjs": lambda: 0.02}, opener)}, lambda: 60.0, plan)
    assert calls == ["restart", "open", "close"] * 3
    assert [row["session"] for row in tables["mm"]] == [0, 0, 1, 1, 2, 2]


def test_each_session_keeps_its_rounds_and_our_median() -> None:
    rounds = [
        {"peak_gflops": 60.0, "tfjs": 0.02, "ours": ours, "session": session}
        for session, ours in [(0, 0.010), (0, 0.010), (1, 0.020), (1, 0.010), (1, 0.020)]
    ]
    figures = paired.paired_figures(rounds, ["tfjs"], ["ours"])["ours"]
    assert figures["pairs_by_session"] == [
        [[0.02, 0.01], [0.02, 0.01]],
        [[0.02, 0.02], [0.02, 0.01], [0.02, 0.02]],
    ]
    assert figures["ours_median_s_by_session"] == [0.01, 0.02]
    assert figures["peer_ratio"]["median"] == 2.0
    assert figures["quartile_ratio"] == 2.0  # our lower quartile is 10 ms


def test_host_drift_between_rounds_cancels_out_of_the_ratio() -> None:
    # the host runs everything 1x, 1.5x, then 2x slower: each round's ratio stays 2
    rounds = [
        {"peak_gflops": 60.0 / slow, "tfjs": 0.02 * slow, "ort": 0.03 * slow, "ours": 0.01 * slow}
        for slow in (1.0, 1.5, 2.0)
    ]
    figures = paired.paired_figures(rounds, ["tfjs", "ort"], ["ours"], flops=300_000_000)
    assert figures["rounds"] == 3
    ours = figures["ours"]
    assert ours["peer_ratio"] == {"median": 2.0, "q1": 2.0, "q3": 2.0, "n": 3}
    assert ours["by_peer"]["ort"]["median"] == 3.0
    # 300 MFLOP in 10 ms is 30 GFLOPS, half of the 60 GFLOPS ceiling, in every round
    assert ours["fraction_of_ceiling"]["median"] == 0.5
    assert ours["ours_s"]["median"] == pytest.approx(0.015)


def test_the_faster_peer_of_each_round_counts_and_missing_peers_are_skipped() -> None:
    rounds = [
        {"peak_gflops": 60.0, "tfjs": 0.02, "ort": 0.01, "ours": 0.01},
        {"peak_gflops": 60.0, "tfjs": 0.03, "ours": 0.01},
        {"peak_gflops": 60.0, "tfjs": 0.04, "ort": 0.05, "ours": 0.01},
    ]
    figures = paired.paired_figures(rounds, ["tfjs", "ort"], ["ours", "absent"])
    assert figures["ours"]["peer_ratio"]["median"] == 3.0
    assert figures["ours"]["by_peer"]["ort"]["n"] == 2
    assert "fraction_of_ceiling" not in figures["ours"]  # no flops given (a model)
    assert "absent" not in figures


def _ratio(ratio: float) -> dict:
    """Paired figures of one of ours whose rounds' ratios spread ±0.1 around `ratio`; its
    quartile ratio is `ratio`."""
    pairs = [[0.010 * ratio, 0.010], [0.010 * (ratio + 0.1), 0.010], [0.010 * ratio, 0.010]]
    return {
        "peer_ratio": {"median": 9.0, "q1": ratio - 0.1, "q3": ratio + 0.1, "n": 9},
        "quartile_ratio": ratio,
        "pairs_by_session": [pairs] * 3,
    }


def test_a_kernels_headline_ratio_is_the_median_of_its_replicates_alternated_ones() -> None:
    kernel = {
        "flops": 1e9,
        "simd128": {
            "tuned": {"median_s": 0.05, "gflops": 20.0},
            "replicates": [{}, {}, {}],
            # by final GFLOPS the median replicate is replicate0; by ratio it is replicate2
            "across_replicates": {"median_replicate": 0},
        },
    }
    peers = {
        "ceiling_gflops": 50.0,
        "ops": {"tfjs": {"mm": {"median_s": 0.04}}},
        "paired": {
            "mm": {
                "replicate0": _ratio(0.9),
                "replicate1": _ratio(1.3),
                "replicate2": {**_ratio(1.1), "fraction_of_ceiling": {"median": 0.45}},
            }
        },
    }
    results = {"kernels": {"mm": kernel}}
    run.add_peer_ratios(results, peers)
    assert kernel["peer_ratio_simd128"] == 1.1
    assert kernel["peer_ratio_simd128_replicate"] == 2
    assert kernel["peer_ratio_simd128_iqr"] == pytest.approx([1.0, 1.2])
    assert kernel["peer_ratio_simd128_replicates"] == [0.9, 1.3, 1.1]
    low, high = kernel["peer_ratio_simd128_rerun_interval"]
    # three replicates 0.2 apart say little about a rerun's median: wider than their range
    assert low < 0.9 and high > 1.3
    assert kernel["fraction_of_ceiling_simd128"] == 0.45
    # timed apart: the peers' 40 ms over our 50 ms final re-measurement
    assert kernel["peer_ratio_simd128_separate"] == 0.8
    assert kernel["fraction_of_ceiling_simd128_separate"] == 0.4


def test_resnet18_ratio_comes_from_the_alternated_rounds() -> None:
    results = {"resnet18_ms": {"ours": {"median": 80.0}}}
    peers = {
        "resnet18_ms": {"tfjs": {"median": 88.0}},
        "paired": {
            "resnet18": {
                "ours": {
                    **_ratio(1.2),
                    "ours_s": {"median": 0.075, "q1": 0.07, "q3": 0.08, "n": 15},
                }
            }
        },
    }
    run.add_resnet18_ratio(results, peers)
    assert results["peer_ratio_resnet18"] == 1.2
    low, high = results["peer_ratio_resnet18_rerun_interval"]
    assert 1.1 < low <= 1.2 <= high < 1.35  # three sessions alike: the rounds' noise
    assert results["peer_ratio_resnet18_separate"] == 1.1
    assert results["resnet18_ms"]["ours_alternated"]["median"] == 75.0
