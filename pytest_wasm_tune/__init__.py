"""pytest-wasm-tune: auto-tune Apache TVM kernels for WebAssembly, measured in real browsers."""

__version__ = "0.1.0"
