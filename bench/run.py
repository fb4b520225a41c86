"""Benchmarks of pytest-wasm-tune, measured in local headless Chromium.

    make bench    # or: .venv/bin/python bench/run.py [--trials 64] [--out bench-results.json]

Every ratio is against a baseline measured in the same process: the default (untuned) schedule
of the same task, built, staged and timed by the same page timer.

- overhead_per_trial_s: median over search batches of (batch wall time − time the kernels spent
  in timed repeats) / batch size, for the 512³ matmul; with the per-phase breakdown.
- matmul512_tuned_vs_default, conv2d_resnet18_tuned_vs_default: default time / tuned time.
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

from tvm import te, topi

from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.testing import LocalStack
from pytest_wasm_tune.tuning import ProgressEvent, TuneOptions, TuneResult, TuneTask, tune


def conv2d_resnet18_prim_func():
    """ResNet-18's 3×3 conv: 1×64×56×56 input, 64×64×3×3 weight, stride 1, pad 1, NCHW, fp32."""
    data = te.placeholder((1, 64, 56, 56), name="data")
    weight = te.placeholder((64, 64, 3, 3), name="weight")
    out = topi.nn.conv2d_nchw(data, weight, stride=1, padding=1, dilation=1)
    return te.create_prim_func([data, weight, out])


def run_task(
    stack: LocalStack, task: TuneTask, trials: int, work_dir: Path, relaxed_simd: bool = False
) -> tuple[TuneResult, list[float]]:
    """Tune `task`; return the result and the wall-clock seconds of each search batch."""
    events: list[tuple[float, int]] = []

    def progress(event: ProgressEvent) -> None:
        events.append((time.perf_counter(), event.trials_done))
        best = f"{event.best_gflops:7.2f}" if event.best_gflops else "    n/a"
        print(
            f"  [{task.name}] {event.trials_done:3d}/{event.trials_total} best {best} GFLOPS",
            file=sys.stderr,
            flush=True,
        )

    bench = dataclasses.replace(stack.workbench, relaxed_simd=relaxed_simd)
    result = tune(task, bench, work_dir, TuneOptions(trials=trials, seed=0), progress)
    return result, [t for t, _ in events]


def overhead_per_trial(result: TuneResult, trials_per_iter: int, batch_ends: list[float]) -> float:
    """Median over search batches of (wall − kernel time in timed repeats) / batch size.

    Batch i spans from the end of batch i-1 (for the first: the start of the search phase,
    i.e. the last batch end minus the search phase's duration) to its progress event.
    """
    if not batch_ends:
        return float("nan")
    starts = [batch_ends[-1] - result.phases_s["search"], *batch_ends[:-1]]
    logs = list(result.trial_log)
    per_batch = []
    for index, (start, end) in enumerate(zip(starts, batch_ends, strict=True)):
        batch = logs[index * trials_per_iter : (index + 1) * trials_per_iter]
        if batch:
            kernel_s = sum(log.number * sum(log.times_s) for log in batch)
            per_batch.append((end - start - kernel_s) / len(batch))
    return statistics.median(per_batch)


def summarize(result: TuneResult) -> dict:
    return {
        "default_gflops": round(result.default_gflops or 0, 2),
        "tuned_gflops": round(result.best_gflops or 0, 2),
        "tuned_vs_default": round(result.speedup or 0, 2),
        "trials": result.trials,
        "errors": result.errors,
        "correct": result.correct,
        "phases_s": result.phases_s,
        "wall_s": round(result.wall_s, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--out", type=Path, default=Path("bench-results.json"))
    parser.add_argument(
        "--no-relaxed-simd",
        dest="relaxed_simd",
        action="store_false",
        help="skip the extra runs tuned for wasm relaxed SIMD (fused multiply-add)",
    )
    args = parser.parse_args()
    trials_per_iter = TuneOptions().trials_per_iter
    with tempfile.TemporaryDirectory(prefix="wasm-tune-bench-") as tmp, LocalStack() as stack:
        work = Path(tmp)
        matmul, batches = run_task(
            stack, TuneTask.from_prim_func(matmul_prim_func(512), "matmul512"), args.trials, work
        )
        conv, _ = run_task(
            stack,
            TuneTask.from_prim_func(conv2d_resnet18_prim_func(), "conv2d_resnet18"),
            args.trials,
            work,
        )
        phases = {k: round(v / max(matmul.trials, 1), 4) for k, v in matmul.phases_s.items()}
        results = {
            "browser": f"chromium {stack.browser.version}",
            "trials": args.trials,
            "overhead_per_trial_s": round(overhead_per_trial(matmul, trials_per_iter, batches), 4),
            "overhead_breakdown_per_trial_s": {
                key: phases.get(key, 0.0)
                for key in ("build", "link", "stage", "session", "measure", "verify")
            },
            "search_wall_per_trial_s": round(
                matmul.phases_s.get("search", 0) / max(matmul.trials, 1), 4
            ),
            "matmul512_tuned_vs_default": round(matmul.speedup or 0, 2),
            "matmul512_gflops": {
                "default": round(matmul.default_gflops or 0, 2),
                "tuned": round(matmul.best_gflops or 0, 2),
            },
            "conv2d_resnet18_tuned_vs_default": round(conv.speedup or 0, 2),
            "conv2d_resnet18_gflops": {
                "default": round(conv.default_gflops or 0, 2),
                "tuned": round(conv.best_gflops or 0, 2),
            },
            "details": {"matmul512": summarize(matmul), "conv2d_resnet18": summarize(conv)},
        }
        if args.relaxed_simd:
            for name, make in (
                ("matmul512", lambda: matmul_prim_func(512)),
                ("conv2d_resnet18", conv2d_resnet18_prim_func),
            ):
                task = TuneTask.from_prim_func(make(), f"{name}_relaxed_simd")
                result, _ = run_task(stack, task, args.trials, work, relaxed_simd=True)
                results["details"][task.name] = summarize(result)
                results[f"{name}_relaxed_simd_gflops"] = {
                    "default": round(result.default_gflops or 0, 2),
                    "tuned": round(result.best_gflops or 0, 2),
                }
    text = json.dumps(results, indent=2)
    args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
