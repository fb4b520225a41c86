"""pytest entry point (`pytest11`): options, fixtures and reporting of pytest-wasm-tune."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "wasm_tune: a tuning task measured in browsers")
