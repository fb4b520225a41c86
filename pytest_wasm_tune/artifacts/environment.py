"""The machine a run measured on: CPU, Python, TVM, emcc and browser versions."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import WasmTuneError

PACKAGES = ("apache-tvm", "apache-tvm-ffi", "pytest", "pytest-xdist", "selenium")


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what `platform` knows."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Hardware", "Processor") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def cpu_signature(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, str]:
    """CPU family, model, stepping and clock of the first CPU (what `lscpu` prints): the
    model name alone ("AMD EPYC") does not tell a Zen 4 from a Zen 5 guest."""
    wanted = {
        "cpu family": "family",
        "model": "model_number",
        "stepping": "stepping",
        "cpu MHz": "mhz",
    }
    found: dict[str, str] = {}
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                break  # the first CPU's block only
            key, _, value = line.partition(":")
            if key.strip() in wanted:
                found[wanted[key.strip()]] = value.strip()
    except OSError:
        pass
    return found


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def emcc_version() -> str | None:
    from ..toolchain.tools import find_emscripten

    try:
        return find_emscripten().version
    except WasmTuneError:
        return None


def collect_environment(browsers: Mapping[str, str]) -> dict[str, Any]:
    """`browsers`: browser name → version, as reported by the runs."""
    return {
        "pytest_wasm_tune": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": {"model": cpu_model(), "count": os.cpu_count(), **cpu_signature()},
        "packages": {name: package_version(name) for name in PACKAGES},
        "tvm": package_version("apache-tvm"),
        "emcc": emcc_version(),
        "browsers": [
            {"name": name, "version": version} for name, version in sorted(browsers.items())
        ],
    }
