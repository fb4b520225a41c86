"""The error tree: every error a user can cause says what happened and what to do next."""


class WasmTuneError(Exception):
    """Base of all pytest-wasm-tune errors."""


class ToolchainError(WasmTuneError):
    """A build tool is missing or failed (emcc, wasm-ld, node, npm)."""


class RuntimeCacheError(WasmTuneError):
    """The cached web runtime is incomplete or corrupt."""


class DatabaseError(WasmTuneError):
    """A tuning database on disk is damaged beyond what can be set aside."""


class ServiceError(WasmTuneError):
    """A local service (tracker, proxy, page server) did not start or answer."""


class BrowserError(WasmTuneError):
    """A browser could not be started, did not load the page, or did not register."""


class RemoteCallError(WasmTuneError):
    """A call into the browser failed or timed out."""


class KernelError(RemoteCallError):
    """The page ran the kernel and reported an error (e.g. a wasm trap); the browser is alive."""
