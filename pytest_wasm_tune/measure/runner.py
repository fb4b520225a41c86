"""MetaSchedule runner: measures staged batch modules in a browser through tracker → proxy.

`run()` returns at once; a worker thread opens one RPC session per batch module, allocates the
arguments on the device and fills them with random data, times every candidate with the page's
timer and verifies new best candidates against the host reference. A kernel that traps, hangs or
crashes the tab becomes a result with `error_msg`; the browser is recovered and the batch goes on.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from tvm.ir.utils import derived_object
from tvm.s_tir.meta_schedule.runner import PyRunner, PyRunnerFuture, RunnerInput, RunnerResult

from .. import defaults
from ..errors import KernelError, RemoteCallError, WasmTuneError
from ..rpc_session import BrowserSession, Measurement, WarmupLimits, stage_reference
from .artifact import RecordedKernel, StagedKernel, decode
from .outcome import KERNEL_FAILED
from .phases import PhaseTimes
from .staging import StagingDirectory
from .verify import DEFAULT_TOLERANCES, HostReference, Mismatch

SESSION_ATTEMPTS = 3


class Device(Protocol):
    """A browser registered in the tracker that the runner can open sessions on and recover."""

    name: str

    def session(self, module: bytes | bytearray) -> BrowserSession: ...

    def recover(self) -> None: ...


@dataclass(frozen=True)
class MeasureConfig:
    number: int = 0  # 0: calibrate so that one repeat lasts >= min_repeat_ms
    repeat: int = defaults.MEASURE_REPEAT
    min_repeat_ms: float = defaults.MEASURE_MIN_REPEAT_MS
    warmup: int = defaults.MEASURE_WARMUP
    call_timeout_s: float = defaults.REMOTE_CALL_TIMEOUT_S
    push_bytes: bool = False  # send modules over the RPC session instead of staging
    # a candidate whose first `warmup` calls are all this many times slower than the best
    # verified one (and slower than abandon_floor_s) is timed by the fastest of them alone
    abandon_factor: float = defaults.ABANDON_FACTOR
    abandon_floor_s: float = defaults.ABANDON_FLOOR_S
    # the page's warm-up bound (ms in calls) while searching; None: the page's default
    search_warmup_max_ms: float | None = defaults.SEARCH_WARMUP_MAX_MS
    tolerances: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_TOLERANCES)
    )


def abandon_bound_s(config: MeasureConfig, best_verified_s: float) -> float:
    """Seconds per call above which a candidate's first calls abandon it; 0: never (nothing
    verified yet)."""
    bound = config.abandon_factor * best_verified_s
    return max(bound, config.abandon_floor_s) if math.isfinite(bound) else 0.0


@dataclass
class TrialLog:
    """What the runner observed for one candidate (kept for reports)."""

    symbol: str
    number: int = 0
    times_s: tuple[float, ...] = ()
    error: str | None = None
    verified: bool = False
    abandoned: bool = False  # timed by its warm-up call alone: not a full measurement
    warmup_calls: int = 0
    warmup_stop: str = ""  # how the page's warm-up ended ("stable", "time", ...)
    restarts: int = 0  # repeats dropped because the code got faster after the warm-up
    tier: str = ""  # "optimized": the page compiled it with the optimizing tier first
    warmup_ms: float = 0.0  # spent in warm-up calls
    untimed_ms: float = 0.0  # spent in calls neither warm-up nor timed (calibration)


@dataclass(frozen=True)
class Remeasurement:
    """A candidate timed in `rounds` interleaved rounds of one fresh session."""

    symbol: str
    number: int
    times_s: tuple[float, ...]  # per-call seconds, one value per round
    verified: bool
    error: str | None = None


@derived_object
class BrowserRunnerFuture(PyRunnerFuture):
    def __init__(self) -> None:
        super().__init__()
        self._event = threading.Event()
        self._run_secs: list[float] | None = None
        self._error: str | None = None

    def set(self, run_secs: Sequence[float] | None, error: str | None) -> None:
        self._run_secs = None if run_secs is None else [float(s) for s in run_secs]
        self._error = error
        self._event.set()

    def done(self) -> bool:
        return self._event.is_set()

    def result(self) -> RunnerResult:
        self._event.wait()
        return RunnerResult(self._run_secs, self._error)


class _SessionOpenError(WasmTuneError):
    """No RPC session could be opened (or set up) on the device."""


@dataclass
class _Item:
    symbol: str
    future: BrowserRunnerFuture
    log: TrialLog
    finished: bool = False  # its result is known; the future is set when the job ends
    run_secs: list[float] | None = None


class _DeviceReference:
    """The host reference on a session's device, set up on first use: pristine inputs (filled
    by the page's generator, as on the host), the expected values of the arguments the kernel
    writes (uploaded; the others must stay equal to their inputs) and working tensors, restored
    from the pristine inputs in the page before each check."""

    def __init__(self, reference: HostReference) -> None:
        self._reference = reference
        self._uploaded: tuple[list[Any], list[Any], list[Any]] | None = None

    def on(self, session: BrowserSession) -> tuple[list[Any], list[Any]]:
        """Working tensors holding the inputs, and the expected values."""
        if self._uploaded is None:
            pristine = [
                session.empty(array.shape, str(array.dtype)) for array in self._reference.inputs
            ]
            session.fill_random(self._reference.seed, pristine)
            expected = [
                session.upload(wanted) if written else tensor
                for tensor, wanted, written in zip(
                    pristine, self._reference.outputs, self._reference.written, strict=True
                )
            ]
            working = [
                session.empty(array.shape, str(array.dtype)) for array in self._reference.inputs
            ]
            self._uploaded = (pristine, expected, working)
        pristine, expected, working = self._uploaded
        session.copy(working, pristine)
        return working, expected

    def drop(self) -> None:
        self._uploaded = None


@derived_object
class BrowserRunner(PyRunner):
    """Measures candidates in `device`; verifies new bests against `reference`."""

    def __init__(
        self,
        device: Device,
        staging: StagingDirectory,
        reference: HostReference,
        phases: PhaseTimes,
        config: MeasureConfig,
        recorded: Mapping[int, Sequence[float]] | None = None,
        on_trial: Callable[[TrialLog], None] | None = None,
        timing: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
    ) -> None:
        super().__init__()
        self.device = device
        self.staging = staging
        self.reference = reference
        self.phases = phases
        self.config = config
        self.recorded = recorded if recorded is not None else {}
        self.on_trial = on_trial
        self.timing = timing  # entered around each batch's sessions (CompileAffinity.timing)
        self.best_verified_s = float("inf")
        bound = config.search_warmup_max_ms
        self._search_warmup = None if bound is None else WarmupLimits(max_ms=bound)
        self.measured = 0
        self.logs: dict[str, TrialLog] = {}  # symbol → what was observed (for the callback)
        self.last_run_returned = time.perf_counter()  # when MetaSchedule's last run() returned
        self._jobs: queue.Queue[
            tuple[str, list[_Item], list[tuple[tuple[int, ...], str]]] | None
        ] = queue.Queue()
        self._prefetched: dict[str, BrowserRunnerFuture] = {}
        self._worker = threading.Thread(target=self._work, name="wasm-tune-runner", daemon=True)
        self._worker.start()

    def prefetch(
        self, sha256: str, symbols: list[str], spec: list[tuple[tuple[int, ...], str]]
    ) -> None:
        """Start measuring a staged module now (the builder calls this per chunk, so the
        browser measures one chunk while the next compiles); `run` picks up the futures."""
        items = [_Item(symbol, BrowserRunnerFuture(), TrialLog(symbol)) for symbol in symbols]
        for item in items:
            self._prefetched[StagedKernel(sha256, item.symbol).encode()] = item.future
        self._jobs.put((sha256, items, spec))

    def run(self, runner_inputs: list[RunnerInput]) -> list[BrowserRunnerFuture]:
        futures = []
        batches: dict[str, list[_Item]] = {}
        specs: dict[str, list[tuple[tuple[int, ...], str]]] = {}
        for runner_input in runner_inputs:
            prefetched = self._prefetched.pop(str(runner_input.artifact_path), None)
            if prefetched is not None:
                futures.append(prefetched)
                continue
            future = BrowserRunnerFuture()
            futures.append(future)
            artifact = decode(str(runner_input.artifact_path))
            if isinstance(artifact, RecordedKernel):
                future.set(self.recorded[artifact.structural_hash], None)
                continue
            item = _Item(artifact.symbol, future, TrialLog(artifact.symbol))
            batches.setdefault(artifact.sha256, []).append(item)
            specs[artifact.sha256] = [
                (tuple(int(d) for d in info.shape), str(info.dtype))
                for info in runner_input.args_info
            ]
        for sha, items in batches.items():
            self._jobs.put((sha, items, specs[sha]))
        self.last_run_returned = time.perf_counter()
        return futures

    def close(self) -> None:
        self._jobs.put(None)
        self._worker.join(30)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            sha, items, spec = job
            started = time.perf_counter()
            try:
                with self.timing():
                    self._measure_batch(StagedKernel(sha, ""), items, spec)
            except Exception as err:
                for item in items:
                    if not item.finished:
                        self._finish(item, None, f"runner failed: {type(err).__name__}: {err}")
            finally:
                # counted before the results are handed over, so the batch that waits for
                # them sees the browser's time
                self.phases.add("browser", time.perf_counter() - started)
                self._resolve(items)
                self.staging.release(sha)

    def _module(self, staged: StagedKernel) -> bytearray:
        if self.config.push_bytes:
            return bytearray(self.staging.path_of(staged.sha256).read_bytes())
        return stage_reference(staged.sha256)

    def _measure_batch(self, staged: StagedKernel, items: list[_Item], spec: list) -> None:
        pending = list(items)
        measured: list[tuple[_Item, Measurement]] = []
        failures = 0
        while pending:
            try:
                self._session_pass(staged, pending, measured, spec)
            except _SessionOpenError as err:
                failures += 1
                if failures >= SESSION_ATTEMPTS:
                    for item in pending:
                        self._finish(
                            item, None, f"could not open a session in {self.device.name}: {err}"
                        )
                    pending.clear()
                else:
                    self._recover()
        if measured:
            self._verify_in_new_session(staged, measured)

    def _session_pass(
        self, staged: StagedKernel, pending: list[_Item], measured: list, spec: list
    ) -> None:
        """Measure pending items in one RPC session until one fails; then verify new bests.

        All remote objects live in this frame, so the session really closes when it returns
        (tvmjs keeps a session open while any tensor or device of it is referenced).
        """
        session = self.device.session(self._module(staged), self.config.call_timeout_s)
        try:
            with self.phases.timed("session"):
                session.__enter__()
                args = [session.empty(shape, dtype) for shape, dtype in spec]
                session.fill_random(0, args)
        except WasmTuneError as err:
            session.__exit__(None, None, None)
            raise _SessionOpenError(str(err)) from None
        try:
            while pending:
                item = pending.pop(0)
                try:
                    with self.phases.timed("measure"):
                        result = session.measure(
                            item.symbol,
                            args,
                            number=self.config.number,
                            repeat=self.config.repeat,
                            min_repeat_ms=self.config.min_repeat_ms,
                            warmup=self.config.warmup,
                            abandon_above_s=self._abandon_above_s(),
                            warmup_limits=self._search_warmup,
                        )
                except KernelError as err:
                    self._finish(item, None, f"{KERNEL_FAILED} in {self.device.name}: {err}")
                    return  # the instance may be corrupt (a trap can exit it): new session
                except RemoteCallError as err:
                    self._finish(item, None, f"{self.device.name} hung or crashed: {err}")
                    self._recover()
                    return
                self.measured += 1
                item.log.number, item.log.times_s = result.number, result.times_s
                item.log.abandoned = result.abandoned
                item.log.warmup_calls, item.log.warmup_stop = (
                    result.warmup_calls,
                    result.warmup_stop,
                )
                item.log.restarts, item.log.tier = result.restarts, result.tier
                item.log.warmup_ms, item.log.untimed_ms = result.warmup_ms, result.untimed_ms
                measured.append((item, result))
            self._verify_best(session, measured)
            measured.clear()
        finally:
            session.__exit__(None, None, None)

    def _verify_in_new_session(self, staged: StagedKernel, measured: list) -> None:
        try:
            with self.device.session(self._module(staged)) as session:
                self._verify_best(session, measured)
        except WasmTuneError as err:
            for item, _result in measured:
                if not item.finished:
                    self._finish(item, None, f"verification session failed: {err}")

    def _verify_best(self, session: BrowserSession, measured: list) -> None:
        """Verify, fastest first, the candidates that would become the best; resolve all."""
        reference = _DeviceReference(self.reference)
        for item, result in sorted(measured, key=lambda pair: pair[1].median_s):
            if result.median_s < self.best_verified_s:
                with self.phases.timed("verify"):
                    error = self._check(session, item.symbol, *reference.on(session))
                if error is not None:
                    self._finish(item, None, error)
                    reference.drop()  # a wrong kernel may have written anywhere: upload again
                    continue
                item.log.verified = True
                self.best_verified_s = result.median_s
            self._finish(item, list(result.times_s), None)

    def _check(
        self, session: BrowserSession, symbol: str, inputs: list[Any], expected: list[Any]
    ) -> str | None:
        """Run `symbol` once on the reference inputs and compare every argument in the page."""
        try:
            session.run(symbol, inputs)
            for index, (got, want) in enumerate(zip(inputs, expected, strict=True)):
                dtype = str(self.reference.outputs[index].dtype)
                rtol, atol = self.config.tolerances.get(dtype, (0.0, 0.0))
                diff = session.compare(got, want, rtol, atol)
                if diff["mismatches"]:
                    return Mismatch(index, diff["maxAbs"], diff["maxRel"]).message()
        except RemoteCallError as err:
            return f"verification run failed: {err}"
        return None

    def remeasure(
        self, sha256: str, symbols: Sequence[str], spec: list, rounds: int
    ) -> dict[str, Remeasurement]:
        """Time `symbols` of one staged module in a fresh session, interleaved: each round
        times every symbol once (one repeat of a calibrated number of calls after the page's
        warm-up), starting one further along each round so drift affects all alike; then
        verify each. A symbol that fails is dropped with its error (the session is reopened)."""
        times: dict[str, list[float]] = {symbol: [] for symbol in symbols}
        numbers: dict[str, int] = dict.fromkeys(symbols, 0)
        errors: dict[str, str] = {}
        verified: set[str] = set()
        staged = StagedKernel(sha256, "")
        open_failures = 0
        # each pass ends with every symbol verified, or one more symbol failed, or no session
        for _pass in range(len(symbols) + SESSION_ATTEMPTS):
            live = [symbol for symbol in symbols if symbol not in errors]
            if all(symbol in verified for symbol in live):
                break
            try:
                self._remeasure_pass(staged, live, spec, rounds, times, numbers, errors, verified)
            except _SessionOpenError as err:
                open_failures += 1
                if open_failures >= SESSION_ATTEMPTS:
                    message = f"could not open a session in {self.device.name}: {err}"
                    errors.update({s: message for s in live if s not in verified})
                    break
                self._recover()
        return {
            symbol: Remeasurement(
                symbol,
                numbers[symbol],
                tuple(times[symbol]),
                symbol in verified,
                errors.get(symbol),
            )
            for symbol in symbols
        }

    def _remeasure_pass(
        self,
        staged: StagedKernel,
        live: list[str],
        spec: list,
        rounds: int,
        times: dict[str, list[float]],
        numbers: dict[str, int],
        errors: dict[str, str],
        verified: set[str],
    ) -> None:
        session = self.device.session(self._module(staged), self.config.call_timeout_s)
        try:
            with self.phases.timed("final_session"):
                session.__enter__()
                args = [session.empty(shape, dtype) for shape, dtype in spec]
                session.fill_random(0, args)
        except WasmTuneError as err:
            session.__exit__(None, None, None)
            raise _SessionOpenError(str(err)) from None
        try:
            for round_index in range(rounds):
                order = [s for s in live if s not in errors and len(times[s]) <= round_index]
                shift = round_index % max(len(order), 1)
                for symbol in order[shift:] + order[:shift]:
                    try:
                        with self.phases.timed("final_measure"):
                            result = session.measure(
                                symbol,
                                args,
                                number=numbers[symbol],
                                repeat=1,
                                min_repeat_ms=self.config.min_repeat_ms,
                                warmup=self.config.warmup,
                            )
                    except (KernelError, RemoteCallError) as err:
                        errors[symbol] = f"{KERNEL_FAILED} in {self.device.name}: {err}"
                        if isinstance(err, RemoteCallError):
                            self._recover()
                        return  # the instance may be corrupt: the caller opens a new session
                    numbers[symbol] = result.number
                    times[symbol].append(result.times_s[-1])
            reference = _DeviceReference(self.reference)
            for symbol in live:
                if symbol in errors or symbol in verified:
                    continue
                with self.phases.timed("final_verify"):
                    try:
                        uploaded = reference.on(session)
                    except WasmTuneError as err:
                        raise _SessionOpenError(f"uploading the reference: {err}") from None
                    error = self._check(session, symbol, *uploaded)
                if error is not None:
                    errors[symbol] = error
                    reference.drop()  # a wrong kernel may have written anywhere
                else:
                    verified.add(symbol)
        finally:
            session.__exit__(None, None, None)

    def _abandon_above_s(self) -> float:
        return abandon_bound_s(self.config, self.best_verified_s)

    def _recover(self) -> None:
        with self.phases.timed("recover"):
            self.device.recover()

    def _finish(self, item: _Item, run_secs: list[float] | None, error: str | None) -> None:
        item.log.error, item.run_secs, item.finished = error, run_secs, True

    def _resolve(self, items: list[_Item]) -> None:
        """Hand a job's results over: logs, futures, the trial callback."""
        for item in items:
            if not item.finished:
                self._finish(item, None, "runner failed: the candidate was never measured")
            self.logs[item.symbol] = item.log
            item.future.set(item.run_secs, item.log.error)
            if self.on_trial is not None:
                self.on_trial(item.log)
