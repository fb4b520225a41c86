"""The operators the bench tunes, identical (shapes, fp32, batch 1) to what the peers run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_wasm_tune.main_job import matmul_prim_func

# ResNet-18's 3×3 stride-1 convolutions: (channels, spatial size)
RESNET18_CONV3X3 = ((64, 56), (128, 28), (256, 14), (512, 7))


def conv3x3_prim_func(channels: int, size: int) -> Any:
    """1×C×H×W input ⊛ C×C×3×3 weight, stride 1, pad 1, NCHW, fp32, no epilogue."""
    from tvm import te, topi

    data = te.placeholder((1, channels, size, size), name="data")
    weight = te.placeholder((channels, channels, 3, 3), name="weight")
    out = topi.nn.conv2d_nchw(data, weight, stride=1, padding=1, dilation=1)
    return te.create_prim_func([data, weight, out])


def bench_kernels() -> dict[str, Callable[[], Any]]:
    """Name → PrimFunc factory, in bench order (the names the peers use too)."""
    kernels: dict[str, Callable[[], Any]] = {"matmul512": lambda: matmul_prim_func(512)}
    for channels, size in RESNET18_CONV3X3:
        kernels[f"conv3x3_{channels}x{size}"] = lambda c=channels, s=size: conv3x3_prim_func(c, s)
    return kernels
