"""Long plain text in the report, laid out in time linear in its length.

A reportlab Paragraph parses its text as markup and re-wraps everything left of it at every page
break, so one paragraph of many lines costs time that grows with the square of its length. Text
that is shown literally needs neither: :class:`PlainText` wraps each line once (by the font's
glyph widths, breaking over-long words), and a page break only moves an index into the shared
list of wrapped lines.
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable

from examiner.report.pdf_text import MAX_FIELD_CHARS, clean_text


def _wrap_line(line: str, font: str, size: float, max_w: float) -> list[str]:
    if not line:
        return [""]
    out: list[str] = []
    for piece in simpleSplit(line, font, size, max_w) or [""]:
        if pdfmetrics.stringWidth(piece, font, size) <= max_w:
            out.append(piece)
            continue
        start = 0
        width = 0.0
        for i, ch in enumerate(piece):  # a word wider than the column: break it anywhere
            cw = pdfmetrics.stringWidth(ch, font, size)
            if width + cw > max_w and i > start:
                out.append(piece[start:i])
                start, width = i, 0.0
            width += cw
        out.append(piece[start:])
    return out


class _Lines:
    """Wrapped lines shared by every part of one text after page splits."""

    def __init__(self, text: str, style: ParagraphStyle) -> None:
        self.text = text
        self.style = style
        self.width: float | None = None
        self.lines: list[str] = []

    def wrapped(self, max_w: float) -> list[str]:
        if self.width != max_w:
            st = self.style
            self.lines = [w for line in self.text.split("\n") for w in _wrap_line(line, st.fontName, st.fontSize, max_w)]
            self.width = max_w
        return self.lines


class PlainText(Flowable):
    """Literal text (already cleaned of control characters) in a paragraph style's font."""

    def __init__(self, text: str, style: ParagraphStyle, _shared: _Lines | None = None, _start: int = 0,
                 _end: int | None = None) -> None:  # fmt: skip
        super().__init__()
        self.style = style
        self._shared = _shared or _Lines(text, style)
        self._start = _start
        self._end = _end
        self._avail_w = 0.0

    def _span(self) -> tuple[int, int]:
        lines = self._shared.wrapped(self._avail_w)
        return self._start, len(lines) if self._end is None else self._end

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        self._avail_w = avail_w - self.style.leftIndent - self.style.rightIndent
        a, b = self._span()
        self.width, self.height = avail_w, (b - a) * self.style.leading
        return self.width, self.height

    def split(self, avail_w: float, avail_h: float) -> list[Flowable]:
        self.wrap(avail_w, avail_h)
        a, b = self._span()
        n = int(avail_h // self.style.leading)
        if n <= 0 or b - a <= 1:
            return []
        if n >= b - a:
            return [self]
        first = PlainText("", self.style, self._shared, a, a + n)
        rest = PlainText("", self.style, self._shared, a + n, b)
        return [first, rest]

    def draw(self) -> None:
        a, b = self._span()
        st = self.style
        c = self.canv
        t = c.beginText(st.leftIndent, self.height - st.fontSize)
        t.setFont(st.fontName, st.fontSize, st.leading)
        t.setFillColor(st.textColor)
        lines = self._shared.lines
        for i in range(a, b):
            t.textLine(lines[i])
        c.drawText(t)


def long_text(value: Any, style: ParagraphStyle, limit: int = MAX_FIELD_CHARS) -> list[Flowable]:
    """Untrusted text of any length, shown literally, laid out in time linear in its length."""
    return [PlainText(clean_text(value, limit), style)]
