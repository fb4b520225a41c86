"""Missing tools produce one clear message that names the fix."""

from pathlib import Path

import pytest

from pytest_wasm_tune.browsers.chromium import check_chromium
from pytest_wasm_tune.errors import BrowserError, ToolchainError
from pytest_wasm_tune.toolchain import tools


def test_missing_emcc_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    tools.find_emscripten.cache_clear()
    try:
        with pytest.raises(ToolchainError, match=r"emcc .* not found .*apt-get install emscripten"):
            tools.find_emscripten()
    finally:
        tools.find_emscripten.cache_clear()


def test_missing_chromium_names_the_packages(tmp_path: Path) -> None:
    with pytest.raises(BrowserError, match=r"Chromium was not found .*chromium chromium-driver"):
        check_chromium(tmp_path / "chromium", tmp_path / "chromedriver")


def test_emcc_env_adds_debian_node_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NODE_PATH", "/somewhere")
    env = tools.Emscripten(Path("/usr/bin/emcc"), "3.1.6").env()
    paths = env["NODE_PATH"].split(":")
    assert paths[0] == "/somewhere"
    if tools.DEBIAN_NODE_MODULES.is_dir():
        assert str(tools.DEBIAN_NODE_MODULES) in paths
