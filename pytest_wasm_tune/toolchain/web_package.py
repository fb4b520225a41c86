"""Our web package (the measurement page and the tvmjs build script, shipped as package data)
and the npm packages the tvmjs bundle build needs.

In a checkout `pytest_wasm_tune/web` is a symlink to the repository's `web/`, whose
node_modules `make setup` installs. An installed wheel carries the page, package.json,
package-lock.json and build_tvmjs.mjs but no node_modules: a runtime build (only when the cache
has no runtime for its key) first installs them with `npm ci` into
`<cache>/web-build-<digest>/`. A cached runtime needs none of this: the page server serves its
built bundle.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from .. import defaults
from ..errors import ToolchainError
from .cache import cache_root, file_lock, lock_path

WEB_DIR = Path(str(resources.files("pytest_wasm_tune") / "web"))
BUILD_FILES = ("package.json", "package-lock.json", "build_tvmjs.mjs")
INSTALLED_MARK = ".npm-ci-done"


def web_build_dir(progress: Callable[[str], None]) -> Path:
    """A directory holding build_tvmjs.mjs and its node_modules (installed on first use)."""
    if (WEB_DIR / "node_modules").is_dir():
        return WEB_DIR
    digest = hashlib.sha256(b"".join((WEB_DIR / name).read_bytes() for name in BUILD_FILES))
    target = cache_root() / f"web-build-{digest.hexdigest()[:12]}"
    with file_lock(lock_path(target)):
        if not (target / INSTALLED_MARK).is_file():
            _npm_ci(target, progress)
    return target


def _npm_ci(target: Path, progress: Callable[[str], None]) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise ToolchainError(
            "npm was not found: the first runtime build installs the tvmjs build's npm "
            "packages. Install it: sudo apt-get install npm"
        )
    target.mkdir(parents=True, exist_ok=True)
    for name in BUILD_FILES:
        shutil.copyfile(WEB_DIR / name, target / name)
    progress(f"installing the tvmjs build's npm packages into {target} (npm ci, first time only)")
    argv = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    try:
        proc = subprocess.run(
            argv, cwd=target, capture_output=True, text=True, timeout=defaults.SUBPROCESS_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as err:
        raise ToolchainError(f"npm ci in {target} timed out after {err.timeout:.0f} s") from err
    if proc.returncode != 0:
        raise ToolchainError(
            f"npm ci in {target} failed (exit {proc.returncode}); it needs the npm registry or "
            f"npm's cache:\n{(proc.stderr or proc.stdout)[-4000:]}"
        )
    (target / INSTALLED_MARK).touch()
