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
    """The CLI's progress: on a terminal one line updated in place; elsewhere (a log file, a
    pipe) a plain line every ``plain_interval`` seconds once the work has run that long, so
    batch jobs see that they advance without a line per step. ``force`` draws the bar anyway."""

    def __init__(self, stream: TextIO | None = None, force: bool = False, min_interval: float = 0.1,
                 plain_interval: float = 5.0) -> None:  # fmt: skip
        self.stream = stream or sys.stderr
        self.enabled = force or self.stream.isatty()
        self.min_interval = min_interval
        self.plain_interval = plain_interval
        self._last = 0.0
        self._started = time.monotonic()
        self._plain_shown = False

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if not self.enabled:
            self._plain(p, now)
            return
        if now - self._last < self.min_interval and p.fraction < 1.0:
            return
        self._last = now
        width = 30
        filled = int(width * p.fraction)
        bar = "#" * filled + "-" * (width - filled)
        self._line_start()
        self.stream.write(f"[{bar}] {100 * p.fraction:5.1f}% {p.message[:60]:<60}")
        if p.fraction >= 1.0:
            self.stream.write("\n")
        self.stream.flush()

    def _line_start(self) -> None:
        # The output filter escapes every control character of the text it is given; the bare
        # carriage return that redraws the bar goes through its own door.
        cr = getattr(self.stream, "carriage_return", None)
        if callable(cr):
            cr()
        else:
            self.stream.write("\r")

    def _plain(self, p: Progress, now: float) -> None:
        done = p.fraction >= 1.0
        due = now - max(self._last, self._started) >= self.plain_interval
        if not (due or (done and self._plain_shown)):
            return
        self._last = now
        self._plain_shown = True
        self.stream.write(f"{100 * p.fraction:5.1f}% {p.message[:80]}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
