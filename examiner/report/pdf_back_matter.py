"""The PDF's back matter: signature blocks, bibliography and the audit-log appendix with the
hash manifest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table

from examiner.report.pdf_flowables import Rule, Statement, table_style, wrap_hash

# Importing the style module puts reportlab in invariant mode, before any canvas is made.
from examiner.report.pdf_style import ALERT, FRAME_W, INK, OK
from examiner.report.pdf_text import esc

if TYPE_CHECKING:
    from examiner.report.pdf import PdfBuilder

def signatures(pb: PdfBuilder) -> None:
    m = pb.m
    pb.heading("Signatures")
    pb.story.append(pb.p(
        "I confirm that this report states the work I did and the results I found, and that I have "
        "stated the limitations known to me."))
    cell_w = (FRAME_W - 10 * mm) / 2

    def block(role: str, name: str) -> list[Flowable]:
        return [
            Paragraph(esc(role), pb.s["cellh"]),
            Paragraph(esc(name or "name not recorded"), pb.s["cellb"]),
            Spacer(1, 14 * mm),
            Rule(cell_w - 6, INK, 0.5, space_after=1),
            Paragraph("Signature", pb.s["caption"]),
            Spacer(1, 6 * mm),
            Rule(cell_w - 6, INK, 0.5, space_after=1),
            Paragraph("Date", pb.s["caption"]),
        ]

    t = Table([[block("Examiner", m.examiner), block("Reviewer", m.reviewer)]], colWidths=[cell_w + 5 * mm] * 2, hAlign="LEFT")
    t.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    pb.story.append(KeepTogether([t]))

def bibliography(pb: PdfBuilder) -> None:
    pb.heading("Bibliography")
    rows = [[f"[{n}]", text] for n, _, text in pb.m.bibliography]
    if not rows:
        pb.story.append(pb.p("No work is cited."))
        return
    t = Table([[Paragraph(esc(a), pb.s["cell"]), Paragraph(esc(b), pb.s["cell"])] for a, b in rows],
              colWidths=[11 * mm, FRAME_W - 11 * mm], hAlign="LEFT")
    t.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    pb.story.append(t)

def appendix(pb: PdfBuilder) -> None:
    m = pb.m
    pb.heading("Appendix: audit log and hash manifest")
    pb.subheading("Audit log")
    pb.story.append(Statement(esc(m.audit_verification), pb.s["body"], OK if m.audit_ok else ALERT))
    if m.audit_note:
        pb.story.append(Paragraph(esc(m.audit_note), pb.s["caption"]))
    if m.audit_head:
        n, _, h = m.audit_head.partition(":")
        anchor = [("Chain head (anchor)", f"entry {n}, SHA-256 {h}"),
                  ("Check the case later", f"examiner case verify CASE --expect-head {m.audit_head}")]
        sig = m.head_signature
        if sig:
            anchor += [("Signed by key", f"{sig.get('fingerprint', '')} (Ed25519 public key {sig.get('public_key', '')})"),
                       ("Signature", str(sig.get("signature", "")))]
        pb.story.extend(pb.kv_table(anchor, key_w=42 * mm))
        pb.story.append(Paragraph(esc(
            "Entry N's hash covers every entry before it. A case file whose entry N still has this hash holds "
            "the same log up to that entry as when this report was made; entries after it were added later."
            + (" The signature can be checked against the examiner's public key with --public-key." if sig else "")),
            pb.s["caption"]))
    rows = []
    for a in m.audit:
        when = a.time_utc[:19] + " UTC" if len(a.time_utc) >= 19 else a.time_utc
        rows.append([
            str(a.seq),
            Paragraph(esc(when), pb.s["cell"]),
            Paragraph(esc(a.sentence or f"{a.actor}: {a.action}"), pb.s["cell"]),
            Paragraph(esc(wrap_hash(a.entry_hash)), pb.s["mono"]),
        ])
    if rows:
        pb.story.append(pb.grid(["#", "When", "What was done, by whom", "Entry hash"], rows,
                                    [9 * mm, 24 * mm, FRAME_W - 69 * mm, 36 * mm]))
        pb.story.append(Paragraph(esc(
            "Each entry in words. The full record of every entry (all its parameters, and the computer login "
            "it was made under) is kept in the case file: examiner case log CASE --json."), pb.s["caption"]))
    pb.subheading("Hash manifest")
    pb.story.append(pb.p(
        "SHA-256 of every file and image this report rests on or shows. A figure's hash is that of its "
        "raw 8-bit RGB pixels in row order, which is the image stream embedded (losslessly) in this PDF."))
    pb.story.append(pb.grid(["Item", "Role", "SHA-256"],
                                [[r.item, r.role, r.sha256] for r in m.manifest],
                                [42 * mm, 26 * mm, FRAME_W - 68 * mm]))
