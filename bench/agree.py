"""Whether two `make bench` runs agree within their spread.

    .venv/bin/python bench/agree.py bench-results.json other/bench-results.json

Runs differ mostly in what the search finds, so a kernel's spread is the range of its
replicates' ratios to the best peer (`peer_ratio_simd128_replicates`, each the median of its
alternated rounds); ResNet-18's, one model timed in both runs, is the IQR of its rounds. Two runs
agree on a figure when each run's headline ratio lies within the other's spread. The table also
marks the ratios that reach the target (1.15× the best peer). Exit status: 0 when every figure
present in both runs agrees both ways, 1 otherwise.
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
    """Every SIMD128 kernel's paired ratio with its replicates' range, and ResNet-18's with its
    rounds' IQR, of one `bench-results.json`."""
    found = {}
    for name, kernel in results.get("kernels", {}).items():
        ratio = kernel.get("peer_ratio_simd128")
        replicates = kernel.get("peer_ratio_simd128_replicates") or []
        if ratio is not None and replicates:
            found[name] = Figure(ratio, min(replicates), max(replicates))
    ratio, iqr = results.get("peer_ratio_resnet18"), results.get("peer_ratio_resnet18_iqr")
    if ratio is not None and iqr:
        found[RESNET18] = Figure(ratio, iqr[0], iqr[1])
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
        print("no figure is in both runs (paired ratios need the peers)", file=sys.stderr)
        return 2
    rows, all_agree = table(*runs)
    print("\n".join(rows))
    print(
        f"ratio = best peer's time / ours (bold: ≥ {TARGET_RATIO}×); spread: kernels, the "
        "replicates' range; ResNet-18, the rounds' IQR"
    )
    print("the runs agree" if all_agree else "the runs do not agree on every figure")
    return 0 if all_agree else 1


if __name__ == "__main__":
    sys.exit(main())
