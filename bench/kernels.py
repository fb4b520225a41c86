"""The operators the bench tunes, identical (shapes, fp32, batch 1) to what the peers run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_wasm_tune.main_job import matmul_prim_func

# ResNet-18's 3×3 stride-1 convolutions: (channels, spatial size)
RESNET18_CONV3X3 = ((64, 56), (128, 28), (256, 14), (512, 7))


def conv3x3_prim_func(channels: int, size: int) -> Any:
    """1×H×W×C input ⊛ 3×3×C×C (HWIO) weight, stride 1, pad 1, fp32, no epilogue.

    Channels-last like the ResNet-18 tasks (`models.tasks.CONV_LAYOUTS`) and TensorFlow.js;
    each engine runs the conv in its own layout (ONNX Runtime Web: NCHW). topi marks the weight
    layout-free; the mark is dropped so that the weight stays HWIO, as in the model's tasks
    (MetaSchedule would otherwise time a per-call weight relayout with every candidate)."""
    from tvm import te, topi

    data = te.placeholder((1, size, size, channels), name="data")
    weight = te.placeholder((3, 3, channels, channels), name="weight")
    out = topi.nn.conv2d_nhwc(data, weight, stride=1, padding=1, dilation=1)
    return te.create_prim_func([data, weight, out]).without_attr("layout_free_buffers")


def bench_kernels() -> dict[str, Callable[[], Any]]:
    """Name → PrimFunc factory, in bench order (the names the peers use too)."""
    kernels: dict[str, Callable[[], Any]] = {"matmul512": lambda: matmul_prim_func(512)}
    for channels, size in RESNET18_CONV3X3:
        kernels[f"conv3x3_{channels}x{size}"] = lambda c=channels, s=size: conv3x3_prim_func(c, s)
    return kernels
