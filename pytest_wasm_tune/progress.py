"""Terminal text: the live progress line of a tuning task and the end-of-session summary table.

The format functions are pure; LiveProgress only numbers the tasks and hands finished lines to
the `write_line` it was given (the plugin passes one that prints past pytest's capture).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tuning import ProgressEvent

SUMMARY_COLUMNS = (
    ("task", "task"),
    ("browser", "browser"),
    ("default GFLOPS", "default_gflops"),
    ("best GFLOPS", "best_gflops"),
    ("IQR %", "best_iqr_pct"),
    ("speedup", "speedup"),
    ("trials", "trials"),
    ("errors", "errors"),
)


def _number(value: float | None, width: int = 7, suffix: str = "") -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}.2f}{suffix}"


def task_prefix(index: int, total: int) -> str:
    """`[Task  3/12]`: the index padded to the width of the total."""
    total = max(total, index)
    return f"[Task {index:{len(str(total))}d}/{total}]"


def format_progress(
    index: int,
    total: int,
    current_gflops: float | None,
    best_gflops: float | None,
    trials_done: int,
    trials_total: int,
    elapsed_s: float,
) -> str:
    """`[Task  3/12]  Current/Best:    4.33/   4.71 GFLOPS | Progress: (40/64) | 12.30 s`"""
    return (
        f"{task_prefix(index, total)}  Current/Best: {_number(current_gflops)}/"
        f"{_number(best_gflops)} GFLOPS | Progress: ({trials_done}/{trials_total}) | "
        f"{elapsed_s:.2f} s"
    )


def format_event(index: int, total: int, event: ProgressEvent) -> str:
    return format_progress(
        index,
        total,
        event.current_gflops,
        event.best_gflops,
        event.trials_done,
        event.trials_total,
        event.elapsed_s,
    )


def format_start(index: int, total: int, task: str, browser: str, trials: int) -> str:
    what = f"tuning {trials} trials" if trials else "checking the default schedule"
    return f"{task_prefix(index, total)}  {task} in {browser}: {what}"


def _speed(record: Mapping[str, Any], which: str, gflops_unit: str = " GFLOPS") -> str:
    """`12.30 GFLOPS`, or the time (`15.20 us`) for a task without arithmetic (a transpose)."""
    seconds = record.get(f"{which}_s")
    if record.get("flops") == 0 and seconds is not None:
        return f"{seconds * 1e6:.2f} us"
    return f"{_number(record.get(f'{which}_gflops'), 0)}{gflops_unit}"


def _tuned_figures(record: Mapping[str, Any]) -> str:
    """The best and the default, or the default alone when it was kept."""
    iqr = record.get("best_iqr_pct")
    spread = f" (IQR {iqr:.1f} %)" if iqr is not None else ""
    if record.get("default_kept"):
        return f"default kept {_speed(record, 'default')}{spread}, no tuned schedule beat it"
    best, default = _speed(record, "best"), _speed(record, "default", gflops_unit="")
    speedup = _number(record.get("speedup"), 0, "x")
    return f"best {best}{spread} ({speedup} over the default {default})"


def format_done(index: int, total: int, record: Mapping[str, Any]) -> str:
    """One line on a finished task, from its result record (see artifacts.results)."""
    numerics = "correct" if record.get("correct") else "WRONG or not verified"
    if record.get("mode") == "check":
        body = f"default schedule {_speed(record, 'default')}, {numerics}"
    else:
        body = (
            f"{_tuned_figures(record)}, {numerics}, "
            f"{record.get('trials', 0)} trials, {record.get('errors', 0)} errors"
        )
    line = f"{task_prefix(index, total)}  Done: {body} | {record.get('wall_s', 0.0):.2f} s"
    messages = list(record.get("error_messages") or ())
    if record.get("default_error"):
        messages.insert(0, f"default schedule: {record['default_error']}")
    if messages:
        first = " ".join(str(messages[0]).split())
        line += f"\n{task_prefix(index, total)}  first error: {first[:300]}"
    return line


def _cell(key: str, record: Mapping[str, Any]) -> str:
    value = record.get(key)
    if key == "speedup" and record.get("default_kept"):
        return "default kept"
    if value is None:
        return "-"
    if key == "speedup":
        return f"{value:.2f}x"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def format_summary(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The summary table: task, browser, default/best GFLOPS, speedup, trials, errors."""
    rows = [[_cell(key, record) for _, key in SUMMARY_COLUMNS] for record in records]
    headers = [title for title, _ in SUMMARY_COLUMNS]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        text = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(text).rstrip()

    return [line(headers), line(["-" * width for width in widths]), *map(line, rows)]


class LiveProgress:
    """Numbers the tasks of a session and writes their progress lines."""

    def __init__(self, write_line: Callable[[str], None], total: int = 0) -> None:
        self.write_line = write_line
        self.total = total
        self.started = 0

    def start(self, task: str, browser: str, trials: int) -> TaskProgress:
        """Number the next task; announce it if it tunes (a check is one line when done)."""
        self.started += 1
        if trials:
            self.write_line(format_start(self.started, self.total, task, browser, trials))
        return TaskProgress(self, self.started)


class TaskProgress:
    """The progress writer of one task: pass it to tune() as `progress`."""

    def __init__(self, live: LiveProgress, index: int) -> None:
        self._live = live
        self.index = index

    def __call__(self, event: ProgressEvent) -> None:
        self._live.write_line(format_event(self.index, self._live.total, event))

    def done(self, record: Mapping[str, Any]) -> None:
        self._live.write_line(format_done(self.index, self._live.total, record))
