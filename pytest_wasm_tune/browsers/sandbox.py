"""Whether Chromium must run with `--no-sandbox`: only where its sandbox cannot work.

Chromium refuses to start as root with its sandbox on, and unprivileged its (namespace) sandbox
needs user namespaces, which some containers forbid (seccomp, `max_user_namespaces=0`).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Callable

NO_SANDBOX = "--no-sandbox"
PROBE_TIMEOUT_S = 5.0


def needs_no_sandbox(euid: int, user_namespaces: Callable[[], bool]) -> bool:
    """The decision: root, or no user namespaces for the sandbox (probed only when not root)."""
    return euid == 0 or not user_namespaces()


@functools.cache
def user_namespaces_work() -> bool:
    """Whether this process can create a user namespace (probed once with `unshare --user`)."""
    unshare = shutil.which("unshare")
    if unshare is None:  # util-linux missing: nothing to probe with; Chromium will say so
        return True
    try:
        probe = subprocess.run(
            [unshare, "--user", "true"], capture_output=True, timeout=PROBE_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def sandbox_flags() -> tuple[str, ...]:
    """`("--no-sandbox",)` where Chromium's sandbox cannot work here, else `()`."""
    return (NO_SANDBOX,) if needs_no_sandbox(os.geteuid(), user_namespaces_work) else ()
