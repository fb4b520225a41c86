"""Build the TVM web runtime once per cache key: wasm objects, tvmjs_runtime.wasm + WASI JS,
the tvmjs bundle and the wasm-ld command used to link kernels against the objects."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .. import defaults, processes
from ..errors import RuntimeCacheError, ToolchainError
from . import link
from .cache import Manifest, cache_key, cache_root, file_lock, lock_path, wait_message
from .layout import COMPAT_DIR, WheelSources, assemble_layout, compat_headers, include_flags
from .prune import BUILD_COPY, remove_build_copy
from .tools import Emscripten, find_acorn, find_emscripten, find_node
from .web_package import WEB_DIR, web_build_dir

Progress = Callable[[str], None]


def print_progress(message: str) -> None:
    print(f"[wasm-tune] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class WebRuntime:
    """A built, verified web runtime in the cache."""

    directory: Path
    emscripten: Emscripten
    tvm_version: str

    @property
    def objects(self) -> list[Path]:
        return [self.directory / "wasm" / f"{name}.o" for name in defaults.RUNTIME_SOURCES]

    @property
    def runtime_wasm(self) -> Path:
        return self.directory / "wasm" / "tvmjs_runtime.wasm"

    @property
    def wasi_js(self) -> Path:
        return self.directory / "dist" / "tvmjs_runtime.wasi.js"

    @property
    def bundle_js(self) -> Path:
        return self.directory / "dist" / "tvmjs.bundle.js"

    @property
    def link_template(self) -> Path:
        return self.directory / "wasm" / link.TEMPLATE_NAME

    def page_assets(self) -> dict[str, Path]:
        """URL path → file for the runtime part of the measurement page."""
        return {"/tvmjs_runtime.wasi.js": self.wasi_js, "/tvmjs.bundle.js": self.bundle_js}


def _build_flags() -> dict[str, object]:
    return {
        "cflags": list(defaults.EMCC_CFLAGS),
        "runtime_ldflags": list(defaults.EMCC_RUNTIME_LDFLAGS),
        "kernel_ldflags": list(defaults.EMCC_KERNEL_LDFLAGS),
        "sources": list(defaults.RUNTIME_SOURCES),
        "web_build": [_digest(WEB_DIR / name) for name in ("package-lock.json", "build_tvmjs.mjs")],
    }


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def runtime_directory(emscripten: Emscripten, tvm_version: str) -> Path:
    headers = {str(rel): (COMPAT_DIR / rel).read_bytes() for rel in compat_headers()}
    key = cache_key(tvm_version, emscripten.version, _build_flags(), headers)
    return cache_root() / key


def expected_web_runtime() -> WebRuntime:
    """Where the runtime for the installed TVM and emcc lives (built or not)."""
    import tvm

    emscripten = find_emscripten()
    return WebRuntime(runtime_directory(emscripten, tvm.__version__), emscripten, tvm.__version__)


def ensure_web_runtime(*, rebuild: bool = False, progress: Progress = print_progress) -> WebRuntime:
    """Return the cached web runtime, building it first if needed (minutes, once per key).

    Parallel callers (pytest-xdist workers) serialise on a file lock; the loser waits and then
    reuses the winner's build. A cache whose files changed raises RuntimeCacheError with the fix.
    """
    runtime = expected_web_runtime()
    directory = runtime.directory
    with file_lock(lock_path(directory), on_wait=lambda: progress(wait_message(directory))):
        manifest = None if rebuild else Manifest.load(directory)
        if manifest is None:
            _build(runtime, progress)
        else:
            manifest.verify(directory)
    return runtime


def _run(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None, what: str) -> None:
    try:
        proc = processes.run_in_group(  # emcc's tools must not outlive an interrupted build
            argv, cwd=cwd, env=env, timeout_s=defaults.SUBPROCESS_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as err:
        raise ToolchainError(
            f"{what} timed out after {err.timeout:.0f} s: {' '.join(argv)}"
        ) from err
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout)[-4000:]
        raise ToolchainError(f"{what} failed (exit {proc.returncode}): {' '.join(argv)}\n{tail}")


def _build(runtime: WebRuntime, progress: Progress) -> None:
    emscripten = runtime.emscripten
    find_acorn(emscripten)
    directory = runtime.directory
    started = time.monotonic()
    progress(f"building the TVM web runtime into {directory} (first time only, ~4 min)")
    (directory / "manifest.json").unlink(missing_ok=True)
    root = assemble_layout(directory / BUILD_COPY, WheelSources.installed())
    wasm_dir = directory / "wasm"
    dist_dir = directory / "dist"
    wasm_dir.mkdir(parents=True, exist_ok=True)
    dist_dir.mkdir(parents=True, exist_ok=True)
    env = emscripten.env()
    cflags = [*include_flags(root), *defaults.EMCC_CFLAGS]

    def compile_one(name: str) -> None:
        t0 = time.monotonic()
        progress(f"compiling web/emcc/{name}.cc to a wasm object")
        _run(
            [
                str(emscripten.emcc),
                *cflags,
                "-c",
                f"web/emcc/{name}.cc",
                "-o",
                str(wasm_dir / f"{name}.o"),
            ],
            cwd=root,
            env=env,
            what=f"emcc compile of {name}.cc",
        )
        progress(f"compiled {name}.cc in {time.monotonic() - t0:.0f} s")

    with ThreadPoolExecutor(max_workers=len(defaults.RUNTIME_SOURCES)) as pool:
        list(pool.map(compile_one, defaults.RUNTIME_SOURCES))

    progress("linking tvmjs_runtime.wasm and its JS (ASYNCIFY, ~2.5 min)")
    t0 = time.monotonic()
    runtime_js = wasm_dir / "tvmjs_runtime.js"
    _run(
        [
            str(emscripten.emcc),
            *defaults.EMCC_CFLAGS,
            "-o",
            str(runtime_js),
            *map(str, runtime.objects),
            *defaults.EMCC_RUNTIME_LDFLAGS,
            "--pre-js",
            str(root / "web/emcc/preload.js"),
        ],
        cwd=root,
        env=env,
        what="emcc link of tvmjs_runtime.wasm",
    )
    progress(f"linked tvmjs_runtime.wasm in {time.monotonic() - t0:.0f} s")
    decorate = [sys.executable, str(root / "web/emcc/decorate_as_wasi.py"), str(runtime_js)]
    _run([*decorate, str(runtime.wasi_js), "cjs"], cwd=root, what="decorate_as_wasi (cjs)")
    _run(
        [*decorate, str(root / "web/src/tvmjs_runtime_wasi.js"), "es"],
        cwd=root,
        what="decorate_as_wasi (es)",
    )

    progress("building the tvmjs JS bundle with rollup")
    _build_bundle(root, dist_dir, web_build_dir(progress))

    progress("recording the wasm-ld command for fast kernel links")
    link.record_template(runtime, env)

    files = [
        *(str(p.relative_to(directory)) for p in runtime.objects),
        "wasm/tvmjs_runtime.wasm",
        "dist/tvmjs_runtime.wasi.js",
        "dist/tvmjs.bundle.js",
        f"wasm/{link.TEMPLATE_NAME}",
    ]
    elapsed = time.monotonic() - started
    Manifest.record(
        directory,
        files,
        {"tvm": runtime.tvm_version, "emcc": emscripten.version, "build_s": round(elapsed, 1)},
    )
    remove_build_copy(directory)
    progress(f"web runtime ready in {elapsed:.0f} s")


def _build_bundle(root: Path, dist_dir: Path, web_build: Path) -> None:
    _run(
        [
            str(find_node()),
            str(web_build / "build_tvmjs.mjs"),
            "--tvm-web",
            str(root / "web"),
            "--out",
            str(dist_dir),
        ],
        cwd=web_build,
        what="tvmjs bundle build",
    )
    if not (dist_dir / "tvmjs.bundle.js").is_file():
        raise RuntimeCacheError(f"the tvmjs bundle build wrote no {dist_dir / 'tvmjs.bundle.js'}")
