import threading
import time

import pytest

from pytest_wasm_tune.errors import RemoteCallError
from pytest_wasm_tune.rpc_session import Measurement, call_with_timeout, stage_reference


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
    reply |= {"restarts": 1, "warmup_number": [1, 3], "warmup_stop": "stable"}
    measured = Measurement.from_reply(reply)
    assert (measured.restarts, measured.warmup_calls, measured.warmup_stop) == (1, 4, "stable")
    assert measured.median_s == pytest.approx(0.0165)
