"""Numerical verification: the task's PrimFunc built for the host gives the expected values
(compared with a candidate's in the page, see `BrowserRunner`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .page_random import page_random_inputs

DEFAULT_TOLERANCES: Mapping[str, tuple[float, float]] = {
    # dtype: (rtol, atol); reductions in another order differ in the last bits
    "float16": (1e-2, 1e-2),
    "float32": (1e-3, 1e-3),
    "float64": (1e-7, 1e-7),
}


@dataclass(frozen=True)
class Mismatch:
    arg_index: int
    max_abs_diff: float
    max_rel_diff: float

    def message(self) -> str:
        return (
            f"wrong result in argument {self.arg_index}: max abs diff {self.max_abs_diff:.3g}, "
            f"max rel diff {self.max_rel_diff:.3g}"
        )


class HostReference:
    """The task's PrimFunc built with TVM's llvm target for this host, run on the inputs that
    the page's `fill_random(seed, ...)` writes (page_random.py)."""

    def __init__(
        self, workload: Any, arg_specs: Sequence[tuple[tuple[int, ...], str]], seed: int = 0
    ) -> None:
        import tvm

        self.seed = seed
        self.inputs = page_random_inputs(arg_specs, seed)
        mod = workload if isinstance(workload, tvm.IRModule) else tvm.IRModule({"main": workload})
        lib = tvm.compile(mod, target="llvm")
        device = tvm.cpu()
        tensors = [tvm.runtime.tensor(array, device) for array in self.inputs]
        lib["main"](*tensors)
        self.outputs = [tensor.numpy() for tensor in tensors]
        # per argument: whether the task writes it (else it must come back equal to its input)
        pairs = zip(self.inputs, self.outputs, strict=True)
        self.written = tuple(not np.array_equal(given, got) for given, got in pairs)
