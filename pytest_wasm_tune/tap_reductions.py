"""Convolution taps innermost: a conv's innermost reduction tile loops over taps only.

MetaSchedule's multi-level tiling ("SSRSRS" on CPUs) splits each reduction loop of a conv (the
kernel's rows, its columns, the input channels) in two, and samples the inner tile of each among
its divisors up to 64. The inner tiles form the reduction loops that run around the innermost
spatial tile. A stride-1 conv whose innermost spatial tile spans several output columns reuses
its input across the taps of a kernel row when that tile loops over the taps alone: output
column x at tap t reads the input column that x + 1 read at tap t - 1, and the unrolled code
loads it once. An inner tile of input channels between them breaks that reuse.

The conv 512@7 in Chromium (SIMD128, 6 tunings of 128 trials, 764 candidates): candidates whose
inner channel tile was 1 reached 59.6 GFLOPS (90th percentile 48.1), those with 2 to 64 at
most 51.6 (90th percentiles 37.4-44.5); the fastest of each tuning that found 55+ looped over 3
taps of a kernel row around 7 output columns. A random schedule has an inner channel tile of 1
one time in seven, so a 64-candidate first batch often holds none worth breeding from.

`taps_innermost_space` wraps MetaSchedule's design space: in each design space's trace it caps
the inner tile of a tiled block's last reduction loop (channels-last: the input channels) at 1,
where the block has taps (another reduction loop longer than 1). MetaSchedule samples and
mutates tiles within such a cap, so no candidate is drawn only to be rejected.

    space = taps_innermost_space(PostOrderApply(sch_rules=rules, postprocs=postprocs, ...))
"""

from __future__ import annotations

import math
from typing import Any

from .vector_tiles import multi_level_splits


def has_taps(reduction_splits: list[list[int]]) -> bool:
    """Whether a block with these reduction splits (loop order) is a conv with taps: a reduction
    loop before the last one (the channels) is longer than 1."""
    return any(math.prod(factors) > 1 for factors in reduction_splits[:-1])


def channel_samples(trace: Any) -> list[tuple[Any, int]]:
    """(SamplePerfectTile instruction, loop extent) of the channel loop of each multi-level
    tiled block of `trace` that has taps."""
    found = []
    for splits in multi_level_splits(trace):
        if has_taps([factors for _, factors in splits.reduction]):
            inst, channel = splits.reduction[-1]
            found.append((inst, math.prod(channel)))
    return found


def with_channels_outside(sch: Any, mod: Any) -> Any:
    """`sch` (a design space of `mod`) replayed with the channel loops' inner tiles capped at 1:
    their tile samples draw an inner factor of at most 1 from now on."""
    from tvm.s_tir import Schedule
    from tvm.s_tir.schedule import Instruction, Trace

    trace = sch.trace
    capped = dict(channel_samples(trace))
    if not capped:
        return sch
    insts, decisions = [], {}
    for inst in trace.insts:
        decision = trace.decisions.get(inst)
        if inst in capped:
            parts = int(inst.attrs[0])
            decision = [capped[inst]] + [1] * (parts - 1)
            inst = Instruction(inst.kind, list(inst.inputs), [parts, 1], list(inst.outputs))
        insts.append(inst)
        if decision is not None:
            decisions[inst] = decision
    replayed = Schedule(mod)
    Trace(insts, decisions).apply_to_schedule(replayed, remove_postproc=False)
    return replayed


def taps_innermost_space(inner: Any) -> Any:
    """MetaSchedule space generator `inner` (a PostOrderApply with explicit rules, postprocs
    and mutator probabilities) whose design spaces keep a conv's channels outside its taps
    (`with_channels_outside`); candidates are postprocessed and mutated as `inner`'s."""
    from tvm.ir.utils import derived_object
    from tvm.s_tir.meta_schedule.space_generator import PySpaceGenerator

    @derived_object
    class TapsInnermostSpace(PySpaceGenerator):
        def __init__(self, inner: Any) -> None:
            self.sch_rules = inner.sch_rules  # the fields MetaSchedule reads
            self.postprocs = inner.postprocs
            self.mutator_probs = inner.mutator_probs
            self.inner = inner

        def _initialize_with_tune_context(self, context: Any) -> None:
            self.inner._initialize_with_tune_context(context)

        def generate_design_space(self, mod: Any) -> list[Any]:
            spaces = self.inner.generate_design_space(mod)
            return [with_channels_outside(sch, mod) for sch in spaces]

        def clone(self) -> Any:
            return TapsInnermostSpace(self.inner.clone())

    return TapsInnermostSpace(inner)
