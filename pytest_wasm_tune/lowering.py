"""The PassContext every wasm compile of ours runs in: TVM's lowering minus a pass that never
changed one of our kernels.

After `UnrollLoop`, TVM's default TIR pipeline runs `tirx.RemoveNoOp` over the unrolled loop
bodies. On the 679 schedules of 23 tasks that were checked (the bench kernels and ResNet-18's
tasks, 2026-12-05) the lowered TIR came out structurally identical with and without it, and it
took 0.045-0.05 s of a 3x3 conv candidate's 0.31 s compile. Candidates, kernels and whole models
compile in this context alike, so what the search timed is what the model runs.

    with wasm_lowering():
        lib = tvm.compile(mod, target=wasm_target())
"""

from __future__ import annotations

from typing import Any

# passes that `wasm_lowering` disables wherever a pass sequence would run them
SKIPPED_PASSES = ("tirx.RemoveNoOp",)


def wasm_lowering(opt_level: int = 2) -> Any:
    """A `tvm.transform.PassContext` (TVM's default opt level 2) without `SKIPPED_PASSES`."""
    import tvm

    return tvm.transform.PassContext(opt_level=opt_level, disabled_pass=list(SKIPPED_PASSES))
