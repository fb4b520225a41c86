"""Process entry point running TVM's RPC proxy with a loopback-bound, origin-checked websocket.

TVM's `Proxy` listens for websockets on every interface and leaves the origin check to tornado,
which accepts any client that sends no Origin and any Origin matching the Host header (so a page
on a rebound DNS name passes). This runs TVM's own `ProxyServerHandler` (the pairing and tracker
logic) but serves its `/ws` endpoint on the requested host only and accepts exactly the page
origins it is told to, nothing else. Its TCP sockets (clients, the tracker) send small writes
at once (no_delay.py). It prints one JSON line with its ports when ready.

    python -m pytest_wasm_tune.services.proxy_main --host 127.0.0.1 --tracker 127.0.0.1:9190 \
        --allow-origin http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import sys
from collections.abc import Iterable

from .no_delay import NoDelayListener, no_delay


def normalize_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(origin: str | None, allowed: Iterable[str]) -> bool:
    """True only for an Origin header naming one of the `allowed` origins (None is refused)."""
    if origin is None:
        return False
    return normalize_origin(origin) in {normalize_origin(item) for item in allowed}


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pytest_wasm_tune.services.proxy_main")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="RPC (TCP) port for clients; 0 = free")
    parser.add_argument("--web-port", type=int, default=0, help="websocket port; 0 = free")
    parser.add_argument("--tracker", default="", help="host:port of the TVM tracker")
    parser.add_argument("--allow-origin", action="append", default=[], help="page origin to accept")
    parser.add_argument("--timeout-s", type=float, default=600.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.set_event_loop(asyncio.new_event_loop())

    import tornado.httpserver
    import tornado.netutil
    import tornado.web
    from tvm.rpc import proxy

    allowed = frozenset(normalize_origin(origin) for origin in args.allow_origin)

    class OriginCheckedWebSocket(proxy.WebSocketHandler):
        def prepare(self) -> None:
            # before tornado's own check, which skips Origin-less and Origin == Host requests
            origin = self.request.headers.get("Origin")
            if not origin_allowed(origin, allowed):
                logging.warning("proxy: refused a websocket from origin %r", origin)
                raise tornado.web.HTTPError(403, "origin not allowed")

        def check_origin(self, origin: str) -> bool:
            return origin_allowed(origin, allowed)

    class NoDelayServerHandler(proxy.ProxyServerHandler):
        def _update_tracker(self, period_update: bool = False) -> None:
            super()._update_tracker(period_update)
            if self._tracker_conn is not None:
                no_delay(self._tracker_conn)

    rpc_sock = NoDelayListener(socket.AF_INET, socket.SOCK_STREAM)
    rpc_sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    rpc_sock.bind((args.host, args.port))
    rpc_sock.listen(16)
    rpc_port = rpc_sock.getsockname()[1]
    tracker_addr = None
    if args.tracker:
        tracker_host, tracker_port = args.tracker.rsplit(":", 1)
        tracker_addr = (tracker_host, int(tracker_port))
    handler = NoDelayServerHandler(
        rpc_sock, rpc_port, 0, args.timeout_s, args.timeout_s, tracker_addr
    )
    web_sockets = tornado.netutil.bind_sockets(args.web_port, address=args.host)
    server = tornado.httpserver.HTTPServer(
        tornado.web.Application([(r"/ws", OriginCheckedWebSocket)]),
        max_buffer_size=1 << 30,
    )
    server.add_sockets(web_sockets)
    web_port = web_sockets[0].getsockname()[1]
    print(json.dumps({"rpc_port": rpc_port, "web_port": web_port}), flush=True)
    handler.run()


if __name__ == "__main__":
    main()
