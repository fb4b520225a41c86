"""Does a busy builder disturb timing? The same kernel timed in rounds with the builder idle,
compiling on the work CPUs (the tuner's arrangement), and compiling on every CPU (as before the
browser had a CPU of its own)."""

from __future__ import annotations

import contextlib
import tempfile
import threading
from pathlib import Path
from typing import Any

from pytest_wasm_tune.kernels import wasm_target
from pytest_wasm_tune.measure.compile_pool import CompilePool
from pytest_wasm_tune.measure.cpus import CpuPlan
from pytest_wasm_tune.rpc_session import BrowserSession, stage_reference
from pytest_wasm_tune.stats import Spread


class BusyBuilder:
    """Compiles `mod` over and over in `pool` (on `workers` threads) until stopped."""

    def __init__(self, pool: CompilePool, mod: Any, workers: int) -> None:
        self._pool, self._mod, self._workers = pool, mod, workers
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.compiles = 0

    def __enter__(self) -> BusyBuilder:
        for index in range(self._workers):
            thread = threading.Thread(target=self._loop, args=(index,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _loop(self, index: int) -> None:
        target = wasm_target()
        with tempfile.TemporaryDirectory(prefix="wasm-tune-busy-") as tmp:
            while not self._stop.is_set():
                future = self._pool.submit(self._mod, target, f"busy{index}", Path(tmp))
                self._pool.result(future)
                self.compiles += 1

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(120)


def _time_rounds(session: BrowserSession, symbol: str, args: list, number: int, rounds: int):
    times = []
    for _ in range(rounds):
        result = session.measure(symbol, args, number=number, repeat=1, warmup=1)
        times.append(result.times_s[-1])
    return times


def busy_vs_idle(
    device: Any,
    staging: Any,
    wasm: bytes,
    symbol: str,
    spec: list,
    load_mod: Any,
    plan: CpuPlan,
    rounds: int = 15,
) -> dict[str, Any]:
    """Spread of `symbol` per condition; `load_mod` is what the busy builder compiles."""
    sha = staging.publish(wasm)
    results: dict[str, Any] = {"rounds": rounds, "cpu_plan": plan.describe()}
    pinned_pool = CompilePool(plan.work_threads, 600)
    everywhere = CompilePool(2, 600)  # spawned unpinned: its workers run on every CPU
    try:
        with device.session(stage_reference(sha)) as session:
            args = [session.empty(shape, dtype) for shape, dtype in spec]
            session.fill_random(0, args)
            number = session.measure(symbol, args, number=0, repeat=1, warmup=3).number
            conditions = {
                "idle": None,
                "builder_busy_on_work_cpus": (pinned_pool, plan.work_threads, plan),
                "builder_busy_on_all_cpus": (everywhere, 2, None),
                "idle_again": None,
            }
            for name, load in conditions.items():
                if load is None:
                    times = _time_rounds(session, symbol, args, number, rounds)
                    compiles = 0
                else:
                    pool, workers, pin = load
                    pinning = pin.working() if pin is not None else contextlib.nullcontext()
                    with pinning, BusyBuilder(pool, load_mod, workers) as busy:
                        times = _time_rounds(session, symbol, args, number, rounds)
                        compiles = busy.compiles
                spread = Spread.of(times)
                results[name] = {
                    "spread_s": spread.to_dict(),
                    "iqr_pct": round(100 * (spread.q3 - spread.q1) / spread.median, 2),
                    "compiles_meanwhile": compiles,
                }
            idle = results["idle"]["spread_s"]["median"]
            for name in conditions:
                median = results[name]["spread_s"]["median"]
                results[name]["median_vs_idle"] = round(median / idle, 3)
            results["number"] = number
    finally:
        pinned_pool.close()
        everywhere.close()
        staging.release(sha)
    return results
