"""The screening progress line on stderr: files done of files found, rate and time left.

While the walk is still finding files the total is a lower bound, so the line says so and gives
no time left. On a terminal the line updates in place; otherwise (a batch job's log) one line
is written every ``log_interval`` seconds.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import Any, TextIO


def _clock(seconds: float) -> str:
    s = int(max(0, seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class ScreenProgress:
    def __init__(self, stream: TextIO | None = None, enabled: bool = True, min_interval: float = 0.2,
                 log_interval: float = 10.0) -> None:  # fmt: skip
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self.interval = min_interval if self.tty else log_interval
        self._last = 0.0
        self._t0 = time.monotonic()
        self._samples: deque[tuple[float, int]] = deque(maxlen=64)
        self._shown = False
        self._latest: dict[str, Any] | None = None

    def line(self, done: int, found: int, walk_complete: bool, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        self._samples.append((now, done))
        t_old, d_old = self._samples[0]
        rate = (done - d_old) / (now - t_old) if now - t_old > 0.5 else 0.0
        total = f"{found}" if walk_complete else f"{found}+ (still walking)"
        frac = done / found if found and walk_complete else 0.0
        width = 24
        bar = "#" * int(width * frac) + "-" * (width - int(width * frac))
        eta = _clock((found - done) / rate) if walk_complete and rate > 0 else "?"
        return (f"[{bar}] {100 * frac:5.1f}% {done}/{total} files  {rate:6.1f} files/s  "
                f"elapsed {_clock(now - self._t0)}  ETA {eta}")  # fmt: skip

    def __call__(self, event: dict[str, Any], force: bool = False) -> None:
        if not self.enabled or event.get("event") != "progress":
            return
        self._latest = event
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        text = self.line(int(event["done"]), int(event["found"]), bool(event["walk_complete"]), now)
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
        else:
            self.stream.write(text + "\n")
        self._shown = True
        self.stream.flush()

    def close(self) -> None:
        """The final state, then end the line."""
        if not self.enabled or self._latest is None:
            return
        self(self._latest, force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
        self._latest = None
