"""Make a function that is local to a wasm object file exported by the link.

TVM's LLVM code generator emits a kernel as a packed entry (`__tvm_ffi_<name>`, global) that
calls the loop nest in `<name>_compute_`, a function local to the object. To compile a kernel's
code with V8's optimizing tier before timing it, the page needs both as module exports
(web/page/wasm_tune_page.js, forceOptimizedTier), and wasm-ld exports global symbols only.

`export_local_functions` rewrites the flags of those symbols in the object's symbol table (the
"linking" custom section of the WebAssembly object-file conventions, tool-conventions/Linking.md)
from local binding to global binding with the exported flag. The names are unique per candidate,
so no two objects of a link define the same one. The flags keep their one-byte encoding, so the
file changes in place and nothing else moves.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

MAGIC = b"\0asm\x01\0\0\0"
CUSTOM_SECTION = 0
SYMBOL_TABLE = 8  # subsection of "linking"
LINKING_VERSION = 2
ENTRY_PREFIX = "__tvm_ffi_"  # TVM's packed entry of a kernel
COMPUTE_SUFFIX = "_compute_"  # the function holding its loop nest
# symbol kinds
FUNCTION, DATA, GLOBAL, SECTION, TAG, TABLE = range(6)
# symbol flags
BINDING_LOCAL = 0x02
UNDEFINED = 0x10
EXPORTED = 0x20
EXPLICIT_NAME = 0x40


class WasmObjectError(ValueError):
    """The file is not a wasm object file this module understands."""


def _leb(data: bytes | bytearray, pos: int) -> tuple[int, int]:
    """An unsigned LEB128 at `pos`: (value, position after it)."""
    value = shift = 0
    while True:
        if pos >= len(data):
            raise WasmObjectError("truncated LEB128 value")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _name(data: bytes | bytearray, pos: int) -> tuple[str, int]:
    length, pos = _leb(data, pos)
    return bytes(data[pos : pos + length]).decode("utf-8"), pos + length


def _linking_payload(data: bytes | bytearray) -> tuple[int, int]:
    """Start and end of the "linking" section's contents after its name."""
    if not data.startswith(MAGIC):
        raise WasmObjectError("not a wasm binary (version 1)")
    pos = len(MAGIC)
    while pos < len(data):
        section_id = data[pos]
        size, start = _leb(data, pos + 1)
        end = start + size
        if section_id == CUSTOM_SECTION:
            name, body = _name(data, start)
            if name == "linking":
                return body, end
        pos = end
    raise WasmObjectError("no linking section: not a relocatable wasm object")


def _function_symbols(data: bytes | bytearray, start: int, end: int) -> dict[str, int]:
    """Position of the flags of every named function symbol in the symbol table."""
    version, pos = _leb(data, start)
    if version != LINKING_VERSION:
        raise WasmObjectError(f"linking section version {version}, expected {LINKING_VERSION}")
    while pos < end:
        kind = data[pos]
        size, body = _leb(data, pos + 1)
        if kind == SYMBOL_TABLE:
            return _symbols(data, body)
        pos = body + size
    return {}


def _symbols(data: bytes | bytearray, pos: int) -> dict[str, int]:
    count, pos = _leb(data, pos)
    functions: dict[str, int] = {}
    for _ in range(count):
        kind, flags_at = data[pos], pos + 1
        flags, pos = _leb(data, flags_at)
        if kind in (FUNCTION, GLOBAL, TAG, TABLE):
            _index, pos = _leb(data, pos)
            if not flags & UNDEFINED or flags & EXPLICIT_NAME:
                name, pos = _name(data, pos)
                if kind == FUNCTION:
                    functions[name] = flags_at
        elif kind == DATA:
            _symbol, pos = _name(data, pos)
            if not flags & UNDEFINED:
                for _field in range(3):  # segment index, offset, size
                    _value, pos = _leb(data, pos)
        elif kind == SECTION:
            _index, pos = _leb(data, pos)
        else:
            raise WasmObjectError(f"unknown symbol kind {kind}")
    return functions


def kernel_functions(path: Path) -> list[str]:
    """The TVM kernel functions an object defines: packed entries (`__tvm_ffi_*`) and their
    compute functions (`*_compute_`), local or not."""
    data = path.read_bytes()
    start, end = _linking_payload(data)
    return [
        name
        for name, flags_at in _function_symbols(data, start, end).items()
        if not data[flags_at] & UNDEFINED
        and (name.startswith(ENTRY_PREFIX) or name.endswith(COMPUTE_SUFFIX))
    ]


def export_local_functions(path: Path, names: Collection[str]) -> list[str]:
    """Turn the local functions `names` of the object at `path` into exported global ones;
    return those changed (names that are missing or already global are left alone)."""
    data = bytearray(path.read_bytes())
    start, end = _linking_payload(data)
    changed = []
    for name, flags_at in _function_symbols(data, start, end).items():
        flags = data[flags_at]
        if name in names and flags & BINDING_LOCAL and not flags & 0x80:
            data[flags_at] = (flags & ~BINDING_LOCAL) | EXPORTED
            changed.append(name)
    if changed:
        path.write_bytes(bytes(data))
    return changed
