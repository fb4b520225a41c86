"""Keep the runtime cache small: the build-only source copy goes after a successful build, and
`python -m pytest_wasm_tune cache --prune` removes the builds of other keys (older TVM, emcc,
flags or headers)."""

from __future__ import annotations

import contextlib
import fcntl
import shutil
from collections.abc import Iterator
from pathlib import Path

from .cache import LOCK_SUFFIX, MANIFEST_NAME, lock_path

BUILD_COPY = "tvm-root"  # the wheel trees + our headers, only read while building


def remove_build_copy(directory: Path) -> Path | None:
    """Remove the build-only source copy of a completed build; return it if it was there."""
    copy = directory / BUILD_COPY
    if not (directory / MANIFEST_NAME).is_file() or not copy.exists():
        return None
    shutil.rmtree(copy, ignore_errors=True)
    return copy


def runtime_builds(root: Path) -> list[Path]:
    """The runtime build directories (one per cache key) under the cache root."""
    if not root.is_dir():
        return []
    return sorted(path for path in root.iterdir() if path.is_dir() and path.name.startswith("tvm-"))


def stale_locks(root: Path, current: Path) -> list[Path]:
    """Lock files of runtime builds that are gone (also those of the old naming, which cut
    the key at the emcc version's last dot), except the current build's."""
    if not root.is_dir():
        return []
    builds = {path.name for path in runtime_builds(root)}
    return sorted(
        path
        for path in root.glob(f"tvm-*{LOCK_SUFFIX}")
        if path.is_file()
        and path.name.removesuffix(LOCK_SUFFIX) not in builds
        and path != lock_path(current)
    )


def prune_cache(current: Path) -> list[Path]:
    """Remove every other key's build and lock and stale lock files (unless a process holds
    the lock: it is building) and the current build's source copy; return what was removed."""
    removed = []
    for build in runtime_builds(current.parent):
        if build == current:
            copy = remove_build_copy(build)
            removed += [copy] if copy else []
            continue
        with _unlocked(lock_path(build)) as free:
            if free:
                shutil.rmtree(build, ignore_errors=True)
                removed.append(build)
    for lock in stale_locks(current.parent, current):
        with _unlocked(lock) as free:
            removed += [lock] if free else []
    return removed


@contextlib.contextmanager
def _unlocked(lock: Path) -> Iterator[bool]:
    """True while we hold `lock` (nobody builds under it); the lock file goes afterwards."""
    if not lock.exists():
        yield True
        return
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            lock.unlink(missing_ok=True)
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_cache_command(prune: bool) -> int:
    """`python -m pytest_wasm_tune cache [--prune]`: list the builds (sizes, which one is in
    use), or remove what `prune_cache` removes."""
    from .runtime import expected_web_runtime

    current = expected_web_runtime().directory
    if prune:
        removed = prune_cache(current)
        for path in removed:
            print(f"removed {path}")
        print(f"pruned {len(removed)} entr{'y' if len(removed) == 1 else 'ies'}; kept {current}")
        return 0
    print(f"runtime cache: {current.parent}")
    for build in runtime_builds(current.parent):
        mark = "in use" if build == current else "old key (cache --prune removes it)"
        copy = " + build-only copy" if (build / BUILD_COPY).exists() else ""
        print(f"  {build.name}  {_size_mb(build):.0f} MB{copy}  {mark}")
    for lock in stale_locks(current.parent, current):
        print(f"  {lock.name}  lock of no build (cache --prune removes it)")
    return 0


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
