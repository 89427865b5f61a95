"""Page furniture: the running header and footer ("Page x of y"), bookmarks, fixed dates."""

from __future__ import annotations

import re
import time
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import Paragraph

from examiner import APP_NAME
from examiner.report.model import ReportModel
from examiner.report.pdf_flowables import fit_text
from examiner.report.pdf_style import (
    ACCENT,
    FONT,
    FONT_BOLD,
    INK,
    MARGIN_X,
    MUTED,
    PAGE_H,
    PAGE_W,
    RULE,
)
from examiner.report.pdf_text import one_line


class Heading(Paragraph):
    """A section heading that also carries an outline entry (PDF bookmarks)."""

    def __init__(self, text: str, style: ParagraphStyle, key: str, level: int) -> None:
        super().__init__(text, style)
        self._key = key
        self._level = level
        self._plain = re.sub(r"<[^>]+>", "", text)

    def draw(self) -> None:
        super().draw()
        c = self.canv
        c.bookmarkPage(self._key)
        c.addOutlineEntry(self._plain.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"),
                          self._key, level=self._level, closed=self._level > 0)


class NumberedCanvas(rl_canvas.Canvas):
    """Defers page furniture to the end so every page can say "Page x of y"."""

    def __init__(self, *args: Any, model: ReportModel, **kwargs: Any) -> None:
        kwargs["invariant"] = 1
        # reportlab's default initial font is Helvetica, an unembedded base-14 font.
        kwargs["initialFontName"] = FONT
        kwargs["initialFontSize"] = 9
        super().__init__(*args, **kwargs)
        self._model = model
        self._pages: list[dict[str, Any]] = []
        fix_creation_date(self, model.issued_epoch)

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]  # reportlab's own page reset, not in its stubs

    @property
    def page_count(self) -> int:
        return len(self._pages)

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._draw_furniture(total)
            super().showPage()
        super().save()

    def _draw_furniture(self, total: int) -> None:
        m = self._model
        page = self._pageNumber  # type: ignore[attr-defined]  # reportlab's page counter, not in its stubs
        self.saveState()
        top = PAGE_H - 13 * mm
        self.setFillColor(ACCENT)
        self.setFont(FONT_BOLD, 7.6)
        self.drawString(MARGIN_X, top, APP_NAME.upper())
        self.setFont(FONT, 7.6)
        self.setFillColor(MUTED)
        left = MARGIN_X + self.stringWidth(APP_NAME.upper(), FONT_BOLD, 7.6) + 6
        report = fit_text(one_line(f"Report {m.report_id}", 120), FONT_BOLD, 7.6, 70 * mm)
        room = PAGE_W - MARGIN_X - self.stringWidth(report, FONT_BOLD, 7.6) - 8 - left
        self.drawString(left, top, fit_text(one_line(f"Case {m.case_id}"), FONT, 7.6, room))
        self.setFillColor(INK)
        self.setFont(FONT_BOLD, 7.6)
        self.drawRightString(PAGE_W - MARGIN_X, top, report)
        self.setStrokeColor(ACCENT)
        self.setLineWidth(0.8)
        self.line(MARGIN_X, top - 2.6 * mm, PAGE_W - MARGIN_X, top - 2.6 * mm)
        bottom = 11 * mm
        self.setStrokeColor(RULE)
        self.setLineWidth(0.4)
        self.line(MARGIN_X, bottom + 4 * mm, PAGE_W - MARGIN_X, bottom + 4 * mm)
        self.setFont(FONT, 7.4)
        self.setFillColor(MUTED)
        ident = one_line(f"Report {m.report_id}" + (f" (amends {m.amends})" if m.amends else ""))
        self.drawString(MARGIN_X, bottom, fit_text(ident, FONT, 7.4, PAGE_W / 2 - MARGIN_X - 30 * mm))
        self.drawCentredString(PAGE_W / 2, bottom, "Reproduce only in full")
        self.setFillColor(INK)
        self.setFont(FONT_BOLD, 7.4)
        self.drawRightString(PAGE_W - MARGIN_X, bottom, f"Page {page} of {total}")
        self.restoreState()


class _FixedTimeStamp:
    """What reportlab's document reads for CreationDate/ModDate, fixed to the case's time."""

    def __init__(self, epoch: int) -> None:
        lt = time.gmtime(epoch)
        self.t = float(epoch)
        self.lt = lt
        self.YMDhms = tuple(lt)[:6]
        self.dhh = 0
        self.dmm = 0
        self.tzname = "UTC"


def fix_creation_date(c: rl_canvas.Canvas, epoch: int) -> None:
    c._doc._timeStamp = _FixedTimeStamp(epoch)  # type: ignore[attr-defined]
