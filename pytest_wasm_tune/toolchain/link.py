"""Link TVM wasm32 kernel objects against the cached runtime objects with wasm-ld directly.

emcc's driver spends ~0.5 s around a 0.08 s wasm-ld call. At runtime-build time we run emcc once
with EMCC_DEBUG=1 on a probe object, record the exact wasm-ld command it executed (libraries,
exports, memory settings of this emscripten version), and later replay it with the kernel's
objects in place of the probe: the same imports, exports and code as emcc's link.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import defaults
from ..errors import ToolchainError
from .wasm_object import COMPUTE_SUFFIX, export_local_functions, kernel_functions

if TYPE_CHECKING:
    from .runtime import WebRuntime

TEMPLATE_NAME = "wasm-ld-template.json"
OUTPUT_SLOT = "{output}"
OBJECTS_SLOT = "{objects}"
PROBE_SOURCE = "int __wasm_tune_link_probe(void) { return 42; }\n"


def parse_wasm_ld_command(debug_log: str, probe: Path, output: Path) -> list[str]:
    """Turn the wasm-ld line of an EMCC_DEBUG log into a template with slots.

    The probe object becomes OBJECTS_SLOT and the `-o` operand OUTPUT_SLOT.
    """
    lines = [line for line in debug_log.splitlines() if "wasm-ld" in line and "executed" in line]
    if len(lines) != 1:
        raise ToolchainError(f"expected one wasm-ld call in the emcc debug log, found {len(lines)}")
    argv = shlex.split(lines[0].split("executed", 1)[1].strip())
    if str(probe) not in argv or "-o" not in argv:
        raise ToolchainError(f"unexpected wasm-ld command from emcc: {argv}")
    template = [OBJECTS_SLOT if arg == str(probe) else arg for arg in argv]
    template[template.index("-o") + 1] = OUTPUT_SLOT
    del output  # emcc links to a temporary name; the slot replaces it
    return [*template, "--strip-all"]


def record_template(runtime: WebRuntime, env: dict[str, str]) -> list[str]:
    """Run emcc's link once in debug mode and store the wasm-ld template in the cache."""
    with tempfile.TemporaryDirectory(prefix="wasm-tune-probe-") as tmp_dir:
        tmp = Path(tmp_dir)
        source, probe, output = tmp / "probe.c", tmp / "probe.o", tmp / "probe.wasm"
        source.write_text(PROBE_SOURCE)
        emcc = str(runtime.emscripten.emcc)
        _checked([emcc, "-O2", "-c", str(source), "-o", str(probe)], env=env)
        debug_env = {**env, "EMCC_DEBUG": "1", "TMPDIR": str(tmp)}
        argv = [emcc, "-o", str(output), *map(str, runtime.objects), str(probe)]
        proc = _checked([*argv, *defaults.EMCC_KERNEL_LDFLAGS], env=debug_env)
        template = parse_wasm_ld_command(proc.stderr, probe, output)
    runtime.link_template.write_text(json.dumps(template, indent=1))
    return template


def _checked(
    argv: list[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise ToolchainError(f"`{' '.join(argv)}` failed:\n{proc.stderr[-3000:]}")
    return proc


def export_kernel_functions(objects: Sequence[Path]) -> list[str]:
    """Make the kernels' compute functions of TVM objects (changed in place) global, and name
    every kernel function for the link to export, so that the page can compile them with the
    engine's optimizing tier (web/page/wasm_tune_page.js, forceOptimizedTier)."""
    names = []
    for path in objects:
        functions = kernel_functions(path)
        export_local_functions(path, [name for name in functions if name.endswith(COMPUTE_SUFFIX)])
        names += functions
    return names


class KernelLinker:
    """Links kernel objects + cached runtime objects into a tvmjs-loadable wasm via wasm-ld."""

    def __init__(self, runtime: WebRuntime) -> None:
        self._template: list[str] = json.loads(runtime.link_template.read_text())

    def command(
        self, objects: Sequence[Path], output: Path, exports: Sequence[str] = ()
    ) -> list[str]:
        """The recorded command (which already names the runtime objects) for these objects,
        also exporting the symbols `exports` where they are defined."""
        argv: list[str] = []
        for arg in self._template:
            if arg == OBJECTS_SLOT:
                argv.extend(map(str, objects))
            else:
                argv.append(str(output) if arg == OUTPUT_SLOT else arg)
        return [*argv, *(f"--export-if-defined={name}" for name in exports)]

    def link(
        self,
        objects: Sequence[Path],
        output: Path,
        timeout_s: float = 120.0,
        exports: Sequence[str] = (),
    ) -> float:
        """Link and return the wall time in seconds; raise ToolchainError on failure."""
        started = time.perf_counter()
        argv = self.command(objects, output, exports)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as err:
            raise ToolchainError(f"wasm-ld timed out after {timeout_s:.0f} s") from err
        if proc.returncode != 0:
            raise ToolchainError(f"wasm-ld failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return time.perf_counter() - started

    def fcompile(self):
        """An `fcompile` for `Module.export_library` that emits wasm objects and links them."""

        def fcompile(output: str, objects: list[str], options: object = None, **_: object) -> None:
            paths = [Path(p) for p in objects]
            self.link(paths, Path(output), exports=export_kernel_functions(paths))

        fcompile.object_format = "o"  # type: ignore[attr-defined]
        return fcompile
