"""TVM's RPC tracker on a loopback port."""

from __future__ import annotations

import logging
from types import TracebackType

from .. import defaults, processes
from ..errors import ServiceError
from .ports import wait_until


class TrackerService:
    """Runs `tvm.rpc.tracker.Tracker` (in its own process) for the `with` block."""

    def __init__(
        self, host: str = defaults.LOOPBACK_HOST, port: int = 9190, port_end: int = 9290
    ) -> None:
        self.host = host
        self._port_range = (port, port_end)
        self._tracker = None
        self.port = 0

    def __enter__(self) -> TrackerService:
        from tvm.rpc.tracker import Tracker

        logging.getLogger("RPCTracker").setLevel(logging.WARNING)
        try:
            self._tracker = Tracker(self.host, *self._port_range, silent=True)
        except (OSError, ValueError) as err:
            raise ServiceError(f"TVM RPC tracker could not bind on {self.host}: {err}") from err
        self.port = int(self._tracker.port)
        worker = self._worker_pid()
        if worker is not None:
            processes.adopt(worker)
        wait_until(
            self._answers, defaults.SERVICE_START_TIMEOUT_S, f"TVM tracker on port {self.port}"
        )
        return self

    def _worker_pid(self) -> int | None:
        """The pid of the process TVM runs the tracker in (its PopenWorker's subprocess)."""
        popen = getattr(getattr(self._tracker, "proc", None), "_proc", None)
        return getattr(popen, "pid", None)

    def _answers(self) -> bool:
        try:
            self.summary()
            return True
        except (OSError, RuntimeError):
            return False

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def summary(self) -> dict:
        from tvm import rpc

        return rpc.connect_tracker(self.host, self.port).summary()

    def free_keys(self) -> dict[str, int]:
        """Registered server keys → number of free servers."""
        return tracker_free_keys(self.address)

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._tracker is not None:
            worker = self._worker_pid()
            self._tracker.terminate()
            if worker is not None:
                processes.disown(worker)
            self._tracker = None


def tracker_free_keys(address: tuple[str, int]) -> dict[str, int]:
    """Registered server keys → number of free servers (empty if the tracker does not answer)."""
    from tvm import rpc

    try:
        queue = rpc.connect_tracker(*address).summary().get("queue_info", {})
    except (OSError, RuntimeError):
        return {}
    return {key: int(info.get("free", 0)) for key, info in queue.items()}
