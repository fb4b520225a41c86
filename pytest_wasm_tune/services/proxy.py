"""TVM's RPC websocket proxy in a child process, bound to loopback by default."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Sequence
from types import TracebackType

from .. import defaults
from ..errors import ServiceError


class ProxyService:
    """Runs `proxy_main` for the `with` block; browsers connect to `ws_url`, clients via tracker."""

    def __init__(
        self,
        tracker_address: tuple[str, int] | None,
        allowed_origins: Sequence[str] = (),
        host: str = defaults.LOOPBACK_HOST,
        rpc_port: int = 0,
        web_port: int = 0,
    ) -> None:
        self.host = host
        self._tracker_address = tracker_address
        self._allowed_origins = tuple(allowed_origins)
        self._proc: subprocess.Popen[str] | None = None
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
        self._proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        ports = self._read_ready_line(defaults.SERVICE_START_TIMEOUT_S)
        self.rpc_port, self.web_port = int(ports["rpc_port"]), int(ports["web_port"])
        return self

    def _read_ready_line(self, timeout_s: float) -> dict:
        assert self._proc is not None and self._proc.stdout is not None
        box: list[str] = []
        reader = threading.Thread(
            target=lambda: box.append(self._proc.stdout.readline()), daemon=True
        )
        reader.start()
        reader.join(timeout_s)
        if not box or not box[0].strip():
            self.__exit__(None, None, None)
            raise ServiceError(
                f"the TVM RPC proxy did not start within {timeout_s:.0f} s. Check that "
                "`python -c 'import tvm.rpc.proxy'` works (it needs tornado: make setup)"
            )
        return json.loads(box[0])

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
