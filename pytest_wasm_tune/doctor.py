"""`python -m pytest_wasm_tune doctor`: check every external piece and print the fix for each."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from .browsers.registry import LOCAL_BROWSERS, BrowserKind
from .errors import WasmTuneError
from .toolchain.cache import Manifest
from .toolchain.runtime import expected_web_runtime
from .toolchain.tools import find_acorn, find_emscripten, find_node
from .toolchain.web_package import WEB_DIR

PINNED = {"apache-tvm": "0.27.0.post1", "apache-tvm-ffi": "0.1.14.post0"}


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def _check_packages() -> str:
    found = []
    for dist, version in PINNED.items():
        try:
            installed = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError as err:
            raise WasmTuneError(f"{dist} is not installed. Fix: make setup") from err
        if installed != version:
            raise WasmTuneError(
                f"{dist} {installed} is installed, {version} is required. Fix: make setup"
            )
        found.append(f"{dist} {installed}")
    return ", ".join(found)


def _check_emcc() -> str:
    emscripten = find_emscripten()
    find_acorn(emscripten)
    return f"emcc {emscripten.version} at {emscripten.emcc}, node can load acorn"


def _check_web_packages() -> str:
    find_node()
    if (WEB_DIR / "node_modules").is_dir():
        return f"{WEB_DIR}/node_modules present"
    if shutil.which("npm") is None:
        raise WasmTuneError("npm is missing (a runtime build needs it). Fix: make setup")
    return "npm present: a runtime build installs the web build's packages into the cache"


def _browser_check(kind: BrowserKind) -> Callable[[], str]:
    def check() -> str:
        kind.check()
        out = subprocess.run(kind.version_argv, capture_output=True, text=True, timeout=30)
        return out.stdout.strip() or f"{kind.name} present"

    return check


def _check_cache() -> str:
    directory = expected_web_runtime().directory
    manifest = Manifest.load(directory)
    if manifest is None:
        return (
            f"not built yet: {directory} "
            "(built on first use, or: python -m pytest_wasm_tune runtime)"
        )
    manifest.verify(directory)
    return f"built in {manifest.info.get('build_s', '?')} s: {directory}"


CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("python packages", _check_packages),
    ("emscripten", _check_emcc),
    ("npm packages", _check_web_packages),
    *((kind.name, _browser_check(kind)) for kind in LOCAL_BROWSERS.values() if not kind.emulation),
    ("runtime cache", _check_cache),
)


def run_checks() -> list[CheckResult]:
    results = []
    for name, check in CHECKS:
        try:
            results.append(CheckResult(name, True, check()))
        except (WasmTuneError, OSError, subprocess.SubprocessError) as err:
            results.append(CheckResult(name, False, str(err)))
    return results


def format_results(results: list[CheckResult]) -> str:
    width = max(len(r.name) for r in results)
    lines = [f"{'ok ' if r.ok else 'FAIL'} {r.name:<{width}}  {r.detail}" for r in results]
    return "\n".join(lines)
