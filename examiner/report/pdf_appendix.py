"""The PDF's technical appendix: the measured features behind each detection result, with a
legend in plain words, and the earlier detection runs that a later run of the same method
superseded (one line each)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph

from examiner.report.pdf_style import FRAME_W
from examiner.report.pdf_text import esc

if TYPE_CHECKING:
    from examiner.report.pdf import PdfBuilder


def technical(pb: PdfBuilder) -> None:
    m = pb.m
    pb.heading("Appendix: technical details")
    if not m.feature_tables and not m.earlier_detections:
        pb.story.append(pb.p("No detection result with measured features is recorded in the case."))
        return
    if m.feature_tables:
        pb.subheading("Measured features")
        pb.story.append(pb.p(
            "The figures the detector measured and combined into each result shown under Results. They are "
            "given so that the result can be checked and reproduced; the legend below says what each one means."))
        for t in m.feature_tables:
            items: list[Flowable] = [Paragraph(esc(f"{t.evidence_label}, finding {t.finding}"), pb.s["h3"])]
            items.extend(pb.kv_table(t.rows, key_w=50 * mm))
            pb.story.append(KeepTogether(items))
        if m.feature_legend:
            pb.story.append(Paragraph("Legend", pb.s["h3"]))
            pb.story.append(pb.grid(["Feature", "Meaning"], [[k, v] for k, v in m.feature_legend],
                                    [42 * mm, FRAME_W - 42 * mm]))
    if m.earlier_detections:
        pb.subheading("Earlier detection runs")
        pb.story.append(pb.p(
            "Detection was run more than once on the same item with the same method. Results shows the latest "
            "run; the earlier runs are listed here, one line each, and are not results of their own."))
        rows = [[r.created, f"{r.finding} ({r.evidence_label})", r.model, r.verdict, r.likelihood_ratio, r.superseded_by]
                for r in m.earlier_detections]  # fmt: skip
        pb.story.append(pb.grid(["Time (UTC)", "Run", "Model", "Verdict", "Likelihood ratio", "Replaced by"], rows,
                                [25 * mm, 18 * mm, 36 * mm, 18 * mm, FRAME_W - 121 * mm, 24 * mm]))
