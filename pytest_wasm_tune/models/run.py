"""Run a compiled model (a Relax VM executable in the wasm's system lib) in a browser session.

with stack.session(compile_model(...)) as session:
    out = run_in_browser(session, [x])
    latency = measure_in_browser(session, [x])      # timed in the page (performance.now)
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import KernelError
from ..rpc_session import BrowserSession, Measurement, WarmupLimits
from ..stats import Spread

MEASURE_VM = "wasm_tune.measure_vm"
LATENCY_CALLS = 15  # timed single calls behind a model's reported latency


def remote_vm(session: BrowserSession) -> Any:
    """A `relax.VirtualMachine` over the RPC session (loads the executable in the page)."""
    from tvm import relax

    return session.call(
        lambda: relax.VirtualMachine(session.remote.system_lib(), device=session.remote.cpu()),
        "loading the Relax VM",
    )


def run_in_browser(
    session: BrowserSession, inputs: Sequence[np.ndarray], vm: Any = None
) -> np.ndarray:
    """Upload `inputs`, call `main` once in the page and download its (single tensor) output."""
    vm = vm if vm is not None else remote_vm(session)
    args = [session.upload(np.ascontiguousarray(x)) for x in inputs]
    out = session.call(lambda: vm["main"](*args), "running main")
    return session.download(out)


def measure_in_browser(
    session: BrowserSession,
    inputs: Sequence[np.ndarray],
    *,
    number: int = 1,
    repeat: int = 5,
    warmup: int = 2,
    warmup_limits: WarmupLimits | None = None,
    timeout_s: float | None = None,
) -> Measurement:
    """End-to-end latency of `main`, timed inside the page with `performance.now()`.

    The page copies the inputs into its own tensors, loads its own VM (once per session), warms
    the model up (at least `warmup` calls, then until its time stops improving, within
    `warmup_limits`; page default: 60 calls or 20 s) and times `repeat` batches of `number`
    calls (number <= 0: calibrated to batches of >= 40 ms). Only the model's calls are timed:
    no RPC, no input transfer.
    """
    args = [session.upload(np.ascontiguousarray(x)) for x in inputs]
    limits = () if warmup_limits is None else (warmup_limits.to_json(),)
    reply_text = session.call_timed(
        lambda: session.remote.get_function(MEASURE_VM)(number, repeat, warmup, *limits, *args),
        MEASURE_VM,
        timeout_s,
    )
    reply = json.loads(str(reply_text))
    if not reply.get("ok", False):
        raise KernelError(f"{MEASURE_VM} reported: {reply.get('error', reply)}")
    return Measurement.from_reply(reply)


def latency_in_browser(
    session: BrowserSession,
    inputs: Sequence[np.ndarray],
    *,
    calls: int = LATENCY_CALLS,
    timeout_s: float | None = None,
) -> tuple[Spread, Measurement]:
    """A model's latency as reported: `calls` single timed calls after the adaptive warm-up,
    summarised by their median, quartiles and 95 % interval of the median (seconds)."""
    measurement = measure_in_browser(
        session, inputs, number=1, repeat=calls, warmup=2, timeout_s=timeout_s
    )
    return Spread.of(measurement.times_s), measurement


def wall_clock_in_browser(
    session: BrowserSession, inputs: Sequence[np.ndarray], *, repeat: int = 3, vm: Any = None
) -> Measurement:
    """Host-side wall clock of `repeat` remote `main` calls (includes one RPC round trip each):
    a cross-check for `measure_in_browser`, not a replacement."""
    vm = vm if vm is not None else remote_vm(session)
    args = [session.upload(np.ascontiguousarray(x)) for x in inputs]
    func = session.call(lambda: vm["main"], "looking up main")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        session.call(lambda: func(*args), "running main")
        times.append(time.perf_counter() - started)
    return Measurement(1, tuple(times))
