"""Tracker and proxy as real processes on loopback."""

import base64
import http.client
import os

import pytest

from pytest_wasm_tune.services import ProxyService, TrackerService
from pytest_wasm_tune.services.ports import port_open

pytestmark = pytest.mark.integration


def _upgrade_status(port: int, origin: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(
        "GET",
        "/ws",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
            "Sec-WebSocket-Version": "13",
            "Origin": origin,
        },
    )
    status = conn.getresponse().status
    conn.close()
    return status


def test_tracker_and_proxy_start_on_loopback_and_stop_cleanly() -> None:
    with TrackerService() as tracker:
        assert tracker.host == "127.0.0.1"
        assert tracker.free_keys() == {}
        with ProxyService(tracker.address, allowed_origins=["http://127.0.0.1:1234"]) as proxy:
            assert port_open("127.0.0.1", proxy.web_port)
            assert port_open("127.0.0.1", proxy.rpc_port)
            assert _upgrade_status(proxy.web_port, "http://127.0.0.1:1234") == 101
            assert _upgrade_status(proxy.web_port, "http://evil.example:1234") == 403
            ports = (proxy.web_port, proxy.rpc_port)
        assert not any(port_open("127.0.0.1", port) for port in ports)
    assert not port_open("127.0.0.1", tracker.port)
