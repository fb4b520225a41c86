"""A final re-measurement as bench figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def spread_figures(flops: float, spread: Any) -> dict[str, Any] | None:
    """Median/quartile seconds and GFLOPS of a final re-measurement."""
    if spread is None:
        return None
    return {
        "median_s": spread.median,
        "q1_s": spread.q1,
        "q3_s": spread.q3,
        "ci95_s": [spread.ci95_low, spread.ci95_high],
        "n": spread.n,
        "gflops": round(flops / spread.median / 1e9, 2),
        "gflops_iqr": [round(flops / spread.q3 / 1e9, 2), round(flops / spread.q1 / 1e9, 2)],
    }


def breakdown_per_trial(batches: Any) -> dict[str, float]:
    """Seconds per search trial outside timed calls, by part (SearchBatch.overhead_parts_s:
    generate, compile_wait, warmup, calibration, browser_rest); they add up to the overhead."""
    trials = sum(b.trials for b in batches) or 1
    totals: dict[str, float] = {}
    for batch in batches:
        for part, seconds in batch.overhead_parts_s.items():
            totals[part] = totals.get(part, 0.0) + seconds
    return {part: seconds / trials for part, seconds in totals.items()}


def lower_median_index(values: Sequence[float]) -> int:
    """Index of the median value (the lower one of an even count; ties by position)."""
    order = sorted(range(len(values)), key=lambda index: (values[index], index))
    return order[(len(order) - 1) // 2]


def replicate_figures(summaries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Across independent tunings (seeds) of one kernel: the median replicate's index and the
    range of their final GFLOPS. What the search finds differs far more between runs than one
    schedule's timing does, so this range is the spread a second bench run is compared with."""
    tuned = [(s["tuned"]["gflops"], index) for index, s in enumerate(summaries) if s["tuned"]]
    if not tuned:
        return None
    ranked = sorted(tuned)
    gflops, median_index = tuned[lower_median_index([g for g, _index in tuned])]
    return {
        "n": len(ranked),
        "seeds": [summaries[index]["seed"] for _g, index in tuned],
        "gflops": [g for g, _index in tuned],
        "median_gflops": gflops,
        "range_gflops": [ranked[0][0], ranked[-1][0]],
        "median_replicate": median_index,
    }


def combine_peer_passes(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """Peers measured in several passes of one run (before and after our tunings) → one record
    that favours the peers: per operator the pass with the fastest median, the highest
    ceiling; each pass's medians are kept so the drift between them is visible."""
    combined = dict(passes[-1])
    combined["passes"] = len(passes)
    combined["ceiling_gflops"] = max(p["ceiling_gflops"] for p in passes)
    combined["ceiling_gflops_passes"] = [p["ceiling_gflops"] for p in passes]
    ops: dict[str, dict[str, Any]] = {}
    for peer in {peer for p in passes for peer in p.get("ops", {})}:
        for op in {op for p in passes for op in p["ops"].get(peer, {})}:
            measured = [p["ops"][peer][op] for p in passes if op in p["ops"].get(peer, {})]
            fastest = min(measured, key=lambda figures: figures["median_s"])
            ops.setdefault(peer, {})[op] = {
                **fastest,
                "passes_median_s": [figures["median_s"] for figures in measured],
            }
    combined["ops"] = ops
    resnet: dict[str, Any] = {}
    for peer in {peer for p in passes for peer in (p.get("resnet18_ms") or {})}:
        measured = [
            p["resnet18_ms"][peer] for p in passes if (p.get("resnet18_ms") or {}).get(peer)
        ]
        if measured:
            resnet[peer] = fastest_pass(measured)
    combined["resnet18_ms"] = resnet
    return combined


def fastest_pass(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """Latency figures (`median`, ...) of one model timed in several passes of a run → the pass
    with the fastest median, plus every pass's median (`passes_median`: the drift)."""
    fastest = min(passes, key=lambda figures: figures["median"])
    return {**fastest, "passes_median": [figures["median"] for figures in passes]}
