"""The artifact path a builder result carries to the runner: a staged batch module + a symbol,
or a reference to a measurement recorded before (resume).

The paths name no file or directory. MetaSchedule's default measure callbacks include
RemoveBuildArtifact, which deletes `os.path.dirname(artifact_path)` recursively; the tuner
replaces those callbacks, and with no directory part a caller who keeps them gets an error
instead of losing a directory."""

from __future__ import annotations

import re
from dataclasses import dataclass

_STAGED = re.compile(r"wasm-tune:([0-9a-f]{64}):(\w+)")
_RECORDED = re.compile(r"wasm-tune-recorded:(-?\d+)")


@dataclass(frozen=True)
class StagedKernel:
    sha256: str
    symbol: str

    def encode(self) -> str:
        return f"wasm-tune:{self.sha256}:{self.symbol}"


@dataclass(frozen=True)
class RecordedKernel:
    """A candidate whose measurement already is in the database: not built, not measured."""

    structural_hash: int

    def encode(self) -> str:
        return f"wasm-tune-recorded:{self.structural_hash}"


def decode(artifact_path: str) -> StagedKernel | RecordedKernel:
    if match := _STAGED.fullmatch(artifact_path):
        return StagedKernel(match.group(1), match.group(2))
    if match := _RECORDED.fullmatch(artifact_path):
        return RecordedKernel(int(match.group(1)))
    raise ValueError(f"not a pytest-wasm-tune artifact path: {artifact_path!r}")
