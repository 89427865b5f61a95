"""Cancellable long-running work.

A task is a plain function that receives a :class:`TaskContext`; it calls ``ctx.progress``
between units of work, which also raises :class:`~examiner.errors.Cancelled` once the user has
asked to stop. The GUI runs the same function in a worker thread (forwarding progress through
signals); the CLI runs it in the foreground with a progress line on stderr.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from examiner.errors import Cancelled


@dataclass(frozen=True)
class Progress:
    done: float
    total: float
    message: str = ""

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, max(0.0, self.done / self.total))


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Thread-safe flag that a worker polls between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


@dataclass
class TaskContext:
    """What a task gets: where to report progress and how to learn it should stop."""

    cancel: CancelToken = field(default_factory=CancelToken)
    on_progress: ProgressCallback | None = None

    def progress(self, done: float, total: float, message: str = "") -> None:
        self.cancel.raise_if_cancelled()
        if self.on_progress is not None:
            self.on_progress(Progress(done, total, message))

    def check(self) -> None:
        self.cancel.raise_if_cancelled()

    def sub(self, start: float, stop: float, total: float) -> TaskContext:
        """A context whose 0..1 progress maps onto [start, stop] of ``total`` in this one."""

        def forward(p: Progress) -> None:
            if self.on_progress is not None:
                span = stop - start
                self.on_progress(Progress(start + span * p.fraction, total, p.message))

        return TaskContext(cancel=self.cancel, on_progress=forward)


def silent() -> TaskContext:
    return TaskContext()


class StderrProgress:
    """A single updating progress line for the CLI; quiet when stderr is not a terminal
    unless ``force`` is set (batch jobs still want to see that they advance)."""

    def __init__(self, stream: TextIO | None = None, force: bool = False, min_interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.enabled = force or self.stream.isatty()
        self.min_interval = min_interval
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < self.min_interval and p.fraction < 1.0:
            return
        self._last = now
        width = 30
        filled = int(width * p.fraction)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r[{bar}] {100 * p.fraction:5.1f}% {p.message[:60]:<60}")
        if p.fraction >= 1.0:
            self.stream.write("\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
