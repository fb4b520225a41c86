"""The page's deterministic fill (`wasm_tune.fill_random`, web/page/wasm_tune_core.js),
reproduced on the host: the reference's inputs are the values the page writes itself, so that
verifying a candidate uploads only the expected outputs, not the inputs (the 9.4 MB of weights of
a conv 512→512 took 0.45 s through the proxy, the page fills them in 0.08 s).

Tensor `index` of a `fill_random(seed, ...)` call is one mulberry32 stream from state
`seed + index * 0x9E3779B9 (mod 2^32)`, one 32-bit output per scalar in memory order."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_STREAM_STRIDE = 0x9E3779B9
_STEP = 0x6D2B79F5
_U32 = 0xFFFFFFFF


def stream_state(seed: int, index: int) -> int:
    """State of tensor `index`'s stream for `seed` (any integer, taken mod 2^32)."""
    return (seed + index * _STREAM_STRIDE) & _U32


def mulberry32(state: int, count: int) -> np.ndarray:
    """The first `count` outputs (uint32) of mulberry32 from `state`. Its state advances by a
    constant, so every output is a function of its position: computed all at once."""
    positions = np.arange(1, count + 1, dtype=np.uint64)
    a = ((state + positions * np.uint64(_STEP)) & np.uint64(_U32)).astype(np.uint32)
    t = (a ^ (a >> np.uint32(15))) * (a | np.uint32(1))
    t ^= t + (t ^ (t >> np.uint32(7))) * (t | np.uint32(61))
    return t ^ (t >> np.uint32(14))


def page_random(shape: Sequence[int], dtype: str, seed: int, index: int) -> np.ndarray:
    """The values the page writes into tensor `index` (of `shape` and `dtype`) of a
    `fill_random(seed, ...)` call: floats on a grid in [-1, 1), integers in [-8, 8) (unsigned
    [0, 16)), bools 0 or 1."""
    kind, size = np.dtype(dtype).kind, np.dtype(dtype).itemsize
    u = mulberry32(stream_state(seed, index), int(np.prod(shape, dtype=np.int64)))
    if kind == "f":
        grid = {8: (0, 2.0**-31), 4: (8, 2.0**-23), 2: (21, 2.0**-10)}.get(size)  # shift, step
        if grid is None:
            raise ValueError(f"the page fills no {dtype} tensors")
        shift, scale = grid
        values: np.ndarray = (u >> np.uint32(shift)).astype(np.float64) * scale - 1.0
    elif kind == "i":
        values = (u >> np.uint32(28)).astype(np.int64) - 8
    elif kind == "u":
        values = u >> np.uint32(28)
    elif kind == "b":
        values = u >> np.uint32(31)
    else:
        raise ValueError(f"the page fills no {dtype} tensors")
    return values.astype(dtype).reshape(tuple(shape))


def page_random_inputs(
    arg_specs: Sequence[tuple[tuple[int, ...], str]], seed: int
) -> list[np.ndarray]:
    """What `fill_random(seed, *tensors)` writes into tensors of these shapes and dtypes."""
    return [page_random(shape, dtype, seed, i) for i, (shape, dtype) in enumerate(arg_specs)]
