"""An RPC session to a browser page through the tracker, with a timeout on every remote call.

The page registers `wasm_tune.*` functions on each wasm instance (see web/README.md); tvmjs's own
remote `time_evaluator` is broken, so kernels are timed by the page's `performance.now()` timer.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import numpy as np

from . import defaults
from .errors import KernelError, RemoteCallError
from .measure.host_lock import host_measure_lock
from .services.no_delay import no_delay

STAGE_REFERENCE_PREFIX = b"wasm-tune-stage:"


@dataclass(frozen=True)
class WarmupLimits:
    """Bounds of the page's adaptive warm-up (web/README.md): it runs until the last two warm-up
    units (calls, or batches of ~`batch_ms`) are within `tolerance` of the fastest one, or
    `max_calls` calls, or `max_ms` ms spent in calls. None fields keep the page's default."""

    max_calls: int | None = None
    max_ms: float | None = None
    tolerance: float | None = None
    batch_ms: float | None = None

    def to_json(self) -> str:
        names = {"max_calls": "maxCalls", "max_ms": "maxMs", "tolerance": "tolerance"}
        names["batch_ms"] = "batchMs"
        given = {names[k]: v for k, v in vars(self).items() if v is not None}
        return json.dumps(given)


@dataclass(frozen=True)
class Measurement:
    """Per-call seconds of each timed repeat (`number` calls per repeat); warm-up excluded.

    `warmup_s` holds the per-call seconds of each warm-up unit (`warmup_number` calls each) and
    `warmup_stop` why the warm-up ended: "stable", "calls", "time" (a bound hit first) or
    "abandoned"; empty when the page did not say. `restarts` counts how often the page dropped
    its repeats because a repeat ran far below the calibrated floor (the code got faster after
    the warm-up, web/README.md "Warm code").
    """

    number: int
    times_s: tuple[float, ...]
    abandoned: bool = False  # timed by its warm-up call alone (far slower than the best)
    warmup_s: tuple[float, ...] = ()
    warmup_number: tuple[int, ...] = ()
    warmup_stop: str = ""
    restarts: int = 0
    # "optimized": the page compiled the kernel with the engine's optimizing tier before timing
    # it (V8 natives); "" when the engine's own tiering decided (web/README.md, "Warm code")
    tier: str = ""
    warmup_ms: float = 0.0  # time in warm-up calls
    untimed_ms: float = 0.0  # calls neither warm-up nor kept: calibration, dropped repeats

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    @property
    def spread(self) -> float:
        """Relative spread: (max - min) / median."""
        return (max(self.times_s) - min(self.times_s)) / self.median_s if self.median_s else 0.0

    @property
    def warmup_calls(self) -> int:
        return sum(self.warmup_number)

    @classmethod
    def from_reply(cls, reply: dict) -> Measurement:
        """From the JSON reply of `wasm_tune.measure` / `wasm_tune.measure_vm`."""
        warmup_s = tuple(float(t) for t in reply.get("warmup_s", ()))
        return cls(
            int(reply["number"]),
            tuple(float(t) for t in reply["times_s"]),
            bool(reply.get("abandoned", False)),
            warmup_s,
            tuple(int(n) for n in reply.get("warmup_number", (1,) * len(warmup_s))),
            str(reply.get("warmup_stop", "")),
            int(reply.get("restarts", 0)),
            str(reply.get("tier", "")),
            float(reply.get("warmup_ms", 0.0)),
            float(reply.get("untimed_ms", 0.0)),
        )


def call_with_timeout(
    fn: Callable[[], Any], timeout_s: float, on_timeout: Callable[[], None], what: str
) -> Any:
    """Run `fn` in a helper thread; after `timeout_s`, call `on_timeout` (which must unblock it,
    e.g. by reloading the page so its websocket closes) and raise RemoteCallError."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as err:
            box["error"] = err

    thread = threading.Thread(target=target, name=f"wasm-tune-rpc:{what}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        on_timeout()
        thread.join(10.0)
        raise RemoteCallError(f"{what} did not return within {timeout_s:g} s")
    if "error" in box:
        raise RemoteCallError(f"{what} failed: {box['error']}") from box["error"]
    return box["value"]


def stage_reference(sha256_hex: str) -> bytearray:
    """Session argument telling the page to fetch `/stage/<sha>.wasm` instead of receiving bytes."""
    return bytearray(STAGE_REFERENCE_PREFIX + sha256_hex.encode())


class BrowserSession:
    """One RPC session with one wasm module loaded in a browser page.

    `module` is either the wasm bytes or a stage reference (see `stage_reference`). `on_hang`
    must unblock a stuck call (reload the page); it is invoked when a call exceeds its timeout.
    """

    def __init__(
        self,
        tracker_address: tuple[str, int],
        key: str,
        module: bytes | bytearray,
        on_hang: Callable[[], None],
        *,
        open_timeout_s: float = defaults.SESSION_OPEN_TIMEOUT_S,
        call_timeout_s: float = defaults.REMOTE_CALL_TIMEOUT_S,
    ) -> None:
        self._tracker_address = tracker_address
        self._key = key
        self._module = bytearray(module)
        self._on_hang = on_hang
        self._open_timeout_s = open_timeout_s
        self.call_timeout_s = call_timeout_s
        self.remote: Any = None
        self._page_reloaded = False  # a call hung and on_hang reloaded the page

    def __enter__(self) -> BrowserSession:
        from tvm import rpc

        abandoned = threading.Event()

        def open_session() -> Any:
            tracker = rpc.connect_tracker(*self._tracker_address)
            no_delay(tracker._sock)  # TrackerSession keeps its socket in `_sock`
            session = tracker.request(
                self._key,
                priority=1,
                session_timeout=0,
                session_constructor_args=["rpc.WasmSession", self._module],
            )
            # A request that outlived its timeout must not keep the browser it finally got
            # (e.g. the one restarted to unblock it): dropping the session frees the page.
            return None if abandoned.is_set() else session

        try:
            self.remote = self.call(open_session, "opening the RPC session", self._open_timeout_s)
        except RemoteCallError:
            abandoned.set()
            raise
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        # The session would close only once no remote object (tensors, devices) is referenced
        # any more: a caller's leftover tensor (a failed test's locals) would keep the page
        # busy. The page ends it instead; TVM's client drops the later frees of a closed session.
        # A page reloaded after a hang has ended the session already (and must not be reloaded
        # twice); one that has gone fails the call at once.
        if self.remote is not None and not self._page_reloaded:
            with contextlib.suppress(RemoteCallError):
                self.call(
                    lambda: self.remote.get_function("wasm_tune.end_session")(),
                    "ending the RPC session",
                    defaults.SESSION_END_TIMEOUT_S,
                )
        self.remote = None

    def call(self, fn: Callable[[], Any], what: str, timeout_s: float | None = None) -> Any:
        return call_with_timeout(fn, timeout_s or self.call_timeout_s, self._reload_page, what)

    def _reload_page(self) -> None:
        self._page_reloaded = True
        self._on_hang()

    @property
    def device(self) -> Any:
        return self.remote.cpu()

    def upload(self, array: np.ndarray) -> Any:
        import tvm

        return self.call(lambda: tvm.runtime.tensor(array, self.device), "uploading a tensor")

    def empty(self, shape: Sequence[int], dtype: str) -> Any:
        import tvm

        return self.call(lambda: tvm.runtime.empty(tuple(shape), dtype, self.device), "allocating")

    def download(self, tensor: Any) -> np.ndarray:
        return self.call(tensor.numpy, "downloading a tensor")

    def run(self, func_name: str, args: Sequence[Any]) -> None:
        """Call a kernel of the module's system library once."""
        self.call(
            lambda: self.remote.system_lib().get_function(func_name)(*args), f"running {func_name}"
        )

    def call_timed(self, fn: Callable[[], Any], what: str, timeout_s: float | None = None) -> Any:
        """`call` for a call that times code in the page: no other browser of this host times
        anything meanwhile (`host_measure_lock`)."""
        with host_measure_lock().held():
            return self.call(fn, what, timeout_s)

    def _page_call(self, name: str, *args: Any, timed: bool = False) -> dict:
        call = self.call_timed if timed else self.call
        result = call(lambda: self.remote.get_function(name)(*args), name)
        reply = json.loads(str(result))
        if reply.get("ok") is False:
            raise KernelError(f"{name} reported: {reply.get('error', reply)}")
        return reply

    def info(self) -> dict:
        return self._page_call("wasm_tune.info")

    def compare(self, actual: Any, expected: Any, rtol: float, atol: float) -> dict:
        """numpy.allclose of two device tensors, computed in the page (downloads are slow):
        {"count", "mismatches", "maxAbs", "maxRel"}."""
        reply = self._page_call("wasm_tune.compare", float(rtol), float(atol), actual, expected)
        return dict(reply["results"][0])

    def copy(self, destinations: Sequence[Any], sources: Sequence[Any]) -> None:
        """Copy device tensors into their twins in the page (no transfer to or from the host)."""
        self._page_call("wasm_tune.copy", *destinations, *sources)

    def fill_random(self, seed: int, tensors: Sequence[Any]) -> None:
        """Fill tensors in place with the page's deterministic generator (dtype-aware)."""
        self._page_call("wasm_tune.fill_random", seed, *tensors)

    def measure(
        self,
        func_name: str,
        args: Sequence[Any],
        *,
        number: int = 0,
        repeat: int = defaults.MEASURE_REPEAT,
        min_repeat_ms: float = defaults.MEASURE_MIN_REPEAT_MS,
        warmup: int = defaults.MEASURE_WARMUP,
        abandon_above_s: float = 0.0,
        warmup_limits: WarmupLimits | None = None,
    ) -> Measurement:
        """Time `func_name` with the page's timer; `number=0` lets the page calibrate it so one
        repeat lasts at least `min_repeat_ms`. The page warms the kernel up first (at least
        `warmup` calls, then until its time stops improving, within `warmup_limits`). A kernel
        whose first `warmup` calls all exceed `abandon_above_s` (> 0) is timed by the fastest
        of them alone."""
        limits = () if warmup_limits is None else (warmup_limits.to_json(),)
        reply = self._page_call(
            "wasm_tune.measure",
            func_name,
            number,
            repeat,
            float(min_repeat_ms),
            warmup,
            float(abandon_above_s) * 1e3,
            *limits,
            *args,
            timed=True,
        )
        return Measurement.from_reply(reply)
