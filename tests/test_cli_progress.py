"""The command line's progress: redrawn in place on a terminal (a bare carriage return gets
through the output filter only from the progress writer), plain lines elsewhere."""

from __future__ import annotations

import io

from examiner.core.tasks import Progress, StderrProgress
from examiner.core.text_safety import EscapingWriter


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_redraws_in_place_through_the_output_filter() -> None:
    term = Terminal()
    bar = StderrProgress(EscapingWriter(term), min_interval=0.0)  # type: ignore[arg-type]
    bar(Progress(1, 4, "first"))
    bar(Progress(2, 4, "second"))
    out = term.getvalue()
    assert out.count("\r[") == 2 and "\\x0d" not in out
    assert "50.0% second" in out


def test_untrusted_text_still_cannot_move_the_cursor() -> None:
    term = Terminal()
    writer = EscapingWriter(term)
    writer.write("name\rforged\x1b[2J")
    StderrProgress(writer, min_interval=0.0)(Progress(1, 2, "file\rX.png"))  # type: ignore[arg-type]
    out = term.getvalue()
    assert "name\\x0dforged\\x1b[2J" in out
    assert "file\\x0dX.png" in out and out.count("\r") == 1


def test_plain_lines_off_a_terminal_only_every_few_seconds() -> None:
    log = io.StringIO()
    quiet = StderrProgress(log)  # a quick job prints nothing
    for i in range(5):
        quiet(Progress(i, 4, f"step {i}"))
    assert log.getvalue() == ""
    every = StderrProgress(log, plain_interval=0.0)
    every(Progress(1, 4, "step one"))
    every(Progress(4, 4, "done"))
    lines = log.getvalue().splitlines()
    assert lines == [" 25.0% step one", "100.0% done"] and "\r" not in log.getvalue()
