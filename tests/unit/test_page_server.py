import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pytest_wasm_tune.services.page_server import PageServer, resolve_request

SHA = "a" * 64


@pytest.fixture
def site(tmp_path: Path) -> tuple[dict[str, Path], Path]:
    page = tmp_path / "page"
    page.mkdir()
    (page / "index.html").write_text("<html>page</html>")
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / f"{SHA}.wasm").write_bytes(b"\0asm")
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", stage / f"{'b' * 64}.wasm")
    return {"/": page / "index.html", "/index.html": page / "index.html"}, stage


def test_serves_assets_and_staged_modules(site: tuple[dict[str, Path], Path]) -> None:
    assets, stage = site
    assert resolve_request("/", assets, stage) == assets["/"]
    assert resolve_request("/?key=k&proxy=ws://x", assets, stage) == assets["/"]
    assert resolve_request(f"/stage/{SHA}.wasm", assets, stage) == stage / f"{SHA}.wasm"


@pytest.mark.parametrize(
    "path",
    [
        "/stage/../secret.txt",
        "/stage/..%2Fsecret.txt",
        "/stage/%2e%2e/secret.txt",
        "/../secret.txt",
        "/stage/" + "/etc/passwd",
        "//etc/passwd",
        "/stage/",
        f"/stage/{SHA.upper()}.wasm",
        f"/stage/{SHA}.wasm/",
        f"/stage/{'b' * 64}.wasm",  # a symlink pointing outside
        f"/stage/{'c' * 64}.wasm",  # absent
        "/secret.txt",
    ],
)
def test_refuses_everything_else(site: tuple[dict[str, Path], Path], path: str) -> None:
    assets, stage = site
    assert resolve_request(path, assets, stage) is None


def test_http_responses_are_cross_origin_isolated(site: tuple[dict[str, Path], Path]) -> None:
    assets, stage = site
    with PageServer(assets, stage) as server:
        assert server.origin.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.origin + "/") as response:
            assert response.read() == b"<html>page</html>"
            assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
            assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
        with urllib.request.urlopen(f"{server.origin}/stage/{SHA}.wasm") as response:
            assert response.headers["Content-Type"] == "application/wasm"
            assert response.read() == b"\0asm"
        for bad in ("/stage/..%2F..%2Fsecret.txt", "/stage/", f"/stage/{'b' * 64}.wasm"):
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(server.origin + bad)
            assert info.value.code == 404
        url = server.page_url("my key", "ws://127.0.0.1:1/ws")
        assert "key=my+key" in url and "proxy=ws%3A%2F%2F127.0.0.1%3A1%2Fws" in url
