"""chromedriver's TMPDIR lies in Chromium's profile unless the singleton socket would not fit."""

import os

from pytest_wasm_tune.browsers.chromium import driver_env


def test_the_driver_puts_its_temporary_files_in_the_profile() -> None:
    env = driver_env("/tmp/wasm-tune-chromium-4242-abcdefgh")
    assert env is not None
    assert env["TMPDIR"] == "/tmp/wasm-tune-chromium-4242-abcdefgh"
    assert env["PATH"] == os.environ["PATH"]


def test_a_profile_too_deep_for_the_socket_keeps_our_tmpdir() -> None:
    # 62 characters + /org.chromium.Chromium.XXXXXX/SingletonSocket = 107: fits, 63 does not
    assert driver_env("/" + "p" * 61) is not None
    assert driver_env("/" + "p" * 62) is None
