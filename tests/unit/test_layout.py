from pathlib import Path

import pytest

from pytest_wasm_tune.toolchain.layout import (
    COMPAT_DIR,
    WheelSources,
    assemble_layout,
    compat_headers,
    include_flags,
)


def _fake_wheels(tmp_path: Path) -> WheelSources:
    tvm, ffi = tmp_path / "tvm", tmp_path / "tvm_ffi"
    for rel in (
        "include/tvm/runtime/a.h",
        "src/runtime/b.cc",
        "web/emcc/wasm_runtime.cc",
        "web/__pycache__/x.pyc",
    ):
        (tvm / rel).parent.mkdir(parents=True, exist_ok=True)
        (tvm / rel).write_text(rel)
    for rel in ("include/tvm/ffi/c.h", "src/ffi/d.cc", "3rdparty/dlpack/include/dlpack/dlpack.h"):
        (ffi / rel).parent.mkdir(parents=True, exist_ok=True)
        (ffi / rel).write_text(rel)
    return WheelSources(tvm, ffi)


def test_layout_matches_web_makefile_tree(tmp_path: Path) -> None:
    compat = tmp_path / "compat"
    (compat / "src/support").mkdir(parents=True)
    (compat / "src/support/arena.h").write_text("// ours")
    root = assemble_layout(tmp_path / "root", _fake_wheels(tmp_path), compat)
    assert (root / "include/tvm/runtime/a.h").read_text() == "include/tvm/runtime/a.h"
    assert (root / "web/emcc/wasm_runtime.cc").is_file()
    assert (root / "3rdparty/tvm-ffi/include/tvm/ffi/c.h").is_file()
    assert (root / "3rdparty/tvm-ffi/3rdparty/dlpack/include/dlpack/dlpack.h").is_file()
    assert (root / "src/support/arena.h").read_text() == "// ours"
    assert not (root / "web/__pycache__").exists()
    assert not any(p.is_symlink() for p in root.rglob("*")), "trees must be copies"


def test_layout_replaces_previous_content(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "stale").mkdir(parents=True)
    assemble_layout(root, _fake_wheels(tmp_path), tmp_path / "no-compat")
    assert not (root / "stale").exists()


def test_missing_wheel_tree_is_named(tmp_path: Path) -> None:
    sources = WheelSources(tmp_path / "nope", tmp_path / "nope_ffi")
    with pytest.raises(FileNotFoundError, match="lacks .*include"):
        assemble_layout(tmp_path / "root", sources, tmp_path)


def test_compat_headers_cover_what_the_wheel_lacks() -> None:
    names = {str(p) for p in compat_headers(COMPAT_DIR)}
    for needed in (
        "src/support/arena.h",
        "src/support/bytes_io.h",
        "src/support/ring_buffer.h",
        "src/support/utils.h",
        "src/support/base64.h",
        "include/tvm/support/io.h",
        "include/tvm/support/serializer.h",
        "include/tvm/support/cuda/nvtx.h",
        "3rdparty/compiler-rt/builtin_fp16.h",
    ):
        assert needed in names


def test_include_flags_follow_the_makefile(tmp_path: Path) -> None:
    flags = include_flags(tmp_path)
    assert flags[0] == f"-I{tmp_path}"
    assert f"-I{tmp_path}/3rdparty/tvm-ffi/3rdparty/dlpack/include" in flags
    assert f"-I{tmp_path}/3rdparty/compiler-rt" in flags
