"""A final re-measurement as bench figures."""

from __future__ import annotations

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
