"""Tracker and proxy as real processes on loopback."""

import base64
import http.client
import os
import socket

import pytest

from pytest_wasm_tune.errors import ServiceError
from pytest_wasm_tune.services import ProxyService, TrackerService
from pytest_wasm_tune.services.ports import port_open

pytestmark = pytest.mark.integration

PAGE_ORIGIN = "http://127.0.0.1:1234"


def _upgrade_status(port: int, origin: str | None, **extra: str) -> int:
    """Status of a websocket upgrade request; `extra` headers replace defaults (e.g. Host)."""
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
    }
    if origin is not None:
        headers["Origin"] = origin
    headers.update({name.replace("_", "-"): value for name, value in extra.items()})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.putrequest("GET", "/ws", skip_host="Host" in headers)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.endheaders()
    status = conn.getresponse().status
    conn.close()
    return status


def test_tracker_and_proxy_start_on_loopback_and_stop_cleanly() -> None:
    with TrackerService() as tracker:
        assert tracker.host == "127.0.0.1"
        assert tracker.free_keys() == {}
        with ProxyService(tracker.address, allowed_origins=[PAGE_ORIGIN]) as proxy:
            assert port_open("127.0.0.1", proxy.web_port)
            assert port_open("127.0.0.1", proxy.rpc_port)
            assert _upgrade_status(proxy.web_port, PAGE_ORIGIN) == 101
            ports = (proxy.web_port, proxy.rpc_port)
        assert not any(port_open("127.0.0.1", port) for port in ports)
    assert not port_open("127.0.0.1", tracker.port)


def test_proxy_accepts_only_the_page_origin() -> None:
    with ProxyService(None, allowed_origins=[PAGE_ORIGIN]) as proxy:
        port = proxy.web_port
        rebound = f"evil.example:{port}"  # DNS rebinding: Host and Origin agree on a foreign name
        assert _upgrade_status(port, PAGE_ORIGIN + "/") == 101
        assert _upgrade_status(port, "http://evil.example:1234") == 403
        assert _upgrade_status(port, f"http://{rebound}", Host=rebound) == 403
        assert _upgrade_status(port, f"http://127.0.0.1:{port}") == 403  # Origin == Host
        assert _upgrade_status(port, None) == 403
        assert _upgrade_status(port, "null") == 403
        assert _upgrade_status(port, "http://evil.example", Sec_Fetch_Site="same-origin") == 403
        assert proxy.log_path is not None
        assert "refused a websocket from origin None" in proxy.log_path.read_text()


def test_proxy_that_cannot_start_quotes_its_log() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with (
            pytest.raises(ServiceError, match="exited with code 1") as caught,
            ProxyService(None, web_port=taken.getsockname()[1]),
        ):
            pass
    assert "Address already in use" in str(caught.value)
