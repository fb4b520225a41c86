"""Build TVM's WebAssembly runtime from the installed apache-tvm wheel, and link kernels fast."""

from .runtime import WebRuntime, ensure_web_runtime

__all__ = ["WebRuntime", "ensure_web_runtime"]
