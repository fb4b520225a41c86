import multiprocessing
import time
from pathlib import Path

import pytest

from pytest_wasm_tune.errors import RuntimeCacheError
from pytest_wasm_tune.toolchain import cache, prune


def test_cache_key_is_readable_and_sensitive_to_every_input() -> None:
    base = cache.cache_key("0.27.0", "3.1.6", {"cflags": ["-O3"]}, {"a.h": b"x"})
    assert base.startswith("tvm-0.27.0_emcc-3.1.6_")
    variants = {
        cache.cache_key("0.28.0", "3.1.6", {"cflags": ["-O3"]}, {"a.h": b"x"}),
        cache.cache_key("0.27.0", "3.1.7", {"cflags": ["-O3"]}, {"a.h": b"x"}),
        cache.cache_key("0.27.0", "3.1.6", {"cflags": ["-O2"]}, {"a.h": b"x"}),
        cache.cache_key("0.27.0", "3.1.6", {"cflags": ["-O3"]}, {"a.h": b"y"}),
        cache.cache_key("0.27.0", "3.1.6", {"cflags": ["-O3"]}, {"b.h": b"x"}),
    }
    assert base not in variants and len(variants) == 5
    assert base == cache.cache_key("0.27.0", "3.1.6", {"cflags": ["-O3"]}, {"a.h": b"x"})


def test_cache_root_honours_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WASM_TUNE_CACHE_DIR", str(tmp_path))
    assert cache.cache_root() == tmp_path
    monkeypatch.delenv("WASM_TUNE_CACHE_DIR")
    assert cache.cache_root().name == "pytest-wasm-tune"


def _hold_lock(path: str, marker: str, hold_s: float) -> None:
    with cache.file_lock(Path(path)):
        Path(marker).write_text(str(time.monotonic()))
        time.sleep(hold_s)
        Path(marker).write_text(Path(marker).read_text() + f" {time.monotonic()}")


def test_lock_serialises_processes_and_reports_waiting(tmp_path: Path) -> None:
    lock, marker = tmp_path / "build.lock", tmp_path / "marker"
    holder = multiprocessing.get_context("spawn").Process(
        target=_hold_lock, args=(str(lock), str(marker), 1.0)
    )
    holder.start()
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert time.monotonic() < deadline, "holder never took the lock"
            time.sleep(0.01)
        waited: list[bool] = []
        with cache.file_lock(lock, on_wait=lambda: waited.append(True)):
            acquired = time.monotonic()
            released = float(marker.read_text().split()[1])
    finally:
        holder.join(30)
    assert waited == [True]
    assert acquired >= released


def _prune_lock(path: str, marker: str, hold_s: float) -> None:
    with prune._unlocked(Path(path)) as free:  # as `cache --prune` removes a lock it got
        Path(marker).write_text(str(free))
        time.sleep(hold_s)


def test_a_lock_removed_while_waiting_for_it_is_taken_anew(tmp_path: Path) -> None:
    lock, marker = tmp_path / "build.lock", tmp_path / "marker"
    lock.touch()
    pruner = multiprocessing.get_context("spawn").Process(
        target=_prune_lock, args=(str(lock), str(marker), 1.0)
    )
    pruner.start()
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert time.monotonic() < deadline, "the pruner never took the lock"
            time.sleep(0.01)
        waited: list[bool] = []
        with cache.file_lock(lock, on_wait=lambda: waited.append(True)):
            held_file = lock.exists()  # the lock we hold is the one others will open
    finally:
        pruner.join(30)
    assert marker.read_text() == "True" and waited == [True] and held_file


def test_every_key_has_its_own_lock(tmp_path: Path) -> None:
    # keys that differ only in their digest (flags, headers) once shared "..._emcc-3.1.lock"
    keys = [cache.cache_key("0.27.0.post1", "3.1.6", {"simd": s}, {}) for s in ("on", "off")]
    locks = [cache.lock_path(tmp_path / key) for key in keys]
    assert [lock.name for lock in locks] == [f"{key}.lock" for key in keys]
    assert locks[0] != locks[1] and all(lock.parent == tmp_path for lock in locks)
    waited: list[bool] = []
    with cache.file_lock(locks[0]), cache.file_lock(locks[1], on_wait=lambda: waited.append(True)):
        assert waited == []  # a build of one key does not hold up another key's


def test_manifest_round_trip_and_broken_cache_messages(tmp_path: Path) -> None:
    (tmp_path / "wasm").mkdir()
    (tmp_path / "wasm/a.o").write_bytes(b"object")
    assert cache.Manifest.load(tmp_path) is None
    cache.Manifest.record(tmp_path, ["wasm/a.o"], {"build_s": 1.0})
    manifest = cache.Manifest.load(tmp_path)
    assert manifest is not None and manifest.info == {"build_s": 1.0}
    manifest.verify(tmp_path)

    (tmp_path / "wasm/a.o").write_bytes(b"changed")
    with pytest.raises(
        RuntimeCacheError,
        match=r"a.o does not match .*Fix: python -m pytest_wasm_tune runtime --rebuild",
    ):
        manifest.verify(tmp_path)
    (tmp_path / "wasm/a.o").unlink()
    with pytest.raises(RuntimeCacheError, match=r"a.o is missing.*rm -rf"):
        manifest.verify(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(RuntimeCacheError, match="unreadable manifest.json"):
        cache.Manifest.load(tmp_path)


def _build(root: Path, name: str, complete: bool = True) -> Path:
    build = root / name
    (build / prune.BUILD_COPY / "web").mkdir(parents=True)
    (build / "wasm").mkdir()
    (build / "wasm" / "tvmjs_runtime.wasm").write_bytes(b"\0asm")
    if complete:
        cache.Manifest.record(build, ["wasm/tvmjs_runtime.wasm"], {})
    return build


def test_prune_removes_other_keys_and_the_build_only_copy(tmp_path: Path) -> None:
    current = _build(tmp_path, "tvm-0.27_emcc-3.1.6_aaaaaaaaaaaa")
    old = _build(tmp_path, "tvm-0.26_emcc-3.1.6_bbbbbbbbbbbb")
    building = _build(tmp_path, "tvm-0.25_emcc-4.0.1_cccccccccccc", complete=False)
    other = tmp_path / "not-a-build"
    other.mkdir()
    with cache.file_lock(cache.lock_path(building)):  # as a builder holds it
        removed = prune.prune_cache(current)
    assert sorted(removed) == sorted([current / prune.BUILD_COPY, old])
    assert (current / "wasm" / "tvmjs_runtime.wasm").is_file() and not old.exists()
    assert building.is_dir() and other.is_dir()
    cache.Manifest.load(current).verify(current)  # the build itself is intact


def test_prune_removes_the_locks_of_builds_that_are_gone(tmp_path: Path) -> None:
    current = _build(tmp_path, "tvm-0.27_emcc-3.1.6_aaaaaaaaaaaa")
    old = _build(tmp_path, "tvm-0.27_emcc-3.1.6_bbbbbbbbbbbb")
    building = tmp_path / "tvm-0.27_emcc-3.1.6_cccccccccccc"  # its builder has not made it yet
    legacy = tmp_path / "tvm-0.27_emcc-3.1.lock"  # the old naming, shared by all three keys
    for lock in (cache.lock_path(current), cache.lock_path(old), legacy):
        lock.touch()
    assert prune.stale_locks(tmp_path, current) == [legacy]
    with cache.file_lock(cache.lock_path(building)):
        assert prune.stale_locks(tmp_path, current) == [cache.lock_path(building), legacy]
        removed = prune.prune_cache(current)
    assert sorted(removed) == sorted([current / prune.BUILD_COPY, old, legacy])
    assert not cache.lock_path(old).exists() and not legacy.exists()
    assert cache.lock_path(current).is_file() and cache.lock_path(building).is_file()


def test_the_build_copy_of_an_unfinished_build_stays(tmp_path: Path) -> None:
    unfinished = _build(tmp_path, "tvm-x", complete=False)
    assert prune.remove_build_copy(unfinished) is None
    assert (unfinished / prune.BUILD_COPY).is_dir()
