"""The runtime cache: a directory per (TVM version, emcc version, flags, our headers), a lock
that serialises builders across processes, and a manifest that marks a build as complete."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .. import defaults
from ..errors import RuntimeCacheError

MANIFEST_NAME = "manifest.json"
BUILD_RECIPE_VERSION = 1  # bump when the build steps change in a way the key would not see


def cache_root() -> Path:
    """The cache root: $WASM_TUNE_CACHE_DIR, else ~/.cache/pytest-wasm-tune."""
    override = os.environ.get(defaults.CACHE_DIR_ENV)
    return Path(override).expanduser() if override else defaults.DEFAULT_CACHE_DIR


def cache_key(
    tvm_version: str, emcc_version: str, flags: Mapping[str, object], headers: Mapping[str, bytes]
) -> str:
    """A readable, collision-resistant directory name for one runtime build."""
    digest = hashlib.sha256()
    digest.update(
        json.dumps({"recipe": BUILD_RECIPE_VERSION, "flags": flags}, sort_keys=True).encode()
    )
    for name in sorted(headers):
        digest.update(name.encode() + b"\0" + hashlib.sha256(headers[name]).digest())
    safe_tvm = tvm_version.replace("/", "_")
    return f"tvm-{safe_tvm}_emcc-{emcc_version}_{digest.hexdigest()[:12]}"


LOCK_SUFFIX = ".lock"


def lock_path(directory: Path) -> Path:
    """The lock of one cache entry: `<name>.lock` beside it (the name keeps its dots: a key's
    emcc version is not a file suffix)."""
    return directory.with_name(directory.name + LOCK_SUFFIX)


@contextmanager
def file_lock(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path` (created if missing) for the `with` body.

    `on_wait` is called once if another process holds the lock, so callers can say why they wait.
    A lock file removed while we waited for it (`cache --prune`) is taken anew.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is not None:
                    on_wait()
                    on_wait = None
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                if _is_file_at(handle.fileno(), path):
                    yield
                    return
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _is_file_at(fd: int, path: Path) -> bool:
    """Whether `path` still names the open file `fd` (it was not unlinked or replaced)."""
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    there = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What a completed build produced: files (relative to the cache dir) and their hashes."""

    files: dict[str, str]
    info: dict[str, object]

    @classmethod
    def record(cls, directory: Path, files: list[str], info: dict[str, object]) -> Manifest:
        manifest = cls({name: _sha256(directory / name) for name in files}, info)
        tmp = directory / (MANIFEST_NAME + ".tmp")
        tmp.write_text(json.dumps({"files": manifest.files, "info": info}, indent=2))
        os.replace(tmp, directory / MANIFEST_NAME)
        return manifest

    @classmethod
    def load(cls, directory: Path) -> Manifest | None:
        """The manifest of `directory`, or None if no build completed there."""
        path = directory / MANIFEST_NAME
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
            return cls(dict(data["files"]), dict(data["info"]))
        except (ValueError, KeyError, TypeError) as err:
            raise RuntimeCacheError(
                _broken(directory, f"unreadable {MANIFEST_NAME} ({err})")
            ) from err

    def verify(self, directory: Path) -> None:
        """Raise RuntimeCacheError if a recorded file is missing or changed."""
        for name, expected in self.files.items():
            path = directory / name
            if not path.is_file():
                raise RuntimeCacheError(_broken(directory, f"{name} is missing"))
            if _sha256(path) != expected:
                raise RuntimeCacheError(_broken(directory, f"{name} does not match its checksum"))


def _broken(directory: Path, what: str) -> str:
    return (
        f"the cached TVM web runtime in {directory} is broken: {what}. "
        f"Fix: python -m pytest_wasm_tune runtime --rebuild   (or: rm -rf {directory})"
    )


def wait_message(directory: Path) -> str:
    return (
        f"[wasm-tune] waiting for another process building {directory.name} ({time.strftime('%X')})"
    )
