"""Import TVM's tensor-intrinsic registry fast.

MetaSchedule's `TuneContext` imports `tvm.s_tir.tensor_intrin`, which parses ~250 TVMScript
functions; each parse calls `inspect.stack()`, whose source lookup walks `sys.modules` for every
frame: 20 to 60 s in a process that has imported numpy, selenium and xgboost. The parser only needs
the frames and the caller's source line, so during that import `inspect.stack` is swapped for an
equivalent that reads lines through `linecache` (about 1 s in all).
"""

from __future__ import annotations

import inspect
import linecache
import sys
import threading

_lock = threading.Lock()


def _frames_with_lines(context: int = 1) -> list[inspect.FrameInfo]:
    frame = sys._getframe(1)
    infos = []
    while frame is not None:
        code = frame.f_code
        line = linecache.getline(code.co_filename, frame.f_lineno) if context > 0 else ""
        infos.append(
            inspect.FrameInfo(
                frame, code.co_filename, frame.f_lineno, code.co_name, [line] if line else None, 0
            )
        )
        frame = frame.f_back
    return infos


def import_tensor_intrinsics() -> None:
    """Import `tvm.s_tir.tensor_intrin` (idempotent, thread-safe)."""
    with _lock:
        if "tvm.s_tir.tensor_intrin" in sys.modules:
            return
        original = inspect.stack
        inspect.stack = _frames_with_lines  # type: ignore[assignment]
        try:
            import tvm.s_tir.tensor_intrin  # noqa: F401
        finally:
            inspect.stack = original  # type: ignore[assignment]
