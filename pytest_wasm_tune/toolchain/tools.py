"""Locate the build tools (emcc, wasm-ld, node, npm) and report how to install missing ones."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import ToolchainError

DEBIAN_NODE_MODULES = Path("/usr/share/nodejs")
APT_FIX = "sudo apt-get install emscripten node-acorn   (or run `make setup`)"


@dataclass(frozen=True)
class Emscripten:
    """An emscripten installation: the emcc driver and the matching wasm-ld."""

    emcc: Path
    version: str

    def env(self) -> dict[str, str]:
        """Environment for emcc: its JS optimizer needs Debian's `acorn` module on NODE_PATH."""
        env = dict(os.environ)
        paths = [p for p in env.get("NODE_PATH", "").split(os.pathsep) if p]
        if DEBIAN_NODE_MODULES.is_dir() and str(DEBIAN_NODE_MODULES) not in paths:
            paths.append(str(DEBIAN_NODE_MODULES))
        env["NODE_PATH"] = os.pathsep.join(paths)
        return env


def _version_of(argv: list[str], pattern: str) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True).stdout
    match = re.search(pattern, out)
    if not match:
        raise ToolchainError(f"cannot read the version from `{' '.join(argv)}`: {out[:200]!r}")
    return match.group(1)


@functools.cache
def find_emscripten() -> Emscripten:
    """Find emcc on PATH; raise a ToolchainError naming the fix if it is missing."""
    emcc = shutil.which("emcc")
    if emcc is None:
        raise ToolchainError(f"emcc (Emscripten) was not found on PATH. Install it: {APT_FIX}")
    try:
        version = _version_of([emcc, "--version"], r"emcc \(Emscripten[^)]*\) (\S+)")
    except (subprocess.SubprocessError, OSError) as err:
        raise ToolchainError(f"`{emcc} --version` failed ({err}). Reinstall: {APT_FIX}") from err
    return Emscripten(Path(emcc), version)


def find_node() -> Path:
    """Find node; raise a ToolchainError naming the fix if it is missing."""
    node = shutil.which("node")
    if node is None:
        raise ToolchainError("node was not found on PATH. Install it: sudo apt-get install nodejs")
    return Path(node)


def find_acorn(emscripten: Emscripten) -> None:
    """Check that node can load `acorn`, which emcc's JS optimizer needs."""
    node = find_node()
    proc = subprocess.run(
        [str(node), "-e", "require('acorn')"],
        env=emscripten.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0:
        raise ToolchainError(
            "node cannot load the `acorn` module that emcc needs to link JavaScript. "
            "Install it: sudo apt-get install node-acorn"
        )
