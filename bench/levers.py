"""Does a tuning lever pay? Tuner settings compared with the defaults in one run.

    .venv/bin/python bench/levers.py --variant trials_per_iter=16 [--variant ...]
        [--kernels matmul512,conv3x3_64x56] [--trials 128] [--replicates 3]

Each kernel is tuned `--replicates` times (seeds 0, 1, ...) with the baseline settings and with
every variant, interleaved seed by seed so that drift over the run touches all alike. The
kernels of one seed and setting share a databases directory, in `--kernels` order, so that
`sibling_seeds` finds the kernels tuned before. Figures
are final re-measurements (SIMD128, local headless Chromium); per setting the median replicate's
GFLOPS, the range over replicates and the wall time, each also as a ratio to the baseline.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import breakdown_per_trial
from kernels import bench_kernels

from pytest_wasm_tune.artifacts.environment import collect_environment
from pytest_wasm_tune.local_stack import LocalStack
from pytest_wasm_tune.measure.runner import MeasureConfig
from pytest_wasm_tune.tuning import TuneOptions, TuneTask, tune

BASELINE = "baseline"


def log(message: str) -> None:
    print(f"[levers {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """`name=value[,name=value]` of TuneOptions fields, or `measure.name=value` of its
    MeasureConfig's (ints, floats or true/false)."""
    fields = {field.name for field in dataclasses.fields(TuneOptions)}
    fields |= {f"measure.{field.name}" for field in dataclasses.fields(MeasureConfig)}
    changes: dict[str, Any] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if not sep or name not in fields:
            known = ", ".join(sorted(fields))
            raise argparse.ArgumentTypeError(
                f"{part!r}: expected FIELD=VALUE, FIELD one of {known}"
            )
        changes[name] = _value(value)
    return text, changes


def tune_options(changes: dict[str, Any], **given: Any) -> TuneOptions:
    """TuneOptions with a variant's changes (`measure.*` ones go to its MeasureConfig)."""
    prefix = "measure."
    measure = {k.removeprefix(prefix): v for k, v in changes.items() if k.startswith(prefix)}
    top = {k: v for k, v in changes.items() if not k.startswith(prefix)}
    return TuneOptions(**given, **top, measure=dataclasses.replace(MeasureConfig(), **measure))


def _value(text: str) -> Any:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a number or true/false")


def per_trial(batches: Any) -> dict[str, float]:
    """Seconds per search trial outside timed repeats, and its parts (as bench/run.py)."""
    trials = sum(b.trials for b in batches) or 1
    parts = {"overhead": sum(b.wall_s - b.kernel_s for b in batches) / trials}
    parts |= breakdown_per_trial(batches)
    return {name: round(seconds, 4) for name, seconds in parts.items()}


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per setting: median replicate GFLOPS, range, wall; ratios to the baseline."""
    summary: dict[str, Any] = {}
    for setting, replicates in runs.items():
        gflops = sorted(r["gflops"] for r in replicates if r["gflops"])
        summary[setting] = {
            "median_gflops": gflops[(len(gflops) - 1) // 2] if gflops else None,
            "range_gflops": [gflops[0], gflops[-1]] if gflops else None,
            "median_wall_s": round(statistics.median(r["wall_s"] for r in replicates), 1),
            "median_overhead_per_trial_s": round(
                statistics.median(r["per_trial_s"]["overhead"] for r in replicates), 4
            ),
        }
    base = summary.get(BASELINE, {})
    for figures in summary.values():
        if base.get("median_gflops") and figures["median_gflops"]:
            figures["gflops_vs_baseline"] = round(
                figures["median_gflops"] / base["median_gflops"], 3
            )
        if base.get("median_wall_s"):
            figures["wall_vs_baseline"] = round(figures["median_wall_s"] / base["median_wall_s"], 3)
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", type=parse_variant, action="append", required=True)
    parser.add_argument("--kernels", default="matmul512,conv3x3_64x56")
    parser.add_argument("--trials", type=int, default=128)
    parser.add_argument("--replicates", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench-levers.json"))
    args = parser.parse_args()
    kernels = bench_kernels()
    names = args.kernels.split(",")
    unknown = [name for name in names if name not in kernels]
    if unknown:
        parser.error(f"unknown kernels {unknown}; known: {', '.join(kernels)}")
    settings = {BASELINE: {}} | dict(args.variant)
    results: dict[str, Any] = {"trials": args.trials, "replicates": args.replicates}
    with tempfile.TemporaryDirectory(prefix="wasm-tune-levers-") as tmp, LocalStack() as stack:
        results["environment"] = collect_environment({"chromium": stack.browser.version})
        results["kernels"] = {}
        for name in names:
            task = TuneTask.from_prim_func(kernels[name](), name)
            runs: dict[str, list[dict[str, Any]]] = {setting: [] for setting in settings}
            for seed in range(args.replicates):
                for index, (setting, changes) in enumerate(settings.items()):
                    options = tune_options(changes, trials=args.trials, seed=seed, fresh=True)
                    log(f"{name} seed {seed}: {setting}")
                    work = Path(tmp) / f"setting{index}-seed{seed}"  # siblings: earlier kernels
                    result = tune(task, stack.workbench, work, options)
                    runs[setting].append(
                        {
                            "seed": seed,
                            "gflops": round(result.best_gflops, 2) if result.best_gflops else None,
                            "wall_s": round(result.wall_s, 1),
                            "trials": result.trials,
                            "batches": len(result.batches),
                            "per_trial_s": per_trial(result.batches),
                            "siblings": result.siblings,
                        }
                    )
                    log(f"  {runs[setting][-1]}")
            results["kernels"][name] = {"runs": runs, "summary": summarize(runs)}
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({name: k["summary"] for name, k in results["kernels"].items()}, indent=2))
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
