"""page_random.py: the host's twin of the page's fill_random, checked against the values the
page's generator gives (web/tests/wasm_tune_core.test.mjs and `randomValues` run in node)."""

import numpy as np
import pytest

from pytest_wasm_tune.measure.page_random import (
    mulberry32,
    page_random,
    page_random_inputs,
    stream_state,
)


def test_the_streams_and_states_are_the_pages() -> None:
    assert mulberry32(stream_state(42, 1), 3).tolist() == [2048288538, 2939398911, 110972453]
    assert stream_state(-1, 3) == 3668340010
    assert stream_state(2**40 + 5, 0) == 5


# randomValues(dtype, 6, seed 3, index 2) in node
PAGE_VALUES = {
    "float64": [0.5177852786146104, 0.7695848196744919, -0.8483661501668394,
                -0.7513886070810258, 0.9010680839419365, -0.0862771226093173],
    "float32": [0.5177851915359497, 0.7695847749710083, -0.8483662605285645,
                -0.751388669013977, 0.9010679721832275, -0.08627712726593018],
    "float16": [0.517578125, 0.76953125, -0.8486328125, -0.751953125, 0.900390625,
                -0.0869140625],
    "int8": [4, 6, -7, -7, 7, -1],
    "int64": [4, 6, -7, -7, 7, -1],
    "uint16": [12, 14, 1, 1, 15, 7],
    "bool": [1, 1, 0, 0, 1, 0],
}  # fmt: skip


@pytest.mark.parametrize("dtype", sorted(PAGE_VALUES))
def test_each_dtype_gets_the_pages_values(dtype: str) -> None:
    values = page_random((2, 3), dtype, seed=3, index=2)
    assert values.shape == (2, 3) and values.dtype == np.dtype(dtype)
    assert values.ravel().astype(float).tolist() == PAGE_VALUES[dtype]


def test_the_inputs_of_a_call_are_one_stream_per_tensor() -> None:
    specs = [((4, 5), "float32"), ((3,), "int32")]
    first, second = page_random_inputs(specs, seed=1)
    np.testing.assert_array_equal(first, page_random((4, 5), "float32", 1, 0))
    np.testing.assert_array_equal(second, page_random((3,), "int32", 1, 1))
    assert first.min() >= -1 and first.max() < 1
    assert not np.array_equal(first, page_random_inputs(specs, seed=2)[0])


def test_a_dtype_the_page_does_not_fill_is_refused() -> None:
    with pytest.raises(ValueError, match="complex64"):
        page_random((2,), "complex64", 0, 0)
