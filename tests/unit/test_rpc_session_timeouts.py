import threading
import time

import pytest

from pytest_wasm_tune.errors import RemoteCallError
from pytest_wasm_tune.rpc_session import (
    BrowserSession,
    Measurement,
    call_with_timeout,
    stage_reference,
)


def test_returns_the_value() -> None:
    assert call_with_timeout(lambda: 42, 5, lambda: None, "answer") == 42


def test_errors_are_wrapped_with_what_failed() -> None:
    def boom() -> None:
        raise ValueError("kaputt")

    with pytest.raises(RemoteCallError, match="loading failed: kaputt"):
        call_with_timeout(boom, 5, lambda: None, "loading")


def test_a_hang_calls_the_unblocker_then_raises() -> None:
    release = threading.Event()
    unblocked: list[bool] = []

    def unblock() -> None:
        unblocked.append(True)
        release.set()

    started = time.monotonic()
    with pytest.raises(RemoteCallError, match="measuring did not return within 0.2 s"):
        call_with_timeout(lambda: release.wait(30), 0.2, unblock, "measuring")
    assert unblocked == [True]
    assert time.monotonic() - started < 5


def test_measurement_statistics() -> None:
    m = Measurement(4, (1.0, 3.0, 2.0))
    assert m.median_s == 2.0
    assert m.spread == pytest.approx(1.0)


def test_stage_reference_format() -> None:
    assert stage_reference("ab" * 32) == bytearray(b"wasm-tune-stage:" + b"ab" * 32)


def test_measurement_from_the_page_reply() -> None:
    reply = {"ok": True, "number": 2, "times_s": [0.016, 0.017], "warmup_s": [0.032, 0.031]}
    older = Measurement.from_reply(reply)  # a page from before restarts were reported
    assert (older.restarts, older.warmup_number, older.abandoned) == (0, (1, 1), False)
    assert (older.warmup_ms, older.untimed_ms) == (0.0, 0.0)
    reply |= {"restarts": 1, "warmup_number": [1, 3], "warmup_stop": "stable"}
    reply |= {"warmup_ms": 125.5, "untimed_ms": 38.0}
    measured = Measurement.from_reply(reply)
    assert (measured.restarts, measured.warmup_calls, measured.warmup_stop) == (1, 4, "stable")
    assert (measured.warmup_ms, measured.untimed_ms) == (125.5, 38.0)
    assert measured.median_s == pytest.approx(0.0165)


class _Remote:
    """Stands in for TVM's RPC session object: `wasm_tune.*` page functions by name."""

    def __init__(self, functions: dict) -> None:
        self.functions = functions
        self.called: list[str] = []

    def get_function(self, name: str):
        self.called.append(name)
        return self.functions[name]


def _session_with(remote: _Remote, on_hang) -> BrowserSession:
    session = BrowserSession(("127.0.0.1", 9), "key", b"", on_hang, call_timeout_s=0.2)
    session.remote = remote
    return session


def test_exit_asks_the_page_to_end_the_session() -> None:
    remote = _Remote({"wasm_tune.end_session": lambda: '{"ok": true}'})
    session = _session_with(remote, lambda: None)
    session.__exit__(None, None, None)
    assert remote.called == ["wasm_tune.end_session"] and session.remote is None


def test_exit_after_a_hang_does_not_reload_the_page_twice() -> None:
    release = threading.Event()
    reloads: list[bool] = []

    def reload() -> None:
        reloads.append(True)
        release.set()

    remote = _Remote({"wasm_tune.info": lambda: release.wait(30)})
    session = _session_with(remote, reload)
    with pytest.raises(RemoteCallError, match="did not return"):
        session.info()
    session.__exit__(RemoteCallError, None, None)
    assert reloads == [True]
    assert remote.called == ["wasm_tune.info"], "the reloaded page has ended the session"
