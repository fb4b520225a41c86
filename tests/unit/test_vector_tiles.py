"""vector_tiles.py: which tilings fill whole SIMD vectors, found in MetaSchedule's traces."""

import math
from typing import Any

import tvm
from tvm import te

from pytest_wasm_tune.search import design_space
from pytest_wasm_tune.vector_tiles import (
    fills_vectors,
    innermost_spatial_splits,
    whole_vector_tiles,
)

from .search_batches import first_batch, own_design_spaces

ROWS, COLUMNS, DEPTH = 16, 64, 32


def test_a_tile_of_whole_vectors_fills_them() -> None:
    assert fills_vectors([64, 1, 1, 8], lanes=4)
    assert fills_vectors([8, 4, 4, 4], lanes=4)
    assert not fills_vectors([128, 2, 1, 2], lanes=4)
    assert not fills_vectors([32, 4, 4, 1], lanes=4)


def test_a_loop_without_whole_vectors_is_never_at_fault() -> None:
    assert fills_vectors([1, 7, 1, 1], lanes=4)  # 7: no split has whole vectors
    assert fills_vectors([3, 2], lanes=4)


def _matmul() -> tvm.IRModule:
    """A 16×32 · 32×64 matmul: its last spatial loop (the columns) is 64 long, the rows 16."""
    a = te.placeholder((ROWS, DEPTH), name="a")
    b = te.placeholder((DEPTH, COLUMNS), name="b")
    k = te.reduce_axis((0, DEPTH), name="k")
    c = te.compute((ROWS, COLUMNS), lambda i, j: te.sum(a[i, k] * b[k, j], axis=k), name="c")
    return tvm.IRModule({"main": te.create_prim_func([a, b, c])})


def _tiled_schedules() -> list[Any]:
    """The schedules of MetaSchedule's own CPU space for the matmul that tile it."""
    return [sch for sch in own_design_spaces(_matmul()) if innermost_spatial_splits(sch.trace)]


def test_the_split_found_is_the_one_of_the_last_spatial_loop() -> None:
    schedules = _tiled_schedules()
    assert schedules, "MetaSchedule's CPU space tiles a matmul"
    for sch in schedules:
        ((block, _, factors),) = innermost_spatial_splits(sch.trace)
        assert len(factors) == 4 and sch.get(block).name_hint == "c"
        assert math.prod(factors) == COLUMNS, "the columns, not the rows"


def _with_column_tile(sch: Any, factors: list[int]) -> Any:
    """`sch`'s trace replayed with the columns split into `factors`, postprocessing not yet run."""
    trace = sch.trace
    ((_, sample, _),) = innermost_spatial_splits(trace)
    replayed = tvm.s_tir.Schedule(_matmul())
    trace.with_decision(sample, factors, remove_postproc=True).apply_to_schedule(
        replayed, remove_postproc=True
    )
    return replayed


def test_the_postprocessor_rejects_a_column_tile_of_part_of_a_vector() -> None:
    sch = _tiled_schedules()[0]
    postproc = whole_vector_tiles(128)
    assert not postproc.apply(_with_column_tile(sch, [16, 1, 2, 2]))
    assert postproc.apply(_with_column_tile(sch, [4, 2, 2, 4]))
    assert whole_vector_tiles(64).apply(_with_column_tile(sch, [16, 1, 2, 2])), (
        "64-bit vectors hold 2 float32"
    )


def test_a_search_in_the_space_proposes_only_tiles_of_whole_vectors() -> None:
    candidates = first_batch(_matmul(), design_space(64, vector_bits=128))
    tiles = [
        factors
        for candidate in candidates
        for _, _, factors in innermost_spatial_splits(candidate.sch.trace)
    ]
    assert len(tiles) >= 16
    assert all(factors[-1] % 4 == 0 for factors in tiles), tiles
