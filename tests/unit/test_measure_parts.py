"""Pure parts of the measurement path: staging, artifact paths, verification inputs."""

import hashlib
import math
import os
from pathlib import Path

import pytest

from pytest_wasm_tune.measure.artifact import RecordedKernel, StagedKernel, decode
from pytest_wasm_tune.measure.phases import PhaseTimes
from pytest_wasm_tune.measure.runner import MeasureConfig, abandon_bound_s
from pytest_wasm_tune.measure.staging import StagingDirectory, StagingError
from pytest_wasm_tune.measure.verify import Mismatch


def test_staging_is_content_addressed_atomic_and_released(tmp_path: Path) -> None:
    staging = StagingDirectory(tmp_path / "stage")
    sha = staging.publish(b"\0asm-one")
    assert sha == hashlib.sha256(b"\0asm-one").hexdigest()
    assert staging.path_of(sha).read_bytes() == b"\0asm-one"
    assert staging.publish(b"\0asm-one") == sha, "publishing twice is a no-op"
    assert sorted(p.name for p in staging.directory.iterdir()) == [f"{sha}.wasm"], "no temp files"
    staging.release(sha)
    assert not staging.path_of(sha).exists()
    keeping = StagingDirectory(tmp_path / "kept", keep=True)
    kept = keeping.publish(b"x")
    keeping.release(kept)
    assert keeping.path_of(kept).exists()


def test_staging_a_module_on_a_full_disk_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staging = StagingDirectory(tmp_path)

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(StagingError, match="No space left.*Free disk space"):
        staging.publish(b"module")
    assert not list(tmp_path.iterdir()), "the partial file is removed"


def test_artifact_paths_round_trip_and_reject_strangers() -> None:
    staged = StagedKernel("ab" * 32, "wasm_tune_k7")
    assert decode(staged.encode()) == staged
    assert decode(RecordedKernel(-42).encode()) == RecordedKernel(-42)
    for bad in ("", "/tmp/x.wasm", "wasm-tune:short:k", "wasm-tune-recorded:x"):
        with pytest.raises(ValueError, match="not a pytest-wasm-tune artifact"):
            decode(bad)


def test_artifact_paths_name_no_directory_for_meta_schedule_to_remove() -> None:
    # MetaSchedule's default measure callbacks include RemoveBuildArtifact, which runs
    # shutil.rmtree(os.path.dirname(artifact_path)) after each batch. Our paths are
    # references, not files: with no directory part, a user who keeps those callbacks gets an
    # error from rmtree("") instead of losing a directory.
    for artifact in (StagedKernel("ab" * 32, "wasm_tune_k7"), RecordedKernel(-42)):
        assert os.path.dirname(artifact.encode()) == ""


def test_mismatch_message_names_the_argument_and_the_differences() -> None:
    assert Mismatch(2, 3.5, 0.25).message() == (
        "wrong result in argument 2: max abs diff 3.5, max rel diff 0.25"
    )


def test_phase_times_accumulate() -> None:
    phases = PhaseTimes()
    phases.add("link", 0.25)
    phases.add("link", 0.5)
    with phases.timed("build"):
        pass
    snapshot = phases.snapshot()
    assert snapshot["link"] == 0.75 and snapshot["build"] >= 0


def test_the_abandon_bound_follows_the_best_verified_time_above_a_floor() -> None:
    config = MeasureConfig(abandon_factor=3.0, abandon_floor_s=0.01)
    assert abandon_bound_s(config, math.inf) == 0.0, "nothing verified yet: never abandon"
    assert abandon_bound_s(config, 0.005) == pytest.approx(0.015)
    assert abandon_bound_s(config, 0.001) == 0.01, "fast kernels: the floor decides"
