"""The measurement page's assets: our page (web/page) plus the runtime's tvmjs JS."""

from __future__ import annotations

from pathlib import Path

from .errors import RuntimeCacheError
from .toolchain.runtime import WebRuntime
from .toolchain.web_package import WEB_DIR

PAGE_DIR = WEB_DIR / "page"  # package data
PAGE_FILES = (
    "index.html",
    "wasm_tune_page.js",
    "wasm_tune_core.js",
    "wasm_tune_tier.js",
    "wasm_tune_vm.js",
)


def page_assets(
    runtime: WebRuntime, page_dir: Path = PAGE_DIR, check: bool = True
) -> dict[str, Path]:
    """URL path → file for everything the page loads (all same-origin, nothing external).

    `check=False` skips the existence check (the runtime may still be building)."""
    assets = {f"/{name}": page_dir / name for name in PAGE_FILES}
    assets["/"] = page_dir / "index.html"
    assets.update(runtime.page_assets())
    missing = [str(path) for path in assets.values() if check and not path.is_file()]
    if missing:
        raise RuntimeCacheError(f"page assets are missing: {', '.join(missing)}. Fix: make setup")
    return assets
