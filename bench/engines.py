"""One task tuned in every local engine, and each engine's best re-measured in the others.

Pass 1 tunes the task in Chromium, Firefox and WebKit in turn, into one databases directory, so
each engine's final re-measurement already times the bests of the engines before it. Pass 2
continues each engine but the last with its budget spent (no search): its final re-measurement
times its own best and every other engine's in one session, which is the column the table
shows. Every figure is a final re-measurement (median and quartiles over rounds, one session),
SIMD128 everywhere so that all engines run the same kind of build.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from figures import spread_figures

from pytest_wasm_tune.artifacts.results import result_to_dict
from pytest_wasm_tune.artifacts.side_by_side import cross_engine
from pytest_wasm_tune.local_stack import LocalStack
from pytest_wasm_tune.tuning import TuneOptions, TuneResult, TuneTask, tune

ENGINES = ("chromium", "firefox", "webkit")


def _figures(result: TuneResult) -> dict[str, Any]:
    tuned = spread_figures(result.flops, result.best_spread) or {}
    return {
        "gflops": tuned.get("gflops"),
        "gflops_iqr": tuned.get("gflops_iqr"),
        "default_gflops": round(result.default_gflops, 2) if result.default_gflops else None,
        "trials": result.trials,
        "correct": result.correct,
        "wall_s": round(result.wall_s, 1),
    }


def engines_bench(
    task: TuneTask,
    options: TuneOptions,
    work_dir: Path,
    log: Callable[[str], None],
    engines: Sequence[str] = ENGINES,
) -> dict[str, Any]:
    """`{"task", "trials", "per_engine": {engine: figures}, "cross_engine": {best of: {in:
    GFLOPS}}, "versions": {engine: version}}`."""
    tuned: dict[str, dict[str, Any]] = {}
    records: dict[str, dict[str, Any]] = {}
    versions: dict[str, str] = {}
    for passno, engine_options in (
        (1, options),
        (2, replace(options, fresh=False)),  # the budget is spent: final re-measurement only
    ):
        for engine in engines if passno == 1 else engines[:-1]:
            log(f"engines pass {passno}: {task.name} in {engine}")
            with LocalStack(engine) as stack:
                result = tune(task, stack.workbench, work_dir, engine_options)
                versions[engine] = stack.browser.version
            if passno == 1:
                tuned[engine] = _figures(result)
            # an engine's last pass timed its own best and every other one in one session
            records[engine] = result_to_dict(result, nodeid=task.name, mode="tune")
    return {
        "task": task.name,
        "trials": options.trials,
        "per_engine": tuned,
        "cross_engine": cross_engine(records.values()).get(task.name, {}),
        "versions": versions,
    }
