"""Services on demand under pytest-xdist: the controller starts them only when a worker asks.

The controller cannot know whether a suite has tuning tasks (its workers collect), and must
hand out `workerinput` before they do. So it hands out a ticket instead: the address and key
of a broker listening on an abstract unix socket (no file, no port). The first worker that
needs services asks through it; the controller then starts them (`SharedServices`) and every
worker gets the same addresses. A suite without tuning tasks never asks: no TVM import, no
tracker, no proxy.

    broker = ServiceBroker(shared)            # controller
    workerinput[KEY] = broker.ticket()
    payload = request_services(ticket)        # worker: the addresses (or {"error": ...})
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from multiprocessing.connection import Client, Listener
from typing import Any, Protocol

TICKET_KEY = "broker"
REQUEST = "services"


class PayloadSource(Protocol):
    def payload(self) -> dict[str, Any]: ...


class ServiceBroker:
    """Answers each worker's request with `source.payload()` (computed once, under a lock)."""

    def __init__(self, source: PayloadSource) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._authkey = secrets.token_bytes(16)
        self._address = f"\0wasm-tune-broker-{os.getpid()}-{secrets.token_hex(4)}"
        self._listener = Listener(self._address, family="AF_UNIX", authkey=self._authkey)
        self._thread = threading.Thread(target=self._serve, name="wasm-tune-broker", daemon=True)
        self._thread.start()

    def ticket(self) -> dict[str, Any]:
        """What a worker needs to ask (picklable, for `workerinput`)."""
        return {TICKET_KEY: self._address, "authkey": self._authkey.hex()}

    def _serve(self) -> None:
        while True:
            try:
                connection = self._listener.accept()
            except OSError:  # closed
                return
            except Exception:  # a client that failed authentication
                continue
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: Any) -> None:
        with connection, contextlib.suppress(EOFError, OSError):
            if connection.recv() == REQUEST:
                with self._lock:
                    payload = self._source.payload()
                connection.send(payload)

    def close(self) -> None:
        self._listener.close()


def request_services(ticket: dict[str, Any]) -> dict[str, Any]:
    """The controller's payload for a ticket (blocks while the controller starts services)."""
    if TICKET_KEY not in ticket:  # already a payload
        return ticket
    try:
        with Client(ticket[TICKET_KEY], authkey=bytes.fromhex(ticket["authkey"])) as connection:
            connection.send(REQUEST)
            return dict(connection.recv())
    except (OSError, EOFError) as err:
        return {"error": f"the controller's service broker did not answer: {err}"}
