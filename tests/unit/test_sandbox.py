"""When Chromium gets `--no-sandbox`."""

import os

import pytest

from pytest_wasm_tune import defaults
from pytest_wasm_tune.browsers import sandbox


def _fail() -> bool:
    raise AssertionError("root must not probe user namespaces")


@pytest.mark.parametrize(
    ("euid", "user_namespaces", "expected"),
    [(0, _fail, True), (1000, lambda: True, False), (1000, lambda: False, True)],
)
def test_no_sandbox_only_for_root_or_without_user_namespaces(
    euid, user_namespaces, expected
) -> None:
    assert sandbox.needs_no_sandbox(euid, user_namespaces) is expected


def test_default_flags_keep_the_sandbox() -> None:
    assert sandbox.NO_SANDBOX not in defaults.CHROMIUM_FLAGS


def test_sandbox_flags_follow_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(sandbox, "user_namespaces_work", lambda: True)
    assert sandbox.sandbox_flags() == ()
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert sandbox.sandbox_flags() == (sandbox.NO_SANDBOX,)


def test_probe_without_unshare_leaves_the_sandbox_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    sandbox.user_namespaces_work.cache_clear()
    try:
        assert sandbox.user_namespaces_work() is True
    finally:
        sandbox.user_namespaces_work.cache_clear()
