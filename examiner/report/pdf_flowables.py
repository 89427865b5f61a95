"""The report's own flowables (region crop strips, overview figures, statements, rules) and table
styles; every string they draw has been escaped or fitted by the caller."""

from __future__ import annotations

import re
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from examiner.report.model import Figure, OverviewBlock, RegionBlock
from examiner.report.pdf_style import (
    ACCENT,
    FONT,
    FONT_BOLD,
    FRAME_W,
    INK,
    OUTLINE,
    RULE,
    SHADE,
)
from examiner.report.pdf_text import one_line


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
        self.readers = [image_reader(c) for c in crops]

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
            c.drawString(x0, y0 + self.img_h + 2.5, fit_text(titles[i], FONT_BOLD, 6.8, self.cell_w - 2))
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


class OverviewFigure(Flowable):
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
        c.drawImage(image_reader(b.figure), 0, 0, width=self.width, height=self.height)
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


class Line(Flowable):
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


def image_reader(fig: Figure) -> ImageReader:
    from PIL import Image as PILImage

    return ImageReader(PILImage.fromarray(fig.rgb, mode="RGB"))


class Raster(Flowable):
    """A figure drawn at a fixed size."""

    def __init__(self, fig: Figure, width: float, height: float) -> None:
        super().__init__()
        self.fig = fig
        self.width = width
        self.height = height

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.drawImage(image_reader(self.fig), 0, 0, width=self.width, height=self.height)


class Rule(Flowable):
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


class Statement(Table):
    """A highlighted one-paragraph statement with a coloured bar on the left."""

    def __init__(self, markup: str, style: ParagraphStyle, colour: colors.Color) -> None:
        super().__init__([[Paragraph(markup, style)]], colWidths=[FRAME_W], hAlign="LEFT")
        self.setStyle(table_style([
            ("BACKGROUND", (0, 0), (-1, -1), SHADE),
            ("LINEBEFORE", (0, 0), (0, -1), 2.4, colour),
            ("LEFTPADDING", (0, 0), (-1, -1), 7),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]))
        self.spaceAfter = 6


def table_style(cmds: list[tuple[Any, ...]]) -> TableStyle:
    # Table cells default to Helvetica, which would put an unembedded base-14 font in the PDF.
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), *cmds])


def fit_text(text: str, font: str, size: float, width: float) -> str:
    """``text`` shortened with an ellipsis until it fits ``width``."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "\u2026", font, size) > width:
        text = text[:-1]
    return text + "\u2026"


def looks_like_hash(v: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F]{32,128}", v.strip())) if isinstance(v, str) else False


def wrap_hash(h: str) -> str:
    return "\n".join(h[i : i + 16] for i in range(0, len(h), 16))


def kv_style() -> TableStyle:
    return table_style([
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
        ("LINEABOVE", (0, 0), (-1, 0), 0.6, ACCENT),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
    ])


def grid_style() -> TableStyle:
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
    return table_style(cmds)
