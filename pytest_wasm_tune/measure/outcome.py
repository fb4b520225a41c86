"""What became of one candidate: the statuses a trial can end in, and how a builder or runner
error message maps to one. Our builder and runner start their messages with these prefixes."""

from __future__ import annotations

from enum import StrEnum

BUILD_FAILED = "wasm build failed"
BUILD_TIMED_OUT = "wasm build timed out"
LINK_FAILED = "wasm-ld link failed"
KERNEL_FAILED = "kernel failed"
WRONG_RESULT = "wrong result"


class Outcome(StrEnum):
    """A candidate's fate. Only MEASURED times are full measurements."""

    MEASURED = "measured"
    ABANDONED = "abandoned"  # timed by its warm-up call alone: far slower than the best
    BUILD_ERROR = "build_error"
    BUILD_TIMEOUT = "build_timeout"
    LINK_ERROR = "link_error"
    RUN_ERROR = "run_error"  # trapped, hung, crashed the tab, or no session
    WRONG_RESULT = "wrong_result"

    @property
    def failed(self) -> bool:
        return self not in (Outcome.MEASURED, Outcome.ABANDONED)


def classify(build_error: str | None, run_error: str | None, abandoned: bool = False) -> Outcome:
    """The outcome of a candidate from its BuilderResult/RunnerResult error messages."""
    if build_error is not None:
        if build_error.startswith(BUILD_TIMED_OUT):
            return Outcome.BUILD_TIMEOUT
        if build_error.startswith(LINK_FAILED):
            return Outcome.LINK_ERROR
        return Outcome.BUILD_ERROR
    if run_error is not None:
        return Outcome.WRONG_RESULT if run_error.startswith(WRONG_RESULT) else Outcome.RUN_ERROR
    return Outcome.ABANDONED if abandoned else Outcome.MEASURED
