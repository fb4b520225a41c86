"""In-process pytester runs drop the modules they import when they end, and numpy/TVM cannot
be loaded twice in a process: load them here once so every run shares them."""

import tvm.s_tir.analysis
import tvm.te  # noqa: F401

import pytest_wasm_tune.tuning  # noqa: F401
