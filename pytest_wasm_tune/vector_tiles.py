"""Tilings made of whole SIMD vectors: a MetaSchedule postprocessor for the design space.

MetaSchedule's multi-level tiling (conv, matmul: "SSRSRS" on CPUs) samples the innermost tile
of each loop among all its divisors up to 64. The innermost tile of the last spatial loop is
the one the code vectorizes (a channels-last conv's output channels, a matmul's columns); with
wasm SIMD128 a tile of 1 or 2 float32 columns fills only part of a vector. The
postprocessor rejects such schedules, where the loop's extent allows whole vectors, and
MetaSchedule samples others in their place (as for any schedule a postprocessor rejects).

    space = PostOrderApply(postprocs=[whole_vector_tiles(128), *Postproc.create("llvm")])
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple


def fills_vectors(factors: list[int], lanes: int) -> bool:
    """Whether a loop split into `factors` (outermost first) has an innermost tile of whole
    vectors of `lanes`, or could not have one (its extent is no multiple of `lanes`)."""
    extent = math.prod(factors)
    return extent % lanes != 0 or factors[-1] % lanes == 0


class SpatialSplit(NamedTuple):
    """The split sampled for the last spatial loop of a multi-level tiled block."""

    block: Any  # the block's RV in the trace
    sample: Any  # the SamplePerfectTile instruction
    factors: list[int]  # its decision, outermost first


class BlockSplits(NamedTuple):
    """The tile splits sampled for a multi-level tiled block's loops, in loop order."""

    block: Any  # the block's RV in the trace
    spatial: list[tuple[Any, list[int]]]  # (SamplePerfectTile instruction, factors) per loop
    reduction: list[tuple[Any, list[int]]]  # the same per reduction loop (a conv: rows,
    # columns, channels)


def multi_level_splits(trace: Any) -> list[BlockSplits]:
    """The splits of each multi-level tiled block of `trace`: a tile sampled with as many parts
    as the block's tiling structure has spatial levels ("SSRSRS": 4) splits a spatial loop, one
    with as many as its reduction levels (2) a reduction loop."""
    levels: dict[Any, tuple[int, int]] = {}
    block_of_loop: dict[Any, Any] = {}
    found: dict[Any, BlockSplits] = {}
    for inst in trace.insts:
        kind = inst.kind.name
        if kind == "Annotate" and str(inst.attrs[0]) == "meta_schedule.tiling_structure":
            structure = str(inst.inputs[1]).strip('"')
            if structure.count("S") != structure.count("R"):
                levels[inst.inputs[0]] = (structure.count("S"), structure.count("R"))
        elif kind == "GetLoops" and inst.inputs[0] in levels:
            block_of_loop.update(dict.fromkeys(inst.outputs, inst.inputs[0]))
        elif kind == "SamplePerfectTile" and inst.inputs[0] in block_of_loop:
            block = block_of_loop[inst.inputs[0]]
            splits = found.setdefault(block, BlockSplits(block, [], []))
            factors = [int(factor) for factor in trace.decisions[inst]]
            spatial_levels, reduction_levels = levels[block]
            if int(inst.attrs[0]) == spatial_levels:
                splits.spatial.append((inst, factors))
            elif int(inst.attrs[0]) == reduction_levels:
                splits.reduction.append((inst, factors))
    return list(found.values())


def innermost_spatial_splits(trace: Any) -> list[SpatialSplit]:
    """The split of the last spatial loop of each multi-level tiled block of `trace`."""
    return [
        SpatialSplit(splits.block, *splits.spatial[-1])
        for splits in multi_level_splits(trace)
        if splits.spatial
    ]


def whole_vector_tiles(vector_bits: int) -> Any:
    """A postprocessor that rejects a schedule whose multi-level tiled block (a conv, a matmul)
    has an innermost tile of its last spatial loop that is not a whole number of vectors of
    `vector_bits` in the block's output type, where its extent allows whole vectors.

    Candidates timed in Chromium (wasm SIMD128, float32): of 508 of the conv 512@7, half had 1
    or 2 output channels in that tile, but 23 of the 25 within 1.35x of the fastest had 4 or
    more; of 765 of the conv 256@14, 35 of the 38 within 1.16x of the fastest had 4 or more."""
    from tvm.ir.utils import derived_object
    from tvm.s_tir.meta_schedule.postproc import PyPostproc

    @derived_object
    class WholeVectorTiles(PyPostproc):
        def __init__(self, vector_bits: int) -> None:
            self.vector_bits = vector_bits

        def _initialize_with_tune_context(self, context: Any) -> None:
            pass

        def apply(self, sch: Any) -> bool:
            for block, _, factors in innermost_spatial_splits(sch.trace):
                bits = sch.get(block).writes[0].source.dtype.bits
                if self.vector_bits >= bits and not fills_vectors(
                    factors, self.vector_bits // bits
                ):
                    return False
            return True

        def clone(self) -> Any:
            return WholeVectorTiles(self.vector_bits)

    return WholeVectorTiles(vector_bits)
