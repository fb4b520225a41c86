"""Assemble the TVM source-tree layout that web/Makefile expects, from the installed wheels.

The apache-tvm wheel ships `tvm/web`, `tvm/src` and part of `tvm/include`; apache-tvm-ffi ships
its headers, sources and dlpack. The web runtime sources include each other through relative
paths, so the trees are copied (symlinks break `#include "../../.."`), and our own
implementations of the headers the wheel lacks (`compat/`) are laid over the result.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

COMPAT_DIR = Path(__file__).with_name("compat")


@dataclass(frozen=True)
class WheelSources:
    """Where the installed wheels keep the trees the web runtime is built from."""

    tvm_package: Path
    tvm_ffi_package: Path

    @classmethod
    def installed(cls) -> WheelSources:
        import tvm
        import tvm_ffi

        return cls(Path(tvm.__file__).parent, Path(tvm_ffi.__file__).parent)

    def tree_map(self) -> dict[str, Path]:
        """Destination (relative to the layout root) → source directory."""
        ffi = self.tvm_ffi_package
        return {
            "include": self.tvm_package / "include",
            "src": self.tvm_package / "src",
            "web": self.tvm_package / "web",
            "3rdparty/tvm-ffi/include": ffi / "include",
            "3rdparty/tvm-ffi/src": ffi / "src",
            "3rdparty/tvm-ffi/3rdparty/dlpack": ffi / "3rdparty" / "dlpack",
        }


def compat_headers(directory: Path = COMPAT_DIR) -> list[Path]:
    """Our header implementations, relative to `directory`, sorted."""
    return sorted(p.relative_to(directory) for p in directory.rglob("*.h"))


def include_flags(root: Path) -> list[str]:
    """The `-I` flags of web/Makefile for a layout rooted at `root`."""
    return [
        f"-I{root}",
        f"-I{root / 'include'}",
        f"-I{root / '3rdparty/tvm-ffi/include'}",
        f"-I{root / '3rdparty/tvm-ffi/3rdparty/dlpack/include'}",
        f"-I{root / '3rdparty/compiler-rt'}",
    ]


def assemble_layout(root: Path, sources: WheelSources, compat_dir: Path = COMPAT_DIR) -> Path:
    """Copy the wheel trees into `root` and overlay our compat headers; return `root`.

    Existing content of `root` is replaced. Missing source trees raise FileNotFoundError
    naming the tree, since they mean the installed wheel is not the one we support.
    """
    if root.exists():
        shutil.rmtree(root)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", "dist")
    for dest, src in sources.tree_map().items():
        if not src.is_dir():
            raise FileNotFoundError(f"the installed wheel lacks {src} (needed as {dest}/)")
        shutil.copytree(src, root / dest, ignore=ignore)
    for rel in compat_headers(compat_dir):
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(compat_dir / rel, target)
    return root
