"""Whether two `make bench` runs agree within their spread.

    .venv/bin/python bench/agree.py bench-results.json other/bench-results.json

A figure's spread is where a second run's headline ratio lands with 95 % probability
(`peer_ratio_*_rerun_interval`, bench/rerun.py): for a kernel from its replicates and their
alternated rounds (runs differ mostly in what the search finds), for ResNet-18, one model timed
in both runs, from its sessions and rounds. Two runs agree on a figure when each run's headline
ratio lies within the other's spread. Each spread holds for its own figure: with six figures,
two runs of one stable process disagree on at least one in about a fifth of run pairs
(simulated, bench/rerun.py). The table also marks the ratios that reach the target (1.15× the
best peer). Exit status: 0 when every figure present in both runs agrees both ways,
1 otherwise, 2 when no figure is in both (runs before the intervals were written have none).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

TARGET_RATIO = 1.15
RESNET18 = "ResNet-18"


class Figure(NamedTuple):
    """A headline ratio to the best peer and the spread it is held against."""

    ratio: float
    low: float
    high: float

    def holds(self, ratio: float) -> bool:
        return self.low <= ratio <= self.high

    def text(self) -> str:
        mark = "**" if self.ratio >= TARGET_RATIO else ""
        return f"{mark}{self.ratio:.2f}×{mark} ({self.low:.2f}–{self.high:.2f})"


def figures(results: dict[str, Any]) -> dict[str, Figure]:
    """Every SIMD128 kernel's paired ratio and ResNet-18's, each with its rerun interval, of one
    `bench-results.json`."""
    found = {}
    for name, kernel in results.get("kernels", {}).items():
        ratio = kernel.get("peer_ratio_simd128")
        interval = kernel.get("peer_ratio_simd128_rerun_interval")
        if ratio is not None and interval:
            found[name] = Figure(ratio, *interval)
    ratio = results.get("peer_ratio_resnet18")
    interval = results.get("peer_ratio_resnet18_rerun_interval")
    if ratio is not None and interval:
        found[RESNET18] = Figure(ratio, *interval)
    return found


def agreement(first: Figure, second: Figure) -> str:
    """Whether each run's ratio lies in the other's spread: "both ways", "one way" or "no"."""
    ways = first.holds(second.ratio) + second.holds(first.ratio)
    return ("no", "one way", "both ways")[ways]


def table(first: dict[str, Figure], second: dict[str, Figure]) -> tuple[list[str], bool]:
    """Markdown rows comparing the figures present in both runs, and whether all agree."""
    rows = ["| figure | first run | second run | agree |", "|---|---|---|---|"]
    all_agree = True
    for name in [name for name in first if name in second]:
        verdict = agreement(first[name], second[name])
        all_agree = all_agree and verdict == "both ways"
        rows.append(f"| {name} | {first[name].text()} | {second[name].text()} | {verdict} |")
    return rows, all_agree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args(argv)
    runs = [figures(json.loads(path.read_text())) for path in (args.first, args.second)]
    if not set(runs[0]) & set(runs[1]):
        print(
            "no figure is in both runs (paired ratios need the peers; rerun intervals are "
            "written since 2026-12-05)",
            file=sys.stderr,
        )
        return 2
    rows, all_agree = table(*runs)
    print("\n".join(rows))
    print(
        f"ratio = best peer's time / ours (bold: ≥ {TARGET_RATIO}×); spread: where a rerun's "
        "ratio lands with 95 % probability"
    )
    print("the runs agree" if all_agree else "the runs do not agree on every figure")
    return 0 if all_agree else 1


if __name__ == "__main__":
    sys.exit(main())
