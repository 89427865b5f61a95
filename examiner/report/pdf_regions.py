"""The PDF's marked-regions section: for each region its crops, readings, categories and notes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table

from examiner.report.model import RegionBlock
from examiner.report.pdf_flowables import CropStrip, OverviewFigure, kv_style, table_style

# Importing the style module puts reportlab in invariant mode, before any canvas is made.
from examiner.report.pdf_style import FRAME_W, LONG_CELL_CHARS
from examiner.report.pdf_text import AUTHORED_CHARS, LINES_PER_PARAGRAPH, esc
from examiner.report.plain_text import long_text

if TYPE_CHECKING:
    from examiner.report.pdf import PdfBuilder

def regions(pb: PdfBuilder) -> None:
    m = pb.m
    pb.heading("Marked regions")
    if not m.regions:
        pb.story.append(pb.p("No region is marked in the case."))
        return
    pb.story.append(pb.p(
        "Each region is shown cropped from the evidence, from the image it was compared with, and as "
        "the absolute difference between the two multiplied by the stated gain. Crops are enlarged by "
        "pixel replication without smoothing; the dashed outline marks the region and is drawn over "
        "the crop, not into it. Pixel boxes are (x, y, width, height) in evidence pixels, origin top "
        "left, as stored (orientation not applied).", cites=("hofer2024taxonomy",)))
    for ov in m.overviews:
        pb.story.append(KeepTogether([
            OverviewFigure(ov, FRAME_W, 95 * mm),
            Paragraph(
                esc(f"{ov.evidence_label}: the whole image"
                    + (f", reduced 1/{ov.reduction} by block averaging," if ov.reduction > 1 else "")
                    + " with the bounding boxes of the marked regions."), pb.s["caption"]),
        ]))
    for r in m.regions:
        region(pb, r)

def region(pb: PdfBuilder, r: RegionBlock) -> None:
    x, y, w, h = r.box
    cats = ", ".join(c.capitalize() for c in r.categories) or "none recorded"
    symbol = " \u2013 SYMBOL" if r.symbol else ""
    head = Paragraph(
        f"Region R{r.number} &nbsp;<font color='#5b6573' size='8'>on {esc(r.evidence_label)} \u2013 "
        f"{esc(cats)}{symbol}</font>", pb.s["h2"])
    items: list[Flowable] = [head]
    if r.crops:
        items.append(CropStrip(r, FRAME_W, pb.s))
        zoom = f"\u00d7{r.zoom}" if r.zoom > 0 else f"1/{-r.zoom}"
        items.append(Paragraph(
            f"Crop origin ({r.crop_origin[0]}, {r.crop_origin[1]}); enlargement {zoom}; "
            f"difference gain \u00d7{r.difference_gain:g}.", pb.s["caption"]))
    for problem in r.problems:
        items.append(Paragraph("<i>Note on the crops:</i> " + esc(problem), pb.s["small"]))
    half = FRAME_W / 2
    key_w = 34 * mm
    pairs = [
        ("Pixel box", f"x {x}, y {y}, w {w}, h {h} ({r.shape})", "Share of the image", f"{r.share_percent:.3f} %"),
        ("Categories", cats, "Symbol flag", "yes (high impact)" if r.symbol else "no"),
        ("Confidence", r.confidence, "Marked", r.created or "not recorded"),
    ]
    data: list[list[Flowable | str]] = []
    for k1, v1, k2, v2 in pairs:
        data.append([pb.cell(k1, "cellb", key_w), pb.cell(v1, "cell", half - key_w),
                     pb.cell(k2, "cellb", key_w), pb.cell(v2, "cell", half - key_w)])
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
        if len(v) > LONG_CELL_CHARS or v.count("\n") > LINES_PER_PARAGRAPH:
            after.append(Paragraph(esc(k), ParagraphStyle("rl", parent=pb.s["cellb"], spaceBefore=3)))
            after.extend(long_text(v, pb.s["cell"], AUTHORED_CHARS))
            v = "see below"
        data.append([pb.cell(k, "cellb", key_w), pb.cell(v, "cell", FRAME_W - key_w, AUTHORED_CHARS), "", ""])
    table = Table(data, colWidths=[key_w, half - key_w, key_w, half - key_w], hAlign="LEFT")
    spans = [("SPAN", (1, i), (3, i)) for i in range(first_wide, len(data))]
    table.setStyle(table_style([*kv_style().getCommands(), *spans]))
    pb.story.append(KeepTogether(items + [Spacer(1, 1.5 * mm), table]))
    pb.story.extend(after)
    pb.story.append(Spacer(1, 6 * mm))
