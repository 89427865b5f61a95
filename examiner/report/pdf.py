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
from collections.abc import Iterable, Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import (
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
)

from examiner import APP_NAME, __version__
from examiner.report import pdf_appendix, pdf_back_matter, pdf_regions
from examiner.report.bibliography import format_numbers
from examiner.report.model import (
    DetectionBlock,
    EvidenceBlock,
    Figure,
    ReportModel,
)
from examiner.report.pdf_flowables import (
    Line,
    Raster,
    Rule,
    Statement,
    grid_style,
    kv_style,
    looks_like_hash,
    table_style,
)
from examiner.report.pdf_page import Heading, NumberedCanvas

# Importing the style module puts reportlab in invariant mode, before any canvas is made.
from examiner.report.pdf_style import (
    ACCENT,
    ALERT,
    FONT,
    FRAME_W,
    INK,
    LONG_CELL_CHARS,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MUTED,
    OK,
    PAGE_H,
    register_fonts,
    styles,
)
from examiner.report.pdf_text import (  # noqa: F401 - re-exported for callers of this module
    AUTHORED_CHARS,
    LINES_PER_PARAGRAPH,
    MAX_FIELD_CHARS,
    METADATA_CHARS,
    clean_text,
    esc,
    one_line,
)
from examiner.report.plain_text import long_text

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
    "Appendix: technical details",
    "Appendix: audit log and hash manifest",
)
















class PdfBuilder:
    """Turns the model into flowables, section by section, in the order of the issue."""

    def __init__(self, model: ReportModel) -> None:
        self.m = model
        self.s = styles()
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
        self.story.append(Heading(f"{self._section}&nbsp;&nbsp;{esc(title)}", self.s["h1"], key, 0))
        self.story.append(Rule(FRAME_W, ACCENT, 0.6, space_after=4))

    def subheading(self, title: str) -> None:
        self._section_sub += 1
        key = f"s{self._section}.{self._section_sub}"
        self.story.append(Heading(esc(title), self.s["h2"], key, 1))

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
                return Line(text, st, w)
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
                t.setStyle(kv_style())
                out.append(t)
                data.clear()

        for k, v in rows:
            style = "mono" if k in mono or looks_like_hash(v) else "cell"
            if len(v) > LONG_CELL_CHARS or v.count("\n") > LINES_PER_PARAGRAPH:
                flush()
                out.append(Paragraph(esc(k, 200), ParagraphStyle("kl", parent=self.s["cellb"], spaceBefore=3)))
                out.extend(long_text(v, ParagraphStyle("kv", parent=self.s[style], spaceAfter=4), limit))
                continue
            data.append([self.cell(k, "cellb", key_w, 200), self.cell(v, style, width - key_w, limit)])
        flush()
        return out

    def grid(self, header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float],
             repeat: bool = True) -> Table:
        data: list[list[Any]] = [[self.cell(h, "cellh", w) for h, w in zip(header, widths, strict=True)]]
        for r in rows:
            data.append([
                self.cell(c, "mono" if isinstance(c, str) and looks_like_hash(c) else "cell", w)
                for c, w in zip(r, widths, strict=True)
            ])
        cls = LongTable if len(rows) > 30 else Table
        t = cls(data, colWidths=list(widths), repeatRows=1 if repeat else 0, hAlign="LEFT")
        t.setStyle(grid_style())
        return t

    def figure(self, fig: Figure, max_w: float, max_h: float) -> Flowable:
        scale = min(max_w / fig.width_px, max_h / fig.height_px)
        return Raster(fig, fig.width_px * scale, fig.height_px * scale)

    # --- sections --------------------------------------------------------------------

    def build(self) -> list[Flowable]:
        self.title_page()
        self.summary()
        self.evidence()
        self.tools()
        self.methods()
        self.results()
        pdf_regions.regions(self)
        self.taxonomy()
        self.limitations()
        self.conclusion()
        pdf_back_matter.signatures(self)
        pdf_back_matter.bibliography(self)
        pdf_appendix.technical(self)
        pdf_back_matter.appendix(self)
        self.story.append(Spacer(1, 10 * mm))
        self.story.append(Rule(FRAME_W, ACCENT, 0.6, space_after=3))
        self.story.append(Paragraph(f"<b>End of report {esc(self.m.report_id)}</b>", self.s["center"]))
        return self.story

    def title_page(self) -> None:
        m = self.m
        self.story.append(Spacer(1, 18 * mm))
        self.story.append(Paragraph(esc(m.title), self.s["title"]))
        self.story.append(Paragraph(esc(m.subtitle), self.s["subtitle"]))
        self.story.append(Rule(FRAME_W, ACCENT, 1.2, space_after=10))
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
        toc.setStyle(table_style([
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
        self.story.append(Statement(esc(m.integrity_statement), self.s["body"], colour))
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
        t.setStyle(table_style(spans))
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
        if ev.provenance:
            from examiner.report.provenance_section import HEADING

            self.story.append(Paragraph(esc(HEADING), self.s["h3"]))
            self.story.extend(self.kv_table(ev.provenance, key_w=48 * mm, limit=METADATA_CHARS))

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
            stored = "<br/>".join(f"{esc(n)}: {esc(h)}" for n, h in r.artefacts) or "none stored"
            if r.finding:
                name = f"{esc(r.finding)} " + name
            rows.append([thumb, Paragraph(name, self.s["cell"]), r.evidence_label, r.quality, r.bpp, r.psnr, r.device,
                         Paragraph(stored, self.s["mono"])])
        widths = [26 * mm, 30 * mm, 10 * mm, 14 * mm, 12 * mm, 15 * mm, 14 * mm]
        widths.append(FRAME_W - sum(widths))
        self.story.append(self.grid(
            ["Output", "Codec", "Item", "Quality", "bpp", "PSNR (dB)", "Device", "Stored artefacts (SHA-256)"], rows, widths,
        ))
        self.story.append(Paragraph(
            "bpp: bits per pixel of the real bitstream. PSNR: peak signal-to-noise ratio of the codec "
            "output against the image it was given.", self.s["caption"]))

    def _detection(self, d: DetectionBlock) -> None:
        verdict_colour = {"neural": ALERT, "not-neural": OK}.get(d.verdict, MUTED)
        score = "not recorded" if d.score is None else f"{d.score:.3f}"
        self.story.append(Paragraph(esc(f"{d.evidence_label}: detection result"), self.s["h3"]))
        if d.finding:
            again = sum(1 for r in self.m.earlier_detections if r.superseded_by == d.finding)
            listed = any(t.finding == d.finding for t in self.m.feature_tables)
            self.story.append(Paragraph(esc(
                f"Finding {d.finding}, recorded {d.created}, {d.model}."
                + (f" The latest of {again + 1} runs; the earlier ones are listed in the appendix." if again else "")
                + (" The measured features are listed, with their meaning, in the appendix." if listed else "")),
                self.s["caption"]))
        self.story.append(Statement(
            f"Verdict: <b>{esc(d.verdict)}</b>&nbsp;&nbsp;&nbsp;Score: {esc(score)} (0 = no neural traces, 1 = strong traces)",
            self.s["body"], verdict_colour))
        if d.likelihood:
            self.story.append(self.p(d.likelihood, cites=("enfsi2015guideline",)))
        if d.inconclusive_reason:
            self.story.append(self.p("Inconclusive because: " + d.inconclusive_reason))
        if d.explanation:
            self.story.append(self.p(d.explanation, cites=d.cites))
        if d.localisation:
            self.story.append(self.p(d.localisation))
        side: list[Flowable] = []
        if d.features:
            side.extend(self.kv_table(d.features, key_w=45 * mm, width=FRAME_W - 62 * mm if d.spectrum else FRAME_W))
        if d.spectrum is not None:
            fig = self.figure(d.spectrum, 56 * mm, 56 * mm)
            cap = Paragraph(esc(d.spectrum.caption or "Spectrum of the noise residual."), self.s["caption"])
            if side:
                t = Table([[side, [fig, cap]]], colWidths=[FRAME_W - 60 * mm, 60 * mm], hAlign="LEFT")
                t.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
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
        self.story.append(Statement(esc(m.scope), self.s["body"], ACCENT))

    def conclusion(self) -> None:
        m = self.m
        self.heading("Conclusion")
        self.story.append(self.p(
            "The conclusion is stated on the verbal scale of the ENFSI guideline for evaluative reporting, the "
            "scale in which the detection results above are also given. It weighs two propositions: that "
            f"{m.conclusion_proposition} (the proposition), and that {m.conclusion_alternative} (the alternative).",
            cites=("enfsi2015guideline",)))
        on_scale = any(lvl == m.conclusion_level for lvl, _ in m.conclusion_scale)
        level = m.conclusion_level or "not stated"
        colour = ACCENT if on_scale or not m.conclusion_level else ALERT
        self.story.append(Statement(f"Conclusion: <b>{esc(level)}</b>", self.s["body"], colour))
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
            self.grid(["Level", "Meaning"], rows, [52 * mm, FRAME_W - 52 * mm]),
        ]))





























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
    story = PdfBuilder(model).build()

    canvases: list[NumberedCanvas] = []

    def make_canvas(*args: Any, **kwargs: Any) -> NumberedCanvas:
        c = NumberedCanvas(*args, model=model, **kwargs)
        canvases.append(c)
        return c

    doc.build(story, canvasmaker=make_canvas)
    return buf.getvalue(), canvases[-1].page_count
