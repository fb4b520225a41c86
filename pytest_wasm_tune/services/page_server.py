"""The HTTP server browsers load the measurement page and staged candidate modules from.

It serves a fixed map of page assets and, under `/stage/`, only files named `<sha256>.wasm`
that lie directly in the staging directory (no listing, no traversal, no symlinks out). Every
response is cross-origin isolated (COOP/COEP), which gives `performance.now()` 5 µs resolution.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from .. import defaults

STAGE_PREFIX = "/stage/"
STAGED_NAME = re.compile(r"[0-9a-f]{64}\.wasm")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
}
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def resolve_request(path: str, assets: Mapping[str, Path], stage_dir: Path | None) -> Path | None:
    """The file a GET of `path` serves, or None (→ 404). Pure, so it is tested on its own."""
    raw_path = urllib.parse.urlsplit(path).path
    if raw_path in assets:
        return assets[raw_path]
    if stage_dir is None or not raw_path.startswith(STAGE_PREFIX):
        return None
    name = raw_path[len(STAGE_PREFIX) :]
    if not STAGED_NAME.fullmatch(name):
        return None
    candidate = stage_dir / name
    if candidate.is_symlink() or not candidate.is_file():
        return None
    if candidate.resolve().parent != stage_dir.resolve():
        return None
    return candidate


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._serve(with_body=True)

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def _serve(self, with_body: bool) -> None:
        target = resolve_request(self.path, self.server.assets, self.server.stage_dir)
        try:
            body = target.read_bytes() if target is not None else None
        except OSError:
            body = None
        if body is None:
            self.send_response(HTTPStatus.NOT_FOUND)
            self._headers("text/plain; charset=utf-8", 10)
            if with_body:
                self.wfile.write(b"not found\n")
            return
        self.send_response(HTTPStatus.OK)
        self._headers(CONTENT_TYPES.get(target.suffix, "application/octet-stream"), len(body))
        if with_body:
            self.wfile.write(body)

    def _headers(self, content_type: str, length: int) -> None:
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        for name, value in ISOLATION_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a tuning run requests thousands of modules."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    assets: Mapping[str, Path]
    stage_dir: Path | None


class PageServer:
    """Serves `assets` (URL path → file) and the staging directory for the `with` block."""

    def __init__(
        self,
        assets: Mapping[str, Path],
        stage_dir: Path | None = None,
        host: str = defaults.LOOPBACK_HOST,
        port: int = 0,
    ) -> None:
        self._assets = dict(assets)
        self._stage_dir = stage_dir
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def origin(self) -> str:
        assert self._server is not None, "PageServer is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def page_url(self, key: str, proxy_ws_url: str) -> str:
        query = urllib.parse.urlencode({"key": key, "proxy": proxy_ws_url})
        return f"{self.origin}/?{query}"

    def __enter__(self) -> PageServer:
        server = _Server(self._address, _Handler)
        server.assets = self._assets
        server.stage_dir = self._stage_dir
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="wasm-tune-page", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
