"""Benchmarks of pytest-wasm-tune in local headless Chromium, with peers timed in the same run.

    make bench    # or: .venv/bin/python bench/run.py [--trials 128] [--out bench-results.json]

Everything is measured in one run on one machine: figures in GFLOPS or ms mean little across
machines, so each is also written as a ratio to the best peer measured in this run
(`peer_ratio_*` = peer time / our time, > 1: we are faster) and as a fraction of this machine's
wasm SIMD128 ceiling. Our figures are the tuner's final re-measurements (default, best and
runners-up interleaved in one fresh session, with their spread), never search-time minima.

- replicates: each kernel is tuned `--replicates` times (seeds seed, seed+1, ...); its figures
  are the median replicate's, `across_replicates` holds every replicate's GFLOPS and their
  range. Runs differ mostly in what the search finds, so a kernel's spread for a second run
  comes from its replicates (`peer_ratio_simd128_rerun_interval`, below), not from one
  re-measurement's IQR.
- peers: measured before and after our tunings; per operator the faster pass counts (each
  pass's median is kept: the drift over the run).
- peer_ratio_simd128 (and _resnet18): after the second peer pass, ours (every replicate's
  tuned kernel, our ResNet-18) and the peers are timed in alternating rounds (bench/paired.py),
  so the host's drift over the run cancels out; the ratio is the faster peer's lower quartile
  of seconds over ours (bench/rerun.py: noise only slows samples), `_iqr` the quartiles of the
  rounds' own ratios, `_replicates` each replicate's ratio; the headline replicate
  (`_replicate`) is the one with the median of those ratios.
  The rounds run in `--paired-sessions` sessions of ours, each in a browser started for it.
  `_rerun_interval`: where a second run's headline lands with 95 % probability (bench/rerun.py:
  the replicates, or ResNet-18's sessions, and their rounds resampled).
  `_separate`: the peers' faster pass over our own final re-measurement, timed apart.

- overhead_per_trial_s: per search batch, (wall − time the kernels spent in timed repeats) /
  trials, over the batches of every SIMD128 kernel; median over them (≥ 4 batches), with a
  per-trial breakdown (generate: MetaSchedule search + cost model; compile_wait: compiles,
  links and staging not hidden behind the browser's timing; warmup and calibration: the page's
  calls before the timed repeats; browser_rest: the browser's other busy time outside timed
  calls, i.e. sessions, tier-up compiles, RPC round trips, verification) that adds up to the
  mean.
- quiet_timing: the tuned matmul's spread with the builder idle vs busy (see bench/quiet.py).
- resnet18_ms: ours (the `resnet-18.wasm` of the last `make tune`, when there is one, timed
  here before and after the tunings, 15 calls each; the faster pass counts, as for the peers)
  beside the peers' ResNet-18 (same topology, random weights).
- engines: matmul512 tuned in Chromium, Firefox and WebKit (SIMD128), GFLOPS per engine and
  each engine's best re-measured in the others (bench/engines.py).
- parallel: trials per minute of one pytest tuning four matmuls with one browser and under
  `-n 2` with two (bench/parallel.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engines import engines_bench
from figures import (
    breakdown_per_trial,
    combine_peer_passes,
    fastest_pass,
    lower_median_index,
    replicate_figures,
    spread_figures,
)
from kernels import bench_kernels
from paired import OpenOurs, PairedPlan, in_fresh_browser, kernel_sampler, model_sampler
from parallel import parallel_bench
from quiet import busy_vs_idle
from rerun import median_of_groups, pooled, rerun_interval

from pytest_wasm_tune.artifacts.environment import collect_environment
from pytest_wasm_tune.local_stack import LocalStack
from pytest_wasm_tune.tuning import (
    ProgressEvent,
    TuneOptions,
    TuneResult,
    TuneTask,
    tune,
)

RELAXED_KERNELS = ("matmul512", "conv3x3_64x56")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_task(
    stack: LocalStack, task: TuneTask, options: TuneOptions, work_dir: Path, relaxed: bool
) -> TuneResult:
    def progress(event: ProgressEvent) -> None:
        best = f"{event.best_gflops:7.2f}" if event.best_gflops else "    n/a"
        log(f"  [{task.name}] {event.trials_done:3d}/{event.trials_total} best {best} GFLOPS")

    bench = dataclasses.replace(stack.workbench, relaxed_simd=relaxed)
    return tune(task, bench, work_dir, options, progress)


def kernel_summary(result: TuneResult, seed: int) -> dict[str, Any]:
    return {
        "seed": seed,
        "default": spread_figures(result.flops, result.default_spread),
        "tuned": spread_figures(result.flops, result.best_spread),
        "tuned_vs_default": round(result.speedup or 0, 2),
        "correct": result.correct,
        "trials": result.trials,
        "outcomes": result.outcomes,
        "search_best_gflops": round(result.flops / result.search_best_s / 1e9, 2)
        if result.search_best_s
        else None,
        "wall_s": round(result.wall_s, 1),
        "search_phases_s": {k: round(v, 3) for k, v in result.search_phases_s.items()},
        "warmup_stops": _count(entry.warmup_stop for entry in result.trial_log),
        "candidates_with_restarted_repeats": sum(1 for entry in result.trial_log if entry.restarts),
        "finalists": [
            {
                "label": figure.label,
                "verified": figure.verified,
                "times_s": list(figure.times_s),
                "search_median_s": figure.search_median_s,
            }
            for figure in result.finalists
        ],
        "batches": [dataclasses.asdict(batch) for batch in result.batches],
        "trial_log": [
            {**dataclasses.asdict(entry), "outcome": str(entry.outcome)}
            for entry in result.trial_log
        ],
    }


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value or "none"] = counts.get(value or "none", 0) + 1
    return counts


def tune_kernels(
    stack: LocalStack,
    names: list[str],
    options: TuneOptions,
    args: argparse.Namespace,
    work: Path,
    out: dict[str, Any],
) -> dict[str, Tuned]:
    """Tune every kernel `args.replicates` times per target into `out[name]`; returns each
    kernel's SIMD128 tunings."""
    kernels = bench_kernels()
    tuned: dict[str, Tuned] = {}
    for name in names:
        task = TuneTask.from_prim_func(kernels[name](), name)
        targets = [("simd128", False)]
        if args.relaxed_simd and name in RELAXED_KERNELS:
            targets.append(("relaxed_simd", True))
        entry: dict[str, Any] = {"flops": task.flops}
        for target, relaxed in targets:
            runs: list[TuneResult] = []
            summaries = []
            for replicate in range(args.replicates):
                seed = args.seed + replicate
                log(
                    f"tuning {name} ({target}), {args.trials} trials, "
                    f"replicate {replicate + 1}/{args.replicates} (seed {seed})"
                )
                seeded = dataclasses.replace(options, seed=seed)
                runs.append(run_task(stack, task, seeded, work / f"seed{seed}", relaxed))
                summaries.append(kernel_summary(runs[-1], seed))
            across = replicate_figures(summaries)
            middle = across["median_replicate"] if across else 0
            entry[target] = {
                **summaries[middle],
                "across_replicates": across,
                "replicates": summaries,
            }
            if target == "simd128":
                tuned[name] = Tuned(task, runs, middle)
        out[name] = entry
    return tuned


def overhead(results: list[TuneResult]) -> dict[str, Any]:
    """Harness overhead per trial from the search batches of every SIMD128 kernel (see the
    module docstring)."""
    batches = [b for result in results for b in result.batches if b.trials]
    if not batches:
        return {}
    per_batch = [(b.wall_s - b.kernel_s) / b.trials for b in batches]
    trials = sum(b.trials for b in batches)
    breakdown = breakdown_per_trial(batches)
    return {
        "overhead_per_trial_s": round(statistics.median(per_batch), 4),
        "overhead_per_trial_mean_s": round(sum(breakdown.values()), 4),
        "overhead_per_batch_s": [round(v, 4) for v in per_batch],
        "batch_trials": [b.trials for b in batches],
        "overhead_breakdown_per_trial_s": {k: round(v, 4) for k, v in breakdown.items()},
        "kernel_s_per_trial": round(sum(b.kernel_s for b in batches) / trials, 4),
    }


@dataclasses.dataclass(frozen=True)
class Tuned:
    """One kernel's SIMD128 tunings (one per replicate); its figures are `middle`'s."""

    task: TuneTask
    runs: list[TuneResult]
    middle: int

    def labels(self) -> list[str]:
        """One symbol per replicate, in replicate order."""
        return [replicate_label(index) for index in range(len(self.runs))]

    def wasm(self, stack: LocalStack) -> bytes:
        """Every replicate's chosen schedule in one module, one symbol each (`labels`)."""
        import tvm

        from pytest_wasm_tune.kernels import build_wasm

        functions = {
            label: chosen_schedule(result, self.task)["main"].with_attr("global_symbol", label)
            for label, result in zip(self.labels(), self.runs, strict=True)
        }
        return build_wasm(tvm.IRModule(functions), stack.linker).wasm


def replicate_label(index: int) -> str:
    """The symbol of a replicate's kernel in the alternated rounds."""
    return f"replicate{index}"


def chosen_schedule(result: TuneResult, task: TuneTask) -> Any:
    """The IRModule of a tuning's best schedule (the default one when nothing beat it)."""
    from tvm.s_tir.meta_schedule.database import JSONDatabase

    if result.best_trace is None:
        return task.mod
    directory = result.database_dir
    database = JSONDatabase(
        str(directory / "database_workload.json"), str(directory / "database_tuning_record.json")
    )
    record = next(r for r in database.get_all_tuning_records() if str(r.trace) == result.best_trace)
    return record.as_measure_candidate().sch.mod


def quiet_timing(stack: LocalStack, result: TuneResult, task: TuneTask) -> dict[str, Any]:
    """The tuned kernel's spread with the builder idle and busy (bench/quiet.py)."""
    import tvm

    from pytest_wasm_tune.kernels import build_wasm

    built = build_wasm(chosen_schedule(result, task), stack.linker)
    load = bench_kernels()["conv3x3_64x56"]()
    return busy_vs_idle(
        stack.device,
        stack.workbench.staging,
        built.wasm,
        "main",
        task.arg_specs(),
        tvm.IRModule({"main": load}),
        stack.workbench.cpus,
    )


def our_samplers(
    stack: LocalStack, tuned: dict[str, Tuned], resnet18_wasm: Path | None
) -> dict[str, OpenOurs]:
    """Per peer op: how to open our side of the alternated rounds (bench/paired.py), each
    session in a browser process of its own."""
    import numpy as np

    from pytest_wasm_tune.models.resnet18 import INPUT_SHAPE

    bench = stack.workbench
    openers: dict[str, OpenOurs] = {}
    for name, kernel in tuned.items():
        log(f"building every replicate's {name} into one wasm for the alternated rounds")
        wasm = kernel.wasm(stack)
        spec = kernel.task.arg_specs()
        openers[name] = functools.partial(
            kernel_sampler, bench.device, bench.staging, wasm, spec, kernel.labels()
        )
    if resnet18_wasm is not None and resnet18_wasm.is_file():
        x = np.random.default_rng(0).uniform(-1, 1, INPUT_SHAPE).astype("float32")
        openers["resnet18"] = functools.partial(
            model_sampler, bench.device, bench.staging, resnet18_wasm.read_bytes(), x
        )
    restart = stack.browser.restart
    return {name: in_fresh_browser(restart, opener) for name, opener in openers.items()}


def time_our_resnet18(stack: LocalStack, wasm: Path) -> dict[str, Any] | None:
    """Median/quartiles (ms) of our tuned ResNet-18 (`make tune`'s artifact), if it exists."""
    import numpy as np

    from pytest_wasm_tune.models.resnet18 import INPUT_SHAPE
    from pytest_wasm_tune.models.run import latency_in_browser
    from pytest_wasm_tune.rpc_session import stage_reference

    if not wasm.is_file():
        log(f"no {wasm}: run `make tune` first to time our ResNet-18 beside the peers")
        return None
    bench = stack.workbench
    x = np.random.default_rng(0).uniform(-1, 1, INPUT_SHAPE).astype("float32")
    sha = bench.staging.publish(wasm.read_bytes())
    try:
        with bench.device.session(stage_reference(sha), call_timeout_s=600) as session:
            spread, _ = latency_in_browser(session, [x], timeout_s=600)
    finally:
        bench.staging.release(sha)
    return {
        "wasm": str(wasm),
        "median": spread.median * 1e3,
        "q1": spread.q1 * 1e3,
        "q3": spread.q3 * 1e3,
        "n": spread.n,
    }


def add_resnet18_ratio(results: dict[str, Any], peers: dict[str, Any] | None) -> None:
    """peer_ratio_resnet18 from the alternated rounds, with `_rerun_interval` (bench/rerun.py:
    sessions and rounds resampled); `_separate`: the peers' faster pass over ours timed in its
    own passes."""
    paired = ((peers or {}).get("paired") or {}).get("resnet18", {}).get("ours")
    if paired:
        results["peer_ratio_resnet18"] = paired["quartile_ratio"]
        results["peer_ratio_resnet18_iqr"] = [
            paired["peer_ratio"]["q1"],
            paired["peer_ratio"]["q3"],
        ]
        results["peer_ratio_resnet18_rerun_interval"] = list(
            rerun_interval(paired["pairs_by_session"], pooled)
        )
        results["resnet18_ms"]["ours_alternated"] = {
            k: round(v * 1e3, 3) if k != "n" else v for k, v in paired["ours_s"].items()
        }
    ours = results.get("resnet18_ms", {}).get("ours")
    peer_ms = [f["median"] for f in ((peers or {}).get("resnet18_ms") or {}).values() if f]
    if ours and peer_ms:
        results["peer_ratio_resnet18_separate"] = round(min(peer_ms) / ours["median"], 3)


def add_peer_ratios(results: dict[str, Any], peers: dict[str, Any] | None) -> None:
    """peer_ratio_* and fraction_of_ceiling for every kernel of ours.

    SIMD128: from the rounds alternating ours and the peers (bench/paired.py), the quartile
    ratio (bench/rerun.py) of the replicate whose ratio is the replicates' median, every
    replicate's, and `peer_ratio_simd128_separate` (the peers' faster pass over our final
    re-measurement). Relaxed SIMD is not alternated: its ratio is the separate one.
    """
    ceiling = (peers or {}).get("ceiling_gflops")
    for name, kernel in results["kernels"].items():
        peer_times = {
            peer: figures[name]["median_s"]
            for peer, figures in (peers or {}).get("ops", {}).items()
            if figures.get(name, {}).get("median_s")
        }
        kernel["peers_median_s"] = peer_times
        best_peer = min(peer_times.values(), default=None)
        for target in ("simd128", "relaxed_simd"):
            ours = kernel.get(target)
            if not ours or not ours.get("tuned"):
                continue
            suffix = "_separate" if target == "simd128" else ""
            if best_peer:
                kernel[f"peer_ratio_{target}{suffix}"] = round(
                    best_peer / ours["tuned"]["median_s"], 3
                )
            if ceiling:
                kernel[f"fraction_of_ceiling_{target}{suffix}"] = round(
                    ours["tuned"]["gflops"] / ceiling, 3
                )
        paired = ((peers or {}).get("paired") or {}).get(name)
        if paired and kernel.get("simd128", {}).get("across_replicates"):
            add_paired_ratios(kernel, paired)


def add_paired_ratios(kernel: dict[str, Any], paired: dict[str, Any]) -> None:
    """The alternated rounds' ratios of a kernel's replicates (replicate0, replicate1, ...).

    The headline is the replicate whose ratio is the median of the replicates' ratios (the
    lower one of an even count), so that it is the typical tuning's standing against the peers;
    the median replicate by final GFLOPS stands in when a replicate went unpaired. Its spread
    for a second run is `_rerun_interval` (bench/rerun.py: replicates and rounds resampled)."""
    replicates = kernel["simd128"]["replicates"]
    labels = [replicate_label(index) for index in range(len(replicates))]
    ratios = {label: paired[label]["quartile_ratio"] for label in labels if label in paired}
    if len(ratios) == len(labels):
        middle = labels[lower_median_index([ratios[label] for label in labels])]
    else:
        middle = labels[kernel["simd128"]["across_replicates"]["median_replicate"]]
    if middle not in paired:
        return
    rounds = paired[middle]["peer_ratio"]
    kernel["peer_ratio_simd128"] = paired[middle]["quartile_ratio"]
    kernel["peer_ratio_simd128_iqr"] = [rounds["q1"], rounds["q3"]]
    kernel["peer_ratio_simd128_replicate"] = labels.index(middle)
    kernel["peer_ratio_simd128_replicates"] = list(ratios.values())
    rounds_by_replicate = [
        [pair for session in paired[label]["pairs_by_session"] for pair in session]
        for label in ratios
    ]
    kernel["peer_ratio_simd128_rerun_interval"] = list(
        rerun_interval(rounds_by_replicate, median_of_groups)
    )
    if "fraction_of_ceiling" in paired[middle]:
        kernel["fraction_of_ceiling_simd128"] = paired[middle]["fraction_of_ceiling"]["median"]


def measure_peers_safely(
    kernel_names: list[str],
    rounds: int,
    paired: PairedPlan,
    ours: dict[str, OpenOurs] | None = None,
) -> dict[str, Any] | None:
    """TF.js (wasm) and ONNX Runtime Web on the same operators, plus the SIMD128 ceiling;
    with `ours`, also ours and the peers in alternated rounds (as `paired` plans)."""
    try:
        import peers
    except ImportError as err:
        log(f"peers unavailable: {err}")
        return None
    try:
        return peers.bench_peers(kernel_names, rounds=rounds, ours=ours, paired=paired)
    except peers.PeerError as err:  # keep the tuning results of this run
        log(f"peers not measured: {err}")
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=128, help="per kernel (default: 128)")
    parser.add_argument("--trials-per-iter", type=int, default=64, help="default: 64")
    parser.add_argument(
        "--kernels",
        default="all",
        help="comma-separated, or none (only ResNet-18 beside the peers; default: all)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--no-relaxed-simd", dest="relaxed_simd", action="store_false")
    parser.add_argument("--no-peers", dest="peers", action="store_false")
    parser.add_argument("--no-resnet18", dest="resnet18", action="store_false")
    parser.add_argument(
        "--resnet18-wasm", type=Path, default=Path("wasm-tune-artifacts/resnet-18.wasm")
    )
    parser.add_argument("--peer-rounds", type=int, default=15, help="per peer pass (default: 15)")
    parser.add_argument(
        "--paired-sessions",
        type=int,
        default=PairedPlan.sessions,
        help="sessions of ours in the alternated rounds, each opened afresh (default: %(default)s)",
    )
    parser.add_argument(
        "--paired-rounds",
        type=int,
        default=PairedPlan.rounds,
        help="alternated rounds per session (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="of the first replicate")
    parser.add_argument(
        "--replicates",
        type=int,
        default=5,
        help="independent tunings (seeds) per kernel and target; figures are the median one's "
        "(default: 5)",
    )
    parser.add_argument("--no-engines", dest="engines", action="store_false")
    parser.add_argument(
        "--engines-trials", type=int, default=32, help="matmul512 in each engine (default: 32)"
    )
    parser.add_argument("--no-parallel", dest="parallel", action="store_false")
    parser.add_argument(
        "--parallel-trials", type=int, default=16, help="per matmul, -n 0 vs -n 2 (default: 16)"
    )
    parser.add_argument(
        "--pipeline",
        action=argparse.BooleanOptionalAction,
        default=TuneOptions().pipeline,
        help="time each chunk while the next ones compile (default: the tuner's, %(default)s)",
    )
    args = parser.parse_args()
    kernels = bench_kernels()
    chosen = {"all": list(kernels), "none": []}
    names = chosen.get(args.kernels, args.kernels.split(","))
    unknown = [name for name in names if name not in kernels]
    if unknown:
        parser.error(f"unknown kernels {unknown}; known: {', '.join(kernels)}")
    if args.replicates < 1:
        parser.error("--replicates must be at least 1")
    try:
        paired = PairedPlan(args.paired_sessions, args.paired_rounds)
    except ValueError as err:
        parser.error(str(err))
    options = TuneOptions(
        trials=args.trials,
        trials_per_iter=args.trials_per_iter,
        seed=args.seed,
        fresh=True,
        pipeline=args.pipeline,
    )
    results: dict[str, Any] = {
        "trials": args.trials,
        "trials_per_iter": args.trials_per_iter,
        "replicates": args.replicates,
        "paired": dataclasses.asdict(paired),
        "pipeline": args.pipeline,
    }
    peers = None
    if args.peers:
        log("peers, first pass (before our tunings)")
        peers_before = measure_peers_safely(names, args.peer_rounds, paired)
    with tempfile.TemporaryDirectory(prefix="wasm-tune-bench-") as tmp, LocalStack() as stack:
        work = Path(tmp)
        results["environment"] = collect_environment({"chromium": stack.browser.version})
        results["cpu_plan"] = stack.workbench.cpus.describe()
        results["kernels"] = {}
        ours_resnet18 = []  # timed before and after the tunings, as the peers are
        if args.resnet18:
            log(f"timing our ResNet-18 ({args.resnet18_wasm}), first pass")
            ours_resnet18.append(time_our_resnet18(stack, args.resnet18_wasm))
        tuned = tune_kernels(stack, names, options, args, work, results["kernels"])
        results.update(overhead([run for kernel in tuned.values() for run in kernel.runs]))
        if "matmul512" in tuned:
            matmul = tuned["matmul512"]
            log("quiet timing: the tuned matmul with the builder idle and busy")
            results["quiet_timing"] = quiet_timing(stack, matmul.runs[matmul.middle], matmul.task)
        if args.resnet18:
            if ours_resnet18[0] is not None:  # else there is no wasm to time (logged once)
                log(f"timing our ResNet-18 ({args.resnet18_wasm}), second pass")
                ours_resnet18.append(time_our_resnet18(stack, args.resnet18_wasm))
            timed = [figures for figures in ours_resnet18 if figures]
            results["resnet18_ms"] = {"ours": fastest_pass(timed) if timed else None}
        if args.peers:
            log("peers, second pass (after our tunings), then ours and theirs alternated")
            ours = our_samplers(stack, tuned, args.resnet18_wasm if args.resnet18 else None)
            peers_after = measure_peers_safely(names, args.peer_rounds, paired, ours)
    if args.engines:
        with tempfile.TemporaryDirectory(prefix="wasm-tune-bench-engines-") as tmp:
            task = TuneTask.from_prim_func(kernels["matmul512"](), "matmul512")
            engine_options = dataclasses.replace(options, trials=args.engines_trials)
            results["engines"] = engines_bench(task, engine_options, Path(tmp), log)
    if args.parallel:
        results["parallel"] = parallel_bench(args.parallel_trials, log)
    if args.peers:
        passes = [p for p in (peers_before, peers_after) if p]
        peers = combine_peer_passes(passes) if passes else None
    results["peers"] = peers
    add_peer_ratios(results, peers)
    if "resnet18_ms" in results:
        results["resnet18_ms"].update((peers or {}).get("resnet18_ms") or {})
        add_resnet18_ratio(results, peers)
    text = json.dumps(results, indent=2)
    args.out.write_text(text + "\n")
    print(json.dumps(headline(results), indent=2))
    log(f"wrote {args.out}")
    return 0


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The figures worth a glance (the full record is in the output file)."""
    short: dict[str, Any] = {
        "cpu": results["environment"]["cpu"],
        "browser": results["environment"]["browsers"],
        "overhead_per_trial_s": results.get("overhead_per_trial_s"),
        "ceiling_gflops": (results.get("peers") or {}).get("ceiling_gflops"),
    }
    for name, kernel in results["kernels"].items():
        short[name] = {
            key: value
            for key, value in kernel.items()
            if key.startswith(("peer_ratio", "fraction_of_ceiling"))
        }
        for target in ("simd128", "relaxed_simd"):
            if kernel.get(target) and kernel[target]["tuned"]:
                short[name][f"{target}_gflops"] = kernel[target]["tuned"]["gflops"]
                short[name][f"{target}_gflops_iqr"] = kernel[target]["tuned"]["gflops_iqr"]
                across = kernel[target].get("across_replicates")
                if across and across["n"] > 1:
                    short[name][f"{target}_gflops_replicates"] = across["gflops"]
        short[name]["peers_gflops"] = {
            peer: round(kernel["flops"] / t / 1e9, 2)
            for peer, t in kernel.get("peers_median_s", {}).items()
        }
    if "resnet18_ms" in results:
        short["resnet18_ms"] = {
            who: round(figures["median"], 1)
            for who, figures in results["resnet18_ms"].items()
            if figures
        }
        short["peer_ratio_resnet18"] = results.get("peer_ratio_resnet18")
    if "quiet_timing" in results:
        short["quiet_timing_iqr_pct"] = {
            k: v["iqr_pct"] for k, v in results["quiet_timing"].items() if isinstance(v, dict)
        }
    if "engines" in results:
        engines = results["engines"]
        short["engines_gflops"] = {e: f["gflops"] for e, f in engines["per_engine"].items()}
        short["cross_engine_gflops"] = engines["cross_engine"]
    if "parallel" in results:
        parallel = results["parallel"]
        short["trials_per_min"] = {
            "one_browser": parallel["one_browser"]["trials_per_min"],
            "two_workers": parallel["two_workers"]["trials_per_min"],
        }
    return short


if __name__ == "__main__":
    sys.exit(main())
