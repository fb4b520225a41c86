"""Ours and the peers timed in alternation: one ratio per round, so host drift cancels out.

A bench run lasts over an hour and this host's speed drifts by up to ~20 % within it, so our
kernels timed in one stretch and the peers in another give a ratio that moves with the drift.
Here each round times, back to back in one Chromium each (both pinned to the measure CPU, only
one of them busy at a time): the peers, the SIMD128 ceiling and ours, the order reversed every
other round. A round's ratio is the faster peer's time / ours; the figures are medians and
quartiles over the rounds' ratios, and the quartile ratio of the rounds (bench/rerun.py), which
the headlines use.

Ours are samplers: `kernel_sampler` opens a session on a wasm holding every replicate's tuned
kernel (one symbol each) and `model_sampler` one on our ResNet-18; each sample is one batch of
back-to-back calls lasting >= 40 ms (the peers' rule), timed in the page after a one-call warm-up
(the adaptive warm-up already ran when the sampler opened). The rounds are split into sessions,
each opening ours afresh in a browser process started for it (`in_fresh_browser`): one session
can run a kernel slower throughout (seen: 1.4-1.5x its own final re-measurement, the other
kernels of that module unaffected), and one browser process can run our ResNet-18 slower in
every session it holds (seen: 4 % in all three sessions of a run, after that process had tuned
the kernels). A spread over one session, or one process, hides that.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from rerun import quartile_ratio

from pytest_wasm_tune.rpc_session import WarmupLimits, stage_reference
from pytest_wasm_tune.stats import Spread

MIN_SAMPLE_MS = 40.0
SAMPLE_WARMUP = WarmupLimits(max_calls=1)


@dataclasses.dataclass(frozen=True)
class PairedPlan:
    """How many sessions of ours the alternated rounds open, and how many rounds each runs."""

    sessions: int = 5
    rounds: int = 6

    def __post_init__(self) -> None:
        if self.sessions < 1 or self.rounds < 1:
            raise ValueError(f"need at least one session and one round, got {self}")


# label → per-call seconds of one fresh sample
Samplers = Mapping[str, Callable[[], float]]
# opens our side of one operator: a session on our wasm, yielding its samplers
OpenOurs = Callable[[], contextlib.AbstractContextManager[Samplers]]


def in_fresh_browser(restart: Callable[[], None], open_ours: OpenOurs) -> OpenOurs:
    """`open_ours` preceded by `restart` (a new browser process): what one process holds for
    its lifetime (its heap, where the module's memory lands, what it ran before) then differs
    between sessions, so it shows in the spread."""

    @contextlib.contextmanager
    def opened() -> Iterator[Samplers]:
        restart()
        with open_ours() as ours:
            yield ours

    return opened


@contextlib.contextmanager
def kernel_sampler(
    device: Any,
    staging: Any,
    wasm: bytes,
    spec: Sequence[tuple[tuple[int, ...], str]],
    symbols: Sequence[str],
) -> Iterator[Samplers]:
    """One session on `wasm`; a sampler per symbol (the kernels share random arguments)."""
    sha = staging.publish(wasm)
    try:
        with device.session(stage_reference(sha)) as session:
            args = [session.empty(shape, dtype) for shape, dtype in spec]
            session.fill_random(0, args)
            numbers = {
                symbol: session.measure(
                    symbol, args, number=0, repeat=1, min_repeat_ms=MIN_SAMPLE_MS, warmup=3
                ).number
                for symbol in symbols
            }

            def sampler(symbol: str) -> Callable[[], float]:
                def sample() -> float:
                    timed = session.measure(
                        symbol,
                        args,
                        number=numbers[symbol],
                        repeat=1,
                        warmup=1,
                        warmup_limits=SAMPLE_WARMUP,
                    )
                    return timed.times_s[-1]

                return sample

            yield {symbol: sampler(symbol) for symbol in symbols}
    finally:
        staging.release(sha)


@contextlib.contextmanager
def model_sampler(device: Any, staging: Any, wasm: bytes, x: np.ndarray) -> Iterator[Samplers]:
    """One session on our model's wasm; its sampler times single calls of `main` (a ResNet-18
    call lasts longer than a peer sample's 40 ms floor)."""
    from pytest_wasm_tune.models.run import measure_in_browser

    sha = staging.publish(wasm)
    try:
        with device.session(stage_reference(sha), call_timeout_s=600) as session:
            measure_in_browser(session, [x], number=1, repeat=1, warmup=2, timeout_s=600)

            def sample() -> float:
                timed = measure_in_browser(
                    session,
                    [x],
                    number=1,
                    repeat=1,
                    warmup=1,
                    warmup_limits=SAMPLE_WARMUP,
                    timeout_s=600,
                )
                return timed.times_s[-1]

            yield {"ours": sample}
    finally:
        staging.release(sha)


def alternate(
    operators: Mapping[str, tuple[Samplers, OpenOurs]],
    peak_gflops: Callable[[], float],
    plan: PairedPlan,
    recoverable: tuple[type[Exception], ...] = (),
    on_failure: Callable[[str, Exception], None] = lambda _name, _err: None,
) -> dict[str, list[dict[str, float]]]:
    """Per operator (its peers' samplers, the opener of ours): `plan.sessions` × `plan.rounds`
    rounds, each sampling the ceiling, every peer and every one of ours once (reversed order
    every other round). Ours are opened afresh for each session (a new module instance: its
    memory, its first calls), so that what differs between sessions shows in the spread rather
    than between runs. Session by session, every operator takes its turn: each operator's
    sessions spread over the whole pass, so a stretch of host noise falls on one session of
    each rather than on all of one. An operator whose session fails with a `recoverable` error
    is reported to `on_failure` and left out from then on. Per round: label → per-call seconds,
    plus `peak_gflops` and `session` (its index)."""
    tables: dict[str, list[dict[str, float]]] = {name: [] for name in operators}
    for session in range(plan.sessions):
        for name, (peers, open_ours) in operators.items():
            if name not in tables:
                continue
            try:
                tables[name] += _session(peers, open_ours, peak_gflops, plan.rounds, session)
            except recoverable as err:
                on_failure(name, err)
                del tables[name]
    return tables


def _session(
    peers: Samplers,
    open_ours: OpenOurs,
    peak_gflops: Callable[[], float],
    rounds: int,
    session: int,
) -> list[dict[str, float]]:
    """One session of ours: `rounds` rounds, the order reversed every other round."""
    table: list[dict[str, float]] = []
    with open_ours() as ours:
        steps: list[tuple[str, Callable[[], float]]] = [("peak_gflops", peak_gflops)]
        steps += [*peers.items(), *ours.items()]
        for index in range(rounds):
            order = steps if index % 2 == 0 else steps[::-1]
            row = {label: sample() for label, sample in order}
            table.append({**row, "session": session})
    return table


def labels_of_ours(table: Sequence[Mapping[str, float]], peers: Sequence[str]) -> list[str]:
    """The labels of our samplers in a table of `alternate`."""
    other = {*peers, "peak_gflops", "session"}
    return [label for label in (table[0] if table else {}) if label not in other]


def paired_figures(
    rounds: Sequence[Mapping[str, float]],
    peers: Sequence[str],
    ours: Sequence[str],
    flops: int | None = None,
) -> dict[str, Any]:
    """Figures of alternated rounds (see `alternate`). Per label of ours: `quartile_ratio`
    (bench/rerun.py: the faster peers' lower quartile of seconds over ours), the median and
    quartiles over rounds of (faster peer / ours), of (each peer / ours), of our seconds and,
    given `flops`, of our fraction of that round's ceiling; a ratio > 1 means we are faster.
    Also per session: our median seconds and every round's (faster peer's seconds, ours)."""
    figures: dict[str, Any] = {"rounds": len(rounds)}
    for label in ours:
        timed = [r for r in rounds if label in r and any(p in r for p in peers)]
        if not timed:
            continue
        pairs = [(min(r[p] for p in peers if p in r), r[label]) for r in timed]
        ratios = [peer / ours for peer, ours in pairs]
        sessions = _by_session(timed, pairs)
        entry: dict[str, Any] = {
            "quartile_ratio": round(quartile_ratio(pairs), 3),
            "ours_s": _quartiles([r[label] for r in timed], None),
            "ours_median_s_by_session": [
                Spread.of([ours for _peer, ours in group]).median for group in sessions
            ],
            "peer_ratio": _quartiles(ratios, 3),
            "pairs_by_session": [
                [[round(peer, 7), round(ours, 7)] for peer, ours in group] for group in sessions
            ],
            "by_peer": {
                peer: _quartiles([r[peer] / r[label] for r in timed if peer in r], 3)
                for peer in peers
                if any(peer in r for r in timed)
            },
        }
        if flops:
            entry["fraction_of_ceiling"] = _quartiles(
                [flops / r[label] / 1e9 / r["peak_gflops"] for r in timed], 3
            )
        figures[label] = entry
    return figures


def _by_session(
    rounds: Sequence[Mapping[str, float]], pairs: Sequence[tuple[float, float]]
) -> list[list[tuple[float, float]]]:
    """`pairs` (one per round) grouped by the rounds' session, in session order."""
    groups: dict[int, list[tuple[float, float]]] = {}
    for row, pair in zip(rounds, pairs, strict=True):
        groups.setdefault(int(row.get("session", 0)), []).append(pair)
    return [groups[session] for session in sorted(groups)]


def _quartiles(values: Sequence[float], digits: int | None) -> dict[str, float]:
    spread = Spread.of(values)
    figures = {"median": spread.median, "q1": spread.q1, "q3": spread.q3}
    if digits is not None:
        figures = {k: round(v, digits) for k, v in figures.items()}
    return {**figures, "n": spread.n}
