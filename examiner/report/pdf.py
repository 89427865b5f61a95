"""Render a :class:`~examiner.report.model.ReportModel` to PDF with reportlab.

Determinism: reportlab runs in invariant mode, the creation date is the model's
``issued_epoch`` (taken from the case), fonts are the TrueType files shipped in
``examiner/data/fonts`` and embedded as subsets, and nothing reads the clock or the machine. The
same model therefore gives the same bytes on every machine with the same library versions.

Safety: every model string is untrusted plain text and passes through :func:`esc` before it
becomes Paragraph markup; only this module writes markup.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

from reportlab import rl_config

# Set before any canvas exists: some reportlab code paths read the global rather than the
# canvas's own flag (comments, the document ID).
rl_config.invariant = 1
# Binary image streams: ASCII85 text encoding is pure Python here and would dominate export time.
rl_config.useA85 = 0

from reportlab.lib import colors  # noqa: E402
from reportlab.lib.enums import TA_CENTER, TA_LEFT  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.lib.utils import ImageReader  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.pdfgen import canvas as rl_canvas  # noqa: E402
from reportlab.platypus import (  # noqa: E402
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    LongTable,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from examiner import APP_NAME, __version__  # noqa: E402
from examiner.report.bibliography import format_numbers  # noqa: E402
from examiner.report.model import (  # noqa: E402
    DetectionBlock,
    EvidenceBlock,
    Figure,
    OverviewBlock,
    RegionBlock,
    ReportModel,
)

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FONT_ITALIC = "DejaVuSans-Oblique"
FONT_MONO = "DejaVuSansMono"
_FONT_FILES = {
    FONT: "DejaVuSans.ttf",
    FONT_BOLD: "DejaVuSans-Bold.ttf",
    FONT_ITALIC: "DejaVuSans-Oblique.ttf",
    FONT_MONO: "DejaVuSansMono.ttf",
}

INK = colors.HexColor("#1a1a1a")
ACCENT = colors.HexColor("#1f3a5f")
MUTED = colors.HexColor("#5b6573")
RULE = colors.HexColor("#b8c0cc")
SHADE = colors.HexColor("#eef1f5")
ALERT = colors.HexColor("#a11d2b")
OK = colors.HexColor("#1d6b3a")
OUTLINE = colors.HexColor("#d4007a")

PAGE_W, PAGE_H = A4
MARGIN_X = 20 * mm
MARGIN_TOP = 24 * mm
MARGIN_BOTTOM = 20 * mm
FRAME_W = PAGE_W - 2 * MARGIN_X

# Untrusted text longer than this is cut (with a statement saying so) so one hostile EXIF field
# cannot turn the report into hundreds of pages.
MAX_FIELD_CHARS = 4000
METADATA_CHARS = 400
# The examiner's own words (notes, descriptions) are cut only at a size no real note reaches.
AUTHORED_CHARS = 50_000
# Longer values leave the table: a table row cannot break across pages.
LONG_CELL_CHARS = 1200

SECTIONS: tuple[str, ...] = (
    "Summary of findings",
    "Evidence and integrity",
    "Tools and environment",
    "Methods",
    "Results",
    "Marked regions",
    "Taxonomy",
    "Limitations and scope",
    "Conclusion",
    "Signatures",
    "Bibliography",
    "Appendix: audit log and hash manifest",
)


@lru_cache(maxsize=1)
def register_fonts() -> None:
    base = resources.files("examiner") / "data" / "fonts"
    for name, file_name in _FONT_FILES.items():
        with resources.as_file(base / file_name) as path:
            pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD)
    pdfmetrics.registerFontFamily(FONT_MONO, normal=FONT_MONO, bold=FONT_MONO, italic=FONT_MONO, boldItalic=FONT_MONO)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def one_line(value: Any, limit: int = 300) -> str:
    """Untrusted value for a single drawn line (page header, crop titles)."""
    return clean_text(value, limit).replace("\n", " ")


def clean_text(value: Any, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted value -> plain, printable text: control characters shown as ``\\xNN``,
    lone surrogates replaced, long values cut with a statement of the full length."""
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100 else "\ufffd", text)
    if len(text) > limit:
        text = text[:limit] + f" \u2026 [cut: {len(value):,} characters in total]"
    return text


def esc(value: Any, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted value -> Paragraph markup that shows it literally."""
    text = clean_text(value, limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\n", "<br/>")


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, bulletFontName=FONT, fontSize=9.2, leading=12.6, textColor=INK, spaceAfter=4)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10.4, spaceAfter=0),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10.2, spaceAfter=0),
        "cellb": ParagraphStyle("cellb", parent=body, fontName=FONT_BOLD, fontSize=8, leading=10.2, spaceAfter=0),
        "cellh": ParagraphStyle(
            "cellh", parent=body, fontName=FONT_BOLD, fontSize=7.6, leading=9.6, textColor=ACCENT, spaceAfter=0
        ),
        "mono": ParagraphStyle("mono", parent=body, fontName=FONT_MONO, fontSize=7.2, leading=9.4, spaceAfter=0),
        "caption": ParagraphStyle(
            "caption", parent=body, fontName=FONT_ITALIC, fontSize=7.6, leading=9.6, textColor=MUTED, spaceAfter=6
        ),
        "h1": ParagraphStyle(
            "h1", parent=body, fontName=FONT_BOLD, fontSize=13.5, leading=17, textColor=ACCENT,
            spaceBefore=10, spaceAfter=6,
        ),
        "h2": ParagraphStyle(
            "h2", parent=body, fontName=FONT_BOLD, fontSize=10.5, leading=13.5, textColor=ACCENT,
            spaceBefore=8, spaceAfter=4,
        ),
        "h3": ParagraphStyle("h3", parent=body, fontName=FONT_BOLD, fontSize=9.2, leading=12, spaceBefore=4, spaceAfter=2),
        "title": ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=22, leading=27, textColor=ACCENT, spaceAfter=6
        ),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=11.5, leading=15, textColor=MUTED, spaceAfter=14),
        "center": ParagraphStyle("center", parent=body, alignment=TA_CENTER),
        "left": ParagraphStyle("left", parent=body, alignment=TA_LEFT),
        "flag": ParagraphStyle("flag", parent=body, fontName=FONT_BOLD, textColor=ALERT),
    }


class _Heading(Paragraph):
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


class _NumberedCanvas(rl_canvas.Canvas):
    """Defers page furniture to the end so every page can say "Page x of y"."""

    def __init__(self, *args: Any, model: ReportModel, **kwargs: Any) -> None:
        kwargs["invariant"] = 1
        # reportlab's default initial font is Helvetica, an unembedded base-14 font.
        kwargs["initialFontName"] = FONT
        kwargs["initialFontSize"] = 9
        super().__init__(*args, **kwargs)
        self._model = model
        self._pages: list[dict[str, Any]] = []
        _fix_creation_date(self, model.issued_epoch)

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

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
        page = self._pageNumber
        self.saveState()
        top = PAGE_H - 13 * mm
        self.setFillColor(ACCENT)
        self.setFont(FONT_BOLD, 7.6)
        self.drawString(MARGIN_X, top, APP_NAME.upper())
        self.setFont(FONT, 7.6)
        self.setFillColor(MUTED)
        left = MARGIN_X + self.stringWidth(APP_NAME.upper(), FONT_BOLD, 7.6) + 6
        report = _fit(one_line(f"Report {m.report_id}", 120), FONT_BOLD, 7.6, 70 * mm)
        room = PAGE_W - MARGIN_X - self.stringWidth(report, FONT_BOLD, 7.6) - 8 - left
        self.drawString(left, top, _fit(one_line(f"Case {m.case_id}"), FONT, 7.6, room))
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
        self.drawString(MARGIN_X, bottom, _fit(ident, FONT, 7.4, PAGE_W / 2 - MARGIN_X - 30 * mm))
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


def _fix_creation_date(c: rl_canvas.Canvas, epoch: int) -> None:
    c._doc._timeStamp = _FixedTimeStamp(epoch)  # type: ignore[attr-defined]


class CropStrip(Flowable):
    """Evidence, comparison and amplified difference side by side, with the region outline
    drawn as vector lines over the first two (never burned into pixels) and a scale bar."""

    GAP = 4 * mm

    def __init__(self, block: RegionBlock, width: float, styles: dict[str, ParagraphStyle]) -> None:
        super().__init__()
        self.block = block
        self.width = width
        self.styles = styles
        crops = block.crops[:3]
        self.cell_w = (width - 2 * self.GAP) / 3
        px_w = max((c.width_px for c in crops), default=1)
        px_h = max((c.height_px for c in crops), default=1)
        # All three crops share one print scale, so the scale bar is valid for each of them.
        self.scale = min(self.cell_w / px_w, 48 * mm / px_h)
        self.img_h = px_h * self.scale
        self.height = self.img_h + 17
        self.readers = [_reader(c) for c in crops]

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        b = self.block
        titles = ("Evidence", f"Comparison: {one_line(b.comparison_label, 120)}", f"Difference \u00d7{b.difference_gain:g}")
        for i, (crop, reader) in enumerate(zip(b.crops[:3], self.readers, strict=False)):
            x0 = i * (self.cell_w + self.GAP)
            w, h = crop.width_px * self.scale, crop.height_px * self.scale
            y0 = 12
            c.drawImage(reader, x0, y0 + self.img_h - h, width=w, height=h)
            c.setStrokeColor(RULE)
            c.setLineWidth(0.4)
            c.rect(x0, y0 + self.img_h - h, w, h, stroke=1, fill=0)
            if i < 2 and b.outline:
                self._outline(x0, y0 + self.img_h, crop)
            c.setFont(FONT_BOLD, 6.8)
            c.setFillColor(ACCENT)
            c.drawString(x0, y0 + self.img_h + 2.5, _fit(titles[i], FONT_BOLD, 6.8, self.cell_w - 2))
        self._scale_bar()

    def _outline(self, x0: float, top: float, crop: Figure) -> None:
        c = self.canv
        b = self.block
        # The outline is in displayed-crop pixels, the same units as the embedded image.
        pts = [(x0 + x * self.scale, top - y * self.scale) for x, y in b.outline]
        # A white line under a dashed magenta one stays visible on light and dark content.
        for colour, width, dash in ((colors.white, 1.8, None), (OUTLINE, 0.9, (3, 2))):
            c.saveState()
            c.setLineWidth(width)
            c.setStrokeColor(colour)
            if dash:
                c.setDash(*dash)
            if b.ellipse and len(pts) >= 2:
                (ax, ay), (bx, by) = pts[0], pts[1]
                c.ellipse(ax, ay, bx, by, stroke=1, fill=0)
            elif len(pts) >= 2:
                p = c.beginPath()
                p.moveTo(*pts[0])
                for q in pts[1:]:
                    p.lineTo(*q)
                if b.outline_closed:
                    p.close()
                c.drawPath(p, stroke=1, fill=0)
            c.restoreState()

    def _crop_src_w(self, crop: Figure) -> float:
        # Crops are enlarged by the integer zoom (or reduced by 1/zoom when negative).
        z = self.block.zoom
        return crop.width_px / z if z > 0 else crop.width_px * -z

    def _scale_bar(self) -> None:
        c = self.canv
        b = self.block
        crop = b.crops[0]
        pt_per_evidence_px = self.scale * crop.width_px / max(1e-9, self._crop_src_w(crop))
        target = self.cell_w / 3
        n = 1
        for cand in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000):
            if cand * pt_per_evidence_px <= target:
                n = cand
        length = n * pt_per_evidence_px
        y = 3
        c.setStrokeColor(INK)
        c.setLineWidth(1.2)
        c.line(0, y, length, y)
        c.setLineWidth(0.6)
        c.line(0, y - 2, 0, y + 2)
        c.line(length, y - 2, length, y + 2)
        c.setFont(FONT, 6.6)
        c.setFillColor(INK)
        mm_per_px = pt_per_evidence_px / mm
        c.drawString(length + 4, y - 2.2, f"{n} evidence pixel{'s' if n != 1 else ''}  (printed at {mm_per_px:.2f} mm per pixel)")


class _Builder:
    """Turns the model into flowables, section by section, in the order of the issue."""

    def __init__(self, model: ReportModel) -> None:
        self.m = model
        self.s = _styles()
        self.story: list[Flowable] = []
        self._section = 0
        self._section_sub = 0

    # --- small helpers ---------------------------------------------------------------

    def cite(self, keys: Iterable[str]) -> str:
        nums = [n for n in (self.m.citation_number(k) for k in keys) if n is not None]
        return (" " + format_numbers(nums)) if nums else ""

    def p(self, text: str, style: str = "body", cites: Sequence[str] = ()) -> Paragraph:
        return Paragraph(esc(text) + self.cite(cites), self.s[style])

    def heading(self, title: str) -> None:
        self._section += 1
        key = f"s{self._section}"
        self.story.append(CondPageBreak(40 * mm))
        self.story.append(_Heading(f"{self._section}&nbsp;&nbsp;{esc(title)}", self.s["h1"], key, 0))
        self.story.append(_Rule(FRAME_W, ACCENT, 0.6, space_after=4))

    def subheading(self, title: str) -> None:
        self._section_sub += 1
        key = f"s{self._section}.{self._section_sub}"
        self.story.append(_Heading(esc(title), self.s["h2"], key, 1))

    def cell(self, value: Any, style: str = "cell", width: float = FRAME_W, limit: int = MAX_FIELD_CHARS) -> Flowable:
        """A table cell: a plain one-line drawing when the text fits (fast, and shown literally
        by construction), otherwise an escaped, wrapping Paragraph."""
        if isinstance(value, Flowable):
            return value
        st = self.s[style]
        text = clean_text(value, limit)
        if "\n" not in text and len(text) < 160:
            w = pdfmetrics.stringWidth(text, st.fontName, st.fontSize)
            if w <= width - 7:
                return _Line(text, st, w)
        return Paragraph(esc(text, limit + 200), st)

    def kv_table(self, rows: Sequence[tuple[str, str]], key_w: float = 42 * mm, mono_keys: Iterable[str] = (),
                 width: float = FRAME_W, limit: int = MAX_FIELD_CHARS) -> list[Flowable]:
        """Key/value rows as a ruled table. A value too long for one table row (rows cannot
        break across pages) is set as a labelled paragraph between table parts instead."""
        mono = set(mono_keys)
        out: list[Flowable] = []
        data: list[list[Flowable]] = []

        def flush() -> None:
            if data:
                t = Table(list(data), colWidths=[key_w, width - key_w], hAlign="LEFT")
                t.setStyle(_kv_style())
                out.append(t)
                data.clear()

        for k, v in rows:
            style = "mono" if k in mono or _looks_like_hash(v) else "cell"
            if len(v) > LONG_CELL_CHARS:
                flush()
                out.append(Paragraph(esc(k, 200), ParagraphStyle("kl", parent=self.s["cellb"], spaceBefore=3)))
                out.append(Paragraph(esc(v, limit), ParagraphStyle("kv", parent=self.s[style], spaceAfter=4)))
                continue
            data.append([self.cell(k, "cellb", key_w, 200), self.cell(v, style, width - key_w, limit)])
        flush()
        return out

    def grid(self, header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float],
             repeat: bool = True) -> Table:
        data: list[list[Any]] = [[self.cell(h, "cellh", w) for h, w in zip(header, widths, strict=True)]]
        for r in rows:
            data.append([
                self.cell(c, "mono" if isinstance(c, str) and _looks_like_hash(c) else "cell", w)
                for c, w in zip(r, widths, strict=True)
            ])
        cls = LongTable if len(rows) > 30 else Table
        t = cls(data, colWidths=list(widths), repeatRows=1 if repeat else 0, hAlign="LEFT")
        t.setStyle(_grid_style())
        return t

    def figure(self, fig: Figure, max_w: float, max_h: float) -> Flowable:
        scale = min(max_w / fig.width_px, max_h / fig.height_px)
        return _Raster(fig, fig.width_px * scale, fig.height_px * scale)

    # --- sections --------------------------------------------------------------------

    def build(self) -> list[Flowable]:
        self.title_page()
        self.summary()
        self.evidence()
        self.tools()
        self.methods()
        self.results()
        self.regions()
        self.taxonomy()
        self.limitations()
        self.conclusion()
        self.signatures()
        self.bibliography()
        self.appendix()
        self.story.append(Spacer(1, 10 * mm))
        self.story.append(_Rule(FRAME_W, ACCENT, 0.6, space_after=3))
        self.story.append(Paragraph(f"<b>End of report {esc(self.m.report_id)}</b>", self.s["center"]))
        return self.story

    def title_page(self) -> None:
        m = self.m
        self.story.append(Spacer(1, 18 * mm))
        self.story.append(Paragraph(esc(m.title), self.s["title"]))
        self.story.append(Paragraph(esc(m.subtitle), self.s["subtitle"]))
        self.story.append(_Rule(FRAME_W, ACCENT, 1.2, space_after=10))
        status = "Original report"
        if m.amends:
            status = f"AMENDED REPORT: supersedes report {m.amends}"
        rows = [
            ("Laboratory", m.lab or "not recorded"),
            ("Case", m.case_id + (f" \u2013 {m.case_title}" if m.case_title else "")),
            ("Report id", m.report_id),
            ("Status", status),
            ("Requested by", m.requester or "not recorded"),
            ("Examiner", m.examiner or "not recorded"),
            ("Reviewer", m.reviewer or "not recorded"),
            ("Evidence received", m.received or "not recorded"),
            ("Examined", m.examined or "not recorded"),
            ("Issued", m.issued),
        ]
        self.story.extend(self.kv_table(rows, key_w=40 * mm))
        if m.amends:
            self.story.append(Spacer(1, 4 * mm))
            self.story.append(Paragraph(
                f"This report amends and supersedes report {esc(m.amends)}. Where the two differ, this report applies.",
                self.s["flag"]))
        self.story.append(Spacer(1, 10 * mm))
        self.story.append(Paragraph("Contents", self.s["h2"]))
        rows2 = [[Paragraph(f"{i}", self.s["cell"]), Paragraph(esc(name), self.s["cell"])] for i, name in enumerate(SECTIONS, 1)]
        toc = Table(rows2, colWidths=[10 * mm, FRAME_W - 10 * mm], hAlign="LEFT")
        toc.setStyle(_style([
            ("TOPPADDING", (0, 0), (-1, -1), 1.2), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
            ("LEFTPADDING", (0, 0), (-1, -1), 0), ("TEXTCOLOR", (0, 0), (-1, -1), INK),
            ("FONTNAME", (0, 0), (-1, -1), FONT),
        ]))
        self.story.append(toc)
        self.story.append(Spacer(1, 10 * mm))
        self.story.append(Paragraph(
            "This report is issued as a whole and may be reproduced only in full. Every page carries "
            "the report id and its page number; the last page carries the end-of-report mark. The "
            "report's SHA-256 is recorded in the case's audit log when it is exported.",
            self.s["small"]))
        self.story.append(PageBreak())

    def summary(self) -> None:
        self.heading("Summary of findings")
        for para in self.m.summary:
            self.story.append(self.p(para.text, cites=para.cites))

    def evidence(self) -> None:
        m = self.m
        self.heading("Evidence and integrity")
        colour = OK if m.integrity_ok else ALERT
        self.story.append(_Statement(esc(m.integrity_statement), self.s["body"], colour))
        for ev in m.evidence:
            self._evidence_block(ev)

    def _evidence_block(self, ev: EvidenceBlock) -> None:
        self.subheading(f"{ev.label}: {ev.file_name}")
        rows: list[tuple[str, str]] = [
            ("File name", ev.file_name),
            ("Path at intake", ev.path),
            ("Size", f"{ev.size_bytes:,} bytes" if ev.size_bytes is not None else "unknown"),
            ("Format", ev.format),
            ("Dimensions", ev.dimensions),
        ]
        rows += ev.facts
        rows.append(("Decode policy", ev.decode_policy))
        self.story.extend(self.kv_table(rows, key_w=48 * mm))
        self.story.append(Spacer(1, 2 * mm))
        hrows = []
        for h in ev.hashes:
            result = "match" if h.matches else ("FILE MISSING OR UNREADABLE" if h.at_report is None else "MISMATCH")
            verdict = Paragraph(esc(result), self.s["cellb" if h.matches else "flag"])
            hrows.append([h.algorithm, "at intake", h.at_intake, verdict])
            hrows.append(["", "for this report", h.at_report or "could not be computed", ""])
        t = self.grid(["Hash", "Computed", "Value", "Result"], hrows, [18 * mm, 26 * mm, 102 * mm, FRAME_W - 146 * mm])
        spans: list[tuple[Any, ...]] = []
        for i in range(len(ev.hashes)):
            r = 1 + 2 * i
            spans += [("SPAN", (0, r), (0, r + 1)), ("SPAN", (3, r), (3, r + 1)),
                      ("LINEBELOW", (0, r), (-1, r), 0, colors.white)]
        t.setStyle(_style(spans))
        self.story.append(t)
        if ev.reference:
            self.story.append(Paragraph("Reference original", self.s["h3"]))
            self.story.extend(self.kv_table(ev.reference, key_w=48 * mm))
        if ev.jpeg:
            self.story.append(Paragraph("JPEG structure", self.s["h3"]))
            self.story.extend(self.kv_table(ev.jpeg, key_w=48 * mm))
        if ev.metadata:
            self.story.append(Paragraph("Key metadata (as found in the file; untrusted)", self.s["h3"]))
            self.story.extend(self.kv_table(ev.metadata, key_w=48 * mm, limit=METADATA_CHARS))

    def tools(self) -> None:
        m = self.m
        self.heading("Tools and environment")
        self.story.extend(self.kv_table([*m.tools, ("Device", m.device)], key_w=62 * mm))
        if m.codecs:
            self.subheading("Codecs used")
            rows = []
            for cu in m.codecs:
                label = cu.name + (" \u2013 DEMONSTRATION CODEC" if cu.demonstration else "")
                weights = "\n".join(f"{f}: {d}" for f, d in cu.weights) or "no weight files"
                rows.append([Paragraph(esc(label) + self.cite(cu.cites), self.s["cell"]), cu.family,
                             Paragraph(esc(weights), self.s["mono"])])
            self.story.append(self.grid(["Codec", "Family", "Weight files and SHA-256"], rows,
                                        [48 * mm, 20 * mm, FRAME_W - 68 * mm]))
        if m.settings:
            self.subheading("Run parameters and settings")
            self.story.extend(self.kv_table(m.settings, key_w=62 * mm))

    def methods(self) -> None:
        self.heading("Methods")
        if not self.m.methods:
            self.story.append(self.p("No analysis was run."))
        for mb in self.m.methods:
            items: list[Flowable] = []
            title = mb.name + (f" (version {mb.version})" if mb.version else "")
            if mb.labels:
                title += " \u2013 " + ", ".join(label.upper() for label in mb.labels)
            items.append(Paragraph(esc(title), self.s["h3"]))
            items.append(self.p(mb.description, cites=mb.cites))
            if mb.parameters:
                items.extend(self.kv_table(mb.parameters, key_w=50 * mm))
            for lim in mb.limitations:
                items.append(Paragraph("<i>Limitation:</i> " + esc(lim), self.s["small"]))
            items.append(Spacer(1, 3 * mm))
            self.story.append(KeepTogether(items[:3]))
            self.story.extend(items[3:])

    def results(self) -> None:
        m = self.m
        self.heading("Results")
        self.subheading("Detection of neural-compression traces")
        if not m.detections:
            self.story.append(self.p("No detection analysis is recorded in the case."))
        for d in m.detections:
            self._detection(d)
        self.subheading("Re-compressions")
        if not m.recompressions:
            self.story.append(self.p("No re-compression is recorded in the case."))
        else:
            self._recompressions()
        if m.other_results:
            self.subheading("Other analyses")
            for o in m.other_results:
                items: list[Flowable] = [Paragraph(esc(f"{o.evidence_label}: {o.title}") + self.cite(o.cites), self.s["h3"])]
                items.extend(self.kv_table(o.rows or [("Result", "no details recorded")], key_w=50 * mm))
                self.story.append(KeepTogether(items))

    def _recompressions(self) -> None:
        m = self.m
        rows = []
        for r in m.recompressions:
            thumb: Flowable = self.figure(r.thumbnail, 26 * mm, 20 * mm) if r.thumbnail else Paragraph("\u2013", self.s["cell"])
            name = esc(r.codec_name) + self.cite(r.cites)
            if r.demonstration:
                name += "<br/><font color='#a11d2b'><b>DEMONSTRATION CODEC</b></font>"
            rows.append([thumb, Paragraph(name, self.s["cell"]), r.evidence_label, r.quality, r.bpp, r.psnr, r.device,
                         Paragraph(esc(r.output_sha256), self.s["mono"])])
        widths = [26 * mm, 30 * mm, 10 * mm, 14 * mm, 12 * mm, 15 * mm, 14 * mm]
        widths.append(FRAME_W - sum(widths))
        self.story.append(self.grid(["Output", "Codec", "Item", "Quality", "bpp", "PSNR (dB)", "Device", "Output SHA-256"],
                                    rows, widths))
        self.story.append(Paragraph(
            "bpp: bits per pixel of the real bitstream. PSNR: peak signal-to-noise ratio of the codec "
            "output against the image it was given.", self.s["caption"]))

    def _detection(self, d: DetectionBlock) -> None:
        verdict_colour = {"neural": ALERT, "not-neural": OK}.get(d.verdict, MUTED)
        score = "not recorded" if d.score is None else f"{d.score:.3f}"
        self.story.append(Paragraph(esc(f"{d.evidence_label}: detection result"), self.s["h3"]))
        self.story.append(_Statement(
            f"Verdict: <b>{esc(d.verdict)}</b>&nbsp;&nbsp;&nbsp;Score: {esc(score)} (0 = no neural traces, 1 = strong traces)",
            self.s["body"], verdict_colour))
        if d.likelihood:
            self.story.append(self.p(d.likelihood, cites=("enfsi2015guideline",)))
        if d.inconclusive_reason:
            self.story.append(self.p("Inconclusive because: " + d.inconclusive_reason))
        if d.explanation:
            self.story.append(self.p(d.explanation, cites=d.cites))
        side: list[Flowable] = []
        if d.features:
            side.extend(self.kv_table(d.features, key_w=45 * mm, width=FRAME_W - 62 * mm if d.spectrum else FRAME_W))
        if d.spectrum is not None:
            fig = self.figure(d.spectrum, 56 * mm, 56 * mm)
            cap = Paragraph(esc(d.spectrum.caption or "Spectrum of the noise residual."), self.s["caption"])
            if side:
                t = Table([[side, [fig, cap]]], colWidths=[FRAME_W - 60 * mm, 60 * mm], hAlign="LEFT")
                t.setStyle(_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                       ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
                self.story.append(t)
            else:
                self.story.extend([fig, cap])
        else:
            self.story.extend(side)
        if d.candidates:
            self.story.append(Paragraph("Identification by re-compression (best fit first)", self.s["h3"]))
            self.story.append(self.grid(["Candidate", "Fit"], [list(c) for c in d.candidates], [70 * mm, FRAME_W - 70 * mm]))
        rates: list[Flowable] = [Paragraph("Measured error rates of the method", self.s["h3"])]
        if d.error_rates:
            rates.extend(self.kv_table(d.error_rates, key_w=60 * mm))
        else:
            rates.append(self.p("No measured error rates are recorded with this result."))
        if d.error_rate_set:
            rates.append(Paragraph("Measured on: " + esc(d.error_rate_set), self.s["caption"]))
        self.story.append(KeepTogether(rates))

    def regions(self) -> None:
        m = self.m
        self.heading("Marked regions")
        if not m.regions:
            self.story.append(self.p("No region is marked in the case."))
            return
        self.story.append(self.p(
            "Each region is shown cropped from the evidence, from the image it was compared with, and as "
            "the absolute difference between the two multiplied by the stated gain. Crops are enlarged by "
            "pixel replication without smoothing; the dashed outline marks the region and is drawn over "
            "the crop, not into it. Pixel boxes are (x, y, width, height) in evidence pixels, origin top "
            "left, as stored (orientation not applied).", cites=("hofer2024taxonomy",)))
        for ov in m.overviews:
            self.story.append(KeepTogether([
                _Overview(ov, FRAME_W, 95 * mm),
                Paragraph(
                    esc(f"{ov.evidence_label}: the whole image"
                        + (f", reduced 1/{ov.reduction} by block averaging," if ov.reduction > 1 else "")
                        + " with the bounding boxes of the marked regions."), self.s["caption"]),
            ]))
        for r in m.regions:
            self._region(r)

    def _region(self, r: RegionBlock) -> None:
        x, y, w, h = r.box
        cats = ", ".join(c.capitalize() for c in r.categories) or "none recorded"
        symbol = " \u2013 SYMBOL" if r.symbol else ""
        head = Paragraph(
            f"Region R{r.number} &nbsp;<font color='#5b6573' size='8'>on {esc(r.evidence_label)} \u2013 "
            f"{esc(cats)}{symbol}</font>", self.s["h2"])
        items: list[Flowable] = [head]
        if r.crops:
            items.append(CropStrip(r, FRAME_W, self.s))
            zoom = f"\u00d7{r.zoom}" if r.zoom > 0 else f"1/{-r.zoom}"
            items.append(Paragraph(
                f"Crop origin ({r.crop_origin[0]}, {r.crop_origin[1]}); enlargement {zoom}; "
                f"difference gain \u00d7{r.difference_gain:g}.", self.s["caption"]))
        for problem in r.problems:
            items.append(Paragraph("<i>Note on the crops:</i> " + esc(problem), self.s["small"]))
        half = FRAME_W / 2
        key_w = 34 * mm
        pairs = [
            ("Pixel box", f"x {x}, y {y}, w {w}, h {h} ({r.shape})", "Share of the image", f"{r.share_percent:.3f} %"),
            ("Categories", cats, "Symbol flag", "yes (high impact)" if r.symbol else "no"),
            ("Confidence", r.confidence, "Marked", r.created or "not recorded"),
        ]
        data: list[list[Flowable]] = []
        for k1, v1, k2, v2 in pairs:
            data.append([self.cell(k1, "cellb", key_w), self.cell(v1, "cell", half - key_w),
                         self.cell(k2, "cellb", key_w), self.cell(v2, "cell", half - key_w)])
        wide = [
            ("The evidence shows", r.evidence_says or "not recorded"),
            ("The comparison shows", r.comparison_says or "not recorded"),
            ("Compared with", r.comparison_label or "not recorded"),
            ("Notes", r.notes or "none"),
            ("Provenance", r.provenance + (f"; by {r.author}" if r.author else "")),
        ]
        first_wide = len(data)
        after: list[Flowable] = []
        for k, v in wide:
            if len(v) > LONG_CELL_CHARS:
                after.append(Paragraph(esc(k), ParagraphStyle("rl", parent=self.s["cellb"], spaceBefore=3)))
                after.append(Paragraph(esc(v, AUTHORED_CHARS), self.s["cell"]))
                v = "see below"
            data.append([self.cell(k, "cellb", key_w), self.cell(v, "cell", FRAME_W - key_w, AUTHORED_CHARS), "", ""])
        table = Table(data, colWidths=[key_w, half - key_w, key_w, half - key_w], hAlign="LEFT")
        spans = [("SPAN", (1, i), (3, i)) for i in range(first_wide, len(data))]
        table.setStyle(_style([*_kv_style().getCommands(), *spans]))
        self.story.append(KeepTogether(items + [Spacer(1, 1.5 * mm), table]))
        self.story.extend(after)
        self.story.append(Spacer(1, 6 * mm))

    def taxonomy(self) -> None:
        m = self.m
        self.heading("Taxonomy")
        self.story.append(self.p(
            "Regions are classified with the taxonomy of miscompressions by Hofer and Böhme. A region may "
            "carry more than one category; the Symbol flag is independent of the categories.",
            cites=m.taxonomy_cites))
        self.story.extend(self.kv_table(m.taxonomy, key_w=30 * mm))

    def limitations(self) -> None:
        m = self.m
        self.heading("Limitations and scope")
        for lim in m.limitations:
            self.story.append(Paragraph("\u2022&nbsp;" + esc(lim), ParagraphStyle("li", parent=self.s["body"], leftIndent=10, firstLineIndent=-8)))
        self.story.append(Paragraph("Scope", self.s["h3"]))
        self.story.append(_Statement(esc(m.scope), self.s["body"], ACCENT))

    def conclusion(self) -> None:
        m = self.m
        self.heading("Conclusion")
        self.story.append(self.p(f"The conclusion is stated on the verbal scale below, for the proposition that {m.conclusion_proposition}."))
        level = m.conclusion_level or "not stated"
        self.story.append(_Statement(f"Conclusion: <b>{esc(level)}</b>", self.s["body"], ACCENT))
        if m.conclusion_text:
            self.story.append(self.p(m.conclusion_text))
        if m.conclusion_basis:
            self.story.append(Paragraph(esc(m.conclusion_basis), self.s["caption"]))
        rows = []
        for lvl, definition in m.conclusion_scale:
            mark = "\u25b6 " if lvl == m.conclusion_level else ""
            rows.append([Paragraph(("<b>" if mark else "") + esc(mark + lvl) + ("</b>" if mark else ""), self.s["cell"]), definition])
        self.story.append(KeepTogether([
            Paragraph("The scale", self.s["h3"]),
            self.grid(["Level", "Definition"], rows, [44 * mm, FRAME_W - 44 * mm]),
        ]))

    def signatures(self) -> None:
        m = self.m
        self.heading("Signatures")
        self.story.append(self.p(
            "I confirm that this report states the work I did and the results I found, and that I have "
            "stated the limitations known to me."))
        cell_w = (FRAME_W - 10 * mm) / 2

        def block(role: str, name: str) -> list[Flowable]:
            return [
                Paragraph(esc(role), self.s["cellh"]),
                Paragraph(esc(name or "name not recorded"), self.s["cellb"]),
                Spacer(1, 14 * mm),
                _Rule(cell_w - 6, INK, 0.5, space_after=1),
                Paragraph("Signature", self.s["caption"]),
                Spacer(1, 6 * mm),
                _Rule(cell_w - 6, INK, 0.5, space_after=1),
                Paragraph("Date", self.s["caption"]),
            ]

        t = Table([[block("Examiner", m.examiner), block("Reviewer", m.reviewer)]], colWidths=[cell_w + 5 * mm] * 2, hAlign="LEFT")
        t.setStyle(_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        self.story.append(KeepTogether([t]))

    def bibliography(self) -> None:
        self.heading("Bibliography")
        rows = [[f"[{n}]", text] for n, _, text in self.m.bibliography]
        if not rows:
            self.story.append(self.p("No work is cited."))
            return
        t = Table([[Paragraph(esc(a), self.s["cell"]), Paragraph(esc(b), self.s["cell"])] for a, b in rows],
                  colWidths=[11 * mm, FRAME_W - 11 * mm], hAlign="LEFT")
        t.setStyle(_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
        self.story.append(t)

    def appendix(self) -> None:
        m = self.m
        self.heading("Appendix: audit log and hash manifest")
        self.subheading("Audit log")
        self.story.append(_Statement(esc(m.audit_verification), self.s["body"], OK if m.audit_ok else ALERT))
        if m.audit_note:
            self.story.append(Paragraph(esc(m.audit_note), self.s["caption"]))
        rows = []
        for a in m.audit:
            rows.append([
                str(a.seq),
                Paragraph(esc(a.time_utc) + "<br/>" + esc(a.actor), self.s["cell"]),
                Paragraph(f"<b>{esc(a.action)}</b><br/>{esc(a.details)}", self.s["cell"]),
                Paragraph(esc(_wrap_hash(a.entry_hash)), self.s["mono"]),
            ])
        if rows:
            self.story.append(self.grid(["#", "Time (UTC), actor", "Action and details", "Entry hash"], rows,
                                        [9 * mm, 33 * mm, FRAME_W - 78 * mm, 36 * mm]))
        self.subheading("Hash manifest")
        self.story.append(self.p(
            "SHA-256 of every file and image this report rests on or shows. A figure's hash is that of its "
            "raw 8-bit RGB pixels in row order, which is the image stream embedded (losslessly) in this PDF."))
        self.story.append(self.grid(["Item", "Role", "SHA-256"],
                                    [[r.item, r.role, r.sha256] for r in m.manifest],
                                    [42 * mm, 26 * mm, FRAME_W - 68 * mm]))


class _Overview(Flowable):
    """The reduced evidence image with each region's box and number drawn over it."""

    def __init__(self, block: OverviewBlock, max_w: float, max_h: float) -> None:
        super().__init__()
        self.block = block
        fig = block.figure
        self.scale = min(max_w / fig.width_px, max_h / fig.height_px)
        self.width = fig.width_px * self.scale
        self.height = fig.height_px * self.scale
        self.hAlign = "CENTER"

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        b = self.block
        c.drawImage(_reader(b.figure), 0, 0, width=self.width, height=self.height)
        c.setStrokeColor(RULE)
        c.setLineWidth(0.4)
        c.rect(0, 0, self.width, self.height, stroke=1, fill=0)
        per_px = self.scale / b.reduction  # points per evidence pixel
        for number, (x, y, w, h) in b.boxes:
            x0, y1 = x * per_px, self.height - y * per_px
            bw, bh = max(w * per_px, 1.5), max(h * per_px, 1.5)
            for colour, width in ((colors.white, 1.8), (OUTLINE, 0.9)):
                c.setStrokeColor(colour)
                c.setLineWidth(width)
                c.rect(x0, y1 - bh, bw, bh, stroke=1, fill=0)
            label = f"R{number}"
            c.setFont(FONT_BOLD, 6.5)
            tw = c.stringWidth(label, FONT_BOLD, 6.5)
            ly = min(y1 + 1.5, self.height - 8)
            c.setFillColor(OUTLINE)
            c.rect(x0, ly, tw + 3, 7.5, stroke=0, fill=1)
            c.setFillColor(colors.white)
            c.drawString(x0 + 1.5, ly + 1.8, label)


class _Line(Flowable):
    """One line of plain text in a paragraph style; never parsed as markup."""

    def __init__(self, text: str, style: ParagraphStyle, width: float) -> None:
        super().__init__()
        self.text = text
        self.style = style
        self.width = width
        self.height = style.leading

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        st = self.style
        c = self.canv
        c.setFont(st.fontName, st.fontSize)
        c.setFillColor(st.textColor)
        c.drawString(0, self.height - pdfmetrics.getAscent(st.fontName, st.fontSize), self.text)


def _reader(fig: Figure) -> ImageReader:
    from PIL import Image as PILImage

    return ImageReader(PILImage.fromarray(fig.rgb, mode="RGB"))


class _Raster(Flowable):
    """A figure drawn at a fixed size."""

    def __init__(self, fig: Figure, width: float, height: float) -> None:
        super().__init__()
        self.fig = fig
        self.width = width
        self.height = height

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.drawImage(_reader(self.fig), 0, 0, width=self.width, height=self.height)


class _Rule(Flowable):
    def __init__(self, width: float, colour: colors.Color, thickness: float, space_after: float = 0) -> None:
        super().__init__()
        self.width = width
        self.colour = colour
        self.thickness = thickness
        self.space_after = space_after

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return self.width, self.thickness + self.space_after

    def draw(self) -> None:
        self.canv.setStrokeColor(self.colour)
        self.canv.setLineWidth(self.thickness)
        self.canv.line(0, self.space_after + self.thickness / 2, self.width, self.space_after + self.thickness / 2)


class _Statement(Table):
    """A highlighted one-paragraph statement with a coloured bar on the left."""

    def __init__(self, markup: str, style: ParagraphStyle, colour: colors.Color) -> None:
        super().__init__([[Paragraph(markup, style)]], colWidths=[FRAME_W], hAlign="LEFT")
        self.setStyle(_style([
            ("BACKGROUND", (0, 0), (-1, -1), SHADE),
            ("LINEBEFORE", (0, 0), (0, -1), 2.4, colour),
            ("LEFTPADDING", (0, 0), (-1, -1), 7),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]))
        self.spaceAfter = 6


def _style(cmds: list[tuple[Any, ...]]) -> TableStyle:
    # Table cells default to Helvetica, which would put an unembedded base-14 font in the PDF.
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), *cmds])


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` shortened with an ellipsis until it fits ``width``."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "\u2026", font, size) > width:
        text = text[:-1]
    return text + "\u2026"


def _looks_like_hash(v: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F]{32,128}", v.strip())) if isinstance(v, str) else False


def _wrap_hash(h: str) -> str:
    return "\n".join(h[i : i + 16] for i in range(0, len(h), 16))


def _kv_style() -> TableStyle:
    return _style([
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
        ("LINEABOVE", (0, 0), (-1, 0), 0.6, ACCENT),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
    ])


def _grid_style() -> TableStyle:
    cmds: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("LINEABOVE", (0, 0), (-1, 0), 0.6, ACCENT),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, ACCENT),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
    ]
    return _style(cmds)


def render_pdf(model: ReportModel) -> bytes:
    """The report as PDF bytes; the same model always gives the same bytes."""
    return render_pdf_with_pages(model)[0]


def render_pdf_with_pages(model: ReportModel) -> tuple[bytes, int]:
    """The PDF bytes and the number of pages."""
    register_fonts()
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=clean_text(f"{model.title} {model.report_id}", 200),
        author=clean_text(model.examiner, 200),
        subject=clean_text(f"Case {model.case_id}", 200),
        creator=f"{APP_NAME} {__version__}",
        producer=f"{APP_NAME} {__version__} (ReportLab)",
        keywords=[],
        invariant=1,
    )
    frame = Frame(MARGIN_X, MARGIN_BOTTOM, FRAME_W, PAGE_H - MARGIN_TOP - MARGIN_BOTTOM, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    story = _Builder(model).build()

    canvases: list[_NumberedCanvas] = []

    def make_canvas(*args: Any, **kwargs: Any) -> _NumberedCanvas:
        c = _NumberedCanvas(*args, model=model, **kwargs)
        canvases.append(c)
        return c

    doc.build(story, canvasmaker=make_canvas)
    return buf.getvalue(), canvases[-1].page_count
