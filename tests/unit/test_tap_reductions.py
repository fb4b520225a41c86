"""tap_reductions.py: a conv's innermost reduction tile loops over taps, not input channels."""

import math

import tvm
from tvm import te, topi

from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.search import design_space
from pytest_wasm_tune.tap_reductions import (
    channel_samples,
    has_taps,
    with_channels_outside,
)
from pytest_wasm_tune.vector_tiles import multi_level_splits

from .search_batches import first_batch, own_design_spaces

SIZE, CHANNELS = 6, 16


def test_a_conv_has_taps_where_a_reduction_loop_before_the_channels_is_longer_than_1() -> None:
    assert has_taps([[1, 3], [3, 1], [256, 2]])
    assert has_taps([[3, 1], [1, 1], [8, 64]]), "one tap loop is enough"


def test_blocks_without_taps_are_left_alone() -> None:
    assert not has_taps([[8, 64]]), "a matmul has one reduction loop"
    assert not has_taps([[1, 1], [1, 1], [32, 16]]), "a 1x1 conv has no taps"
    assert not has_taps([])


def _conv() -> tvm.IRModule:
    """A 3×3 channels-last conv: reduction loops rows (3), columns (3), channels (16)."""
    data = te.placeholder((1, SIZE, SIZE, CHANNELS), name="data")
    weight = te.placeholder((3, 3, CHANNELS, CHANNELS), name="weight")
    out = topi.nn.conv2d_nhwc(data, weight, stride=1, padding=1, dilation=1)
    func = te.create_prim_func([data, weight, out]).without_attr("layout_free_buffers")
    return tvm.IRModule({"main": func})


def _proposed(taps_innermost: bool) -> list[list[list[int]]]:
    """The reduction splits (rows, columns, channels) of a conv's first batch of 32 candidates,
    searched in our space."""
    space = design_space(64, vector_bits=128, taps_innermost=taps_innermost)
    return [
        [factors for _, factors in splits.reduction]
        for candidate in first_batch(_conv(), space)
        for splits in multi_level_splits(candidate.sch.trace)
    ]


def test_the_splits_found_are_the_conv_loops_in_order() -> None:
    reductions = _proposed(taps_innermost=False)
    assert len(reductions) >= 16
    for splits in reductions:
        assert [math.prod(factors) for factors in splits] == [3, 3, CHANNELS]
    assert any(splits[-1][-1] > 1 for splits in reductions), (
        "MetaSchedule's own space puts channels inside the taps"
    )


def test_a_search_in_the_space_keeps_the_channels_outside_the_taps() -> None:
    reductions = _proposed(taps_innermost=True)
    assert len(reductions) >= 16
    assert all(splits[-1][-1] == 1 for splits in reductions), reductions
    assert any(factors[-1] > 1 for splits in reductions for factors in splits[:-1]), (
        "the taps are still tiled"
    )


def test_only_the_channel_sample_of_a_conv_is_capped() -> None:
    mod = _conv()
    space = next(s for s in own_design_spaces(mod) if channel_samples(s.trace))
    capped = with_channels_outside(space, mod)
    caps = {
        int(inst.attrs[1]) for inst in capped.trace.insts if inst.kind.name == "SamplePerfectTile"
    }
    ((channel, extent),) = channel_samples(capped.trace)
    assert (int(channel.attrs[1]), extent) == (1, CHANNELS)
    assert capped.trace.decisions[channel][-1] == 1
    assert caps == {1, 64}, "the other tiles keep MetaSchedule's cap of 64"


def test_a_space_without_taps_is_left_as_it_is() -> None:
    mod = tvm.IRModule({"main": matmul_prim_func(32)})
    for space in own_design_spaces(mod):
        assert not channel_samples(space.trace)
        assert with_channels_outside(space, mod) is space
