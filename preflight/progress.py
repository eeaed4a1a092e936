"""Progress on a terminal, shared by the three commands: a bar for each long step (analysing a
clip, encoding, a batch of jobs, uploading, waiting), drawn on stderr only when stderr is a
terminal, so nothing of it reaches a pipe, a log, a CI job or a JSON consumer."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator

# One update: (key, what is being done, done so far, total). The key tells steps apart: one bar each.
Update = Callable[[str, str, float, float], None]

# Steps shorter than this (in their own unit: seconds of video, jobs, bytes) need no bar.
_MIN_TOTAL = {"seconds": 5.0, "jobs": 2, "bytes": 5_000_000}


def _nothing(key: str, label: str, done: float, total: float) -> None:
    return None


@contextlib.contextmanager
def terminal_progress(enabled: bool = True) -> Iterator[Update]:
    """An ``update(key, label, done, total)`` that draws bars while the block runs; a no-op when
    ``enabled`` is false or stderr is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    # Native model code writes to fd 2 while it runs and that output is held back; the bars
    # draw on their own duplicate of the terminal so they stay visible.
    terminal = os.fdopen(os.dup(2), "w", buffering=1)
    bars = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                    TimeRemainingColumn(), console=Console(file=terminal), transient=True)
    tasks: dict[str, int] = {}

    def update(key: str, label: str, done: float, total: float) -> None:
        if key not in tasks:
            tasks[key] = bars.add_task(label, total=total or None)
        bars.update(tasks[key], completed=done, total=total or None, description=label)

    try:
        with bars:
            yield update
    finally:
        terminal.close()


def analysis_progress(update: Update, verb: str = "analysing") -> Callable[[str, float, float], None]:
    """The ``progress(path, done_seconds, total_seconds)`` callback ``preflight.check`` takes,
    drawing on ``update``; clips under 5 s are done before a bar would help."""
    def progress(path: str, done: float, total: float) -> None:
        if total >= _MIN_TOTAL["seconds"]:
            update(f"{verb}:{path}", f"{verb} {os.path.basename(path)}", done, total)
    return progress


def worth_a_bar(unit: str, total: float) -> bool:
    return total >= _MIN_TOTAL[unit]
