"""TVM's RPC websocket proxy in a child process, bound to loopback by default."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from .. import defaults, processes
from ..errors import ServiceError

LOG_TAIL_LINES = 20


class ProxyService:
    """Runs `proxy_main` for the `with` block; browsers connect to `ws_url`, clients via tracker.

    The proxy's stderr goes to `log_path` (default: `proxy.log` in a temporary directory removed
    at exit); a failed start quotes its last lines.
    """

    def __init__(
        self,
        tracker_address: tuple[str, int] | None,
        allowed_origins: Sequence[str] = (),
        host: str = defaults.LOOPBACK_HOST,
        rpc_port: int = 0,
        web_port: int = 0,
        log_path: Path | None = None,
    ) -> None:
        self.host = host
        self._tracker_address = tracker_address
        self._allowed_origins = tuple(allowed_origins)
        self._proc: subprocess.Popen[str] | None = None
        self._log_path = log_path
        self._log: IO[bytes] | None = None
        self._log_dir: Path | None = None
        self.rpc_port = rpc_port
        self.web_port = web_port

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.web_port}/ws"

    def __enter__(self) -> ProxyService:
        argv = [sys.executable, "-m", "pytest_wasm_tune.services.proxy_main", "--host", self.host]
        argv += ["--port", str(self.rpc_port), "--web-port", str(self.web_port)]
        if self._tracker_address:
            argv += ["--tracker", f"{self._tracker_address[0]}:{self._tracker_address[1]}"]
        for origin in self._allowed_origins:
            argv += ["--allow-origin", origin]
        if self._log_path is None:
            self._log_dir = processes.owned_tempdir("proxy")
            self._log_path = self._log_dir / "proxy.log"
        self._log = self._log_path.open("ab")
        self._proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._log, text=True)
        processes.adopt(self._proc.pid)
        ports = self._read_ready_line(defaults.SERVICE_START_TIMEOUT_S)
        self.rpc_port, self.web_port = int(ports["rpc_port"]), int(ports["web_port"])
        return self

    @property
    def log_path(self) -> Path | None:
        """The file the proxy's stderr goes to (None before the start)."""
        return self._log_path

    def _read_ready_line(self, timeout_s: float) -> dict:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout_s)
        try:
            return json.loads(box[0] if box else "")
        except ValueError:
            try:
                exited: int | None = self._proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                exited = None
            tail = self._log_tail()
            self.__exit__(None, None, None)
            what = (
                f"exited with code {exited}"
                if exited is not None
                else f"gave no ports within {timeout_s:.0f} s"
            )
            raise ServiceError(
                f"the TVM RPC proxy did not start ({what}). Check that "
                "`python -c 'import tvm.rpc.proxy'` works (it needs tornado: make setup). "
                f"Its stderr ended with:\n{tail}"
            ) from None

    def _log_tail(self) -> str:
        assert self._log_path is not None and self._log is not None
        self._log.flush()
        lines = self._log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        return "\n".join(f"    {line}" for line in lines) or "    (empty)"

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            processes.disown(self._proc.pid)
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._log_dir is not None:
            processes.remove_tempdir(self._log_dir)
            self._log_dir = None
            self._log_path = None
