"""Split a Relax model into MetaSchedule tuning tasks with readable, unique names.

tasks = extract_tasks(resnet18_for_compile(), wasm_target())
TuneTask.from_prim_func(tasks[0].mod, tasks[0].name)
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# DecomposeOpsForInference turns an inference batch norm into these four broadcast ops.
BN_CHAIN = ("subtract", "divide", "multiply", "add")

# Convolutions run channels-last with HWIO weights: output channels are the innermost axis of
# both the output and the (constant, so transposed at compile time) weight, which lets a
# schedule fill the SIMD lanes with output channels on any map size. In NCHW the lanes come
# from the output width (7 or 14 on ResNet-18's late stages), and those convs stayed at 23-32
# GFLOPS where channels-last reached 55-59 (64 trials each, one Chromium run; see the README).
CONV_LAYOUTS = {"relax.nn.conv2d": ["NHWC", "HWIO"]}


@dataclass(frozen=True)
class ModelTask:
    """One distinct fused kernel of a model.

    `mod` holds a single PrimFunc `main` (MetaSchedule's normalized workload, so a database
    tuned on it applies to the model); `weight` is how often the model calls it.
    """

    name: str
    mod: Any
    weight: int
    flops: float
    ms_name: str  # MetaSchedule's task name (the fused function's name in the model)

    @property
    def total_flops(self) -> float:
        return self.flops * self.weight


def trial_scales(tasks: Sequence[ModelTask], flops_part: float = 0.5) -> dict[str, float]:
    """Each task's multiple of the per-task trial budget (`wasm_tune(..., trials_scale=)`):
    `1 - flops_part` of the model's budget is shared equally, `flops_part` by the task's share
    of the model's FLOPs (its calls × its FLOPs), a static stand-in for MetaSchedule's gradient
    task scheduler. The scales average 1: `--wasm-tune-trials N` still spends N per task."""
    if not 0 <= flops_part <= 1:
        raise ValueError(f"flops_part must be within [0, 1], got {flops_part}")
    total = sum(task.total_flops for task in tasks)
    if not tasks or total <= 0:
        return {task.name: 1.0 for task in tasks}
    n = len(tasks)
    return {
        task.name: (1 - flops_part) + flops_part * n * task.total_flops / total for task in tasks
    }


def prepare_for_tuning(mod: Any, target: Any) -> Any:
    """Convert convs to channels-last (`CONV_LAYOUTS`), decompose, legalize and fuse: the module
    whose fused PrimFuncs are the tuning tasks. The model keeps its NCHW input and output
    (ConvertLayout adds a transpose of the input and lets the layout flow through the
    element-wise ops and pools); weights bound as constants are transposed by FoldConstant.

    `CanonicalizeBindings` after the decomposition removes the `(out, mean, var)[0]` tuple left
    by batch norm; without it FuseOps stops at the tuple and each ReLU becomes its own kernel.
    """
    import tvm
    from tvm import relax
    from tvm.relax.backend.cpu_generic import pipeline as cpu

    passes = tvm.transform.Sequential(
        [
            relax.transform.ConvertLayout(CONV_LAYOUTS),
            relax.transform.DecomposeOpsForInference(),
            relax.transform.CanonicalizeBindings(),
            *cpu.library_dispatch_passes(target),  # sampling/sort ops: none in a CNN
            relax.transform.LegalizeOps(),
            relax.transform.AnnotateTIROpPattern(),
            relax.transform.FoldConstant(),
            relax.transform.FuseOps(),
            relax.transform.FuseTIR(),
        ]
    )
    with target:
        return passes(mod)


def op_names(ms_name: str) -> list[str]:
    """Ops of a fused function name, BN chains collapsed: `fused_conv2d3_subtract2_divide2_
    multiply2_add5_add6_relu2` → `['conv2d', 'bn', 'add', 'relu']`."""
    words = [w for w in ms_name.split("_") if w and w != "fused"]
    ops = [re.sub(r"(?<=[a-z])\d+$", "", word) for word in words]  # conv2d9 → conv2d
    merged = "_".join(ops).replace("_".join(BN_CHAIN), "bn")
    return merged.split("_")


def conv_geometry(
    data: tuple[int, ...], weight: tuple[int, ...], out: tuple[int, ...]
) -> tuple[int, int, int, int, int, int, int]:
    """(h, w, cin, cout, kh, kw, out_h) of an NHWC/HWIO or NCHW/OIHW conv from its shapes.

    Channels-last (what `prepare_for_tuning` makes) is tried first: the shapes alone cannot
    tell the layouts apart when a map is as small as the kernel."""
    if weight[2] == data[3] and out[3] == weight[3]:
        (_, h, w, cin), (kh, kw, _, cout) = data, weight
        return h, w, cin, cout, kh, kw, out[1]
    (_, cin, h, w), (cout, _, kh, kw) = data, weight
    return h, w, cin, cout, kh, kw, out[2]


def shape_suffix(ops: list[str], shapes: list[tuple[int, ...]]) -> str:
    """`56x56_64to128_3x3s2` for conv2d in either layout (input HxW, channels, kernel, stride),
    `512to1000` for matmul, else the first input's shape without a batch dimension of 1
    (`64x112x112`)."""
    out = shapes[-1]
    conv_shapes = [*shapes[:2], out]
    if "conv2d" in ops and len(shapes) >= 3 and all(len(s) == 4 for s in conv_shapes):
        h, w, cin, cout, kh, kw, out_h = conv_geometry(*conv_shapes)
        stride = math.ceil(h / out_h) if out_h else 1
        return f"{h}x{w}_{cin}to{cout}_{kh}x{kw}s{stride}"
    if "matmul" in ops and len(shapes) >= 3 and len(shapes[0]) == 2 and len(shapes[1]) == 2:
        (m, k), n = shapes[0], out[-1]
        return f"{k}to{n}" if m == 1 else f"{m}x{k}to{n}"
    first = shapes[0]
    dims = first[1:] if len(first) > 1 and first[0] == 1 else first
    return "x".join(str(d) for d in dims) or "scalar"


def readable_name(ms_name: str, shapes: list[tuple[int, ...]]) -> str:
    ops = op_names(ms_name)
    return f"{'_'.join(ops)}_{shape_suffix(ops, shapes)}"


def unique_names(names: list[str]) -> list[str]:
    """Suffix repeated names with `_v2`, `_v3`, ... (first occurrence keeps its name)."""
    taken: set[str] = set()
    out = []
    for name in names:
        candidate, k = name, 1
        while candidate in taken:
            k += 1
            candidate = f"{name}_v{k}"
        taken.add(candidate)
        out.append(candidate)
    return out


def call_order(prepared: Any) -> dict[str, int]:
    """Position of each called PrimFunc's first call in `main` (so tasks follow the model)."""
    from tvm import relax

    order: dict[str, int] = {}
    for block in prepared["main"].body.blocks:
        for binding in block.bindings:
            value = binding.value
            if isinstance(value, relax.Call):
                for arg in value.args:
                    if isinstance(arg, relax.GlobalVar):
                        order.setdefault(arg.name_hint, len(order))
    return order


def arg_shapes(mod: Any) -> list[tuple[int, ...]]:
    from tvm.s_tir import meta_schedule as ms

    return [
        tuple(int(d) for d in info.shape)
        for info in ms.arg_info.ArgInfo.from_prim_func(mod["main"])
    ]


def extract_tasks(mod: Any, target: Any, *, prepared: bool = False) -> list[ModelTask]:
    """The model's tuning tasks in call order. `mod` is a Relax module with weights bound
    (e.g. `resnet18_for_compile()`); pass `prepared=True` if it already went through
    `prepare_for_tuning`."""
    from tvm.s_tir import meta_schedule as ms
    from tvm.s_tir.analysis import estimate_tir_flops

    fused = mod if prepared else prepare_for_tuning(mod, target)
    extracted = ms.relax_integration.extract_tasks(fused, target)
    order = call_order(fused)
    extracted = sorted(extracted, key=lambda t: (order.get(t.task_name, len(order)), t.task_name))
    workloads = [t.dispatched[0] for t in extracted]
    names = unique_names(
        [
            readable_name(t.task_name, arg_shapes(w))
            for t, w in zip(extracted, workloads, strict=True)
        ]
    )
    return [
        ModelTask(name, w, int(t.weight), float(estimate_tir_flops(w)), str(t.task_name))
        for name, t, w in zip(names, extracted, workloads, strict=True)
    ]
