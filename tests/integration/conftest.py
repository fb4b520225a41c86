"""Shared real stack for integration tests: runtime, tracker, page server, proxy, Chromium."""

from collections.abc import Iterator

import pytest

from pytest_wasm_tune.local_stack import LocalStack


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    with LocalStack() as stack:
        yield stack
