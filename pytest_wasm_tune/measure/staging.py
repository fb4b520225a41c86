"""Content-addressed staging directory that the page server publishes candidate modules from."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from ..errors import WasmTuneError


class StagingError(WasmTuneError):
    """A module could not be staged (e.g. the disk is full)."""


class StagingDirectory:
    """Publishes wasm bytes atomically as `<sha256>.wasm`; removes them once measured."""

    def __init__(self, directory: Path, keep: bool = False) -> None:
        self.directory = directory
        self.keep = keep
        directory.mkdir(parents=True, exist_ok=True)

    def path_of(self, sha256_hex: str) -> Path:
        return self.directory / f"{sha256_hex}.wasm"

    def publish(self, wasm: bytes) -> str:
        """Write `wasm` under its hash (temp file + rename, so readers never see a partial file)."""
        sha = hashlib.sha256(wasm).hexdigest()
        target = self.path_of(sha)
        if target.exists():
            return sha
        tmp: Path | None = None
        try:
            fd, name = tempfile.mkstemp(dir=self.directory, prefix=".staging-", suffix=".part")
            tmp = Path(name)
            with os.fdopen(fd, "wb") as handle:
                handle.write(wasm)
            os.replace(tmp, target)
        except OSError as err:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            raise StagingError(
                f"cannot stage a {len(wasm)} byte module in {self.directory}: {err}. "
                "Free disk space or point --wasm-tune-artifacts elsewhere."
            ) from err
        return sha

    def release(self, sha256_hex: str) -> None:
        """Remove a staged module after measurement unless `keep` is set (debugging)."""
        if not self.keep:
            self.path_of(sha256_hex).unlink(missing_ok=True)
