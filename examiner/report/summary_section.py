"""The report's summary of findings and its statement on the integrity of the evidence files
and the case file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from examiner.core.regions import CORE_CATEGORIES
from examiner.report.audit_section import audit_statement
from examiner.report.model import (
    CONCLUSION_LEVELS,
    CONCLUSION_PROPOSITION,
    DetectionBlock,
    EvidenceBlock,
    Para,
    RecompressionBlock,
    RegionBlock,
)

if TYPE_CHECKING:
    from examiner.report.sources import ReportSources

def summary_placeholder(src: ReportSources) -> list[Para]:
    text = src.summary_text
    return [Para("Examiner's summary: " + str(text))] if text else []

def summary(
    src: ReportSources,
    evidence: list[EvidenceBlock],
    intact: bool,
    detections: list[DetectionBlock],
    recompressions: list[RecompressionBlock],
    regions: list[RegionBlock],
    level: str,
) -> list[Para]:
    out: list[Para] = []
    n = len(evidence)
    if n == 0:
        out.append(Para("The case holds no evidence item; nothing was examined."))
    else:
        names = "; ".join(f"{blk.label} {blk.file_name}" for blk in evidence)
        out.append(Para(f"{n} evidence item{'s were' if n != 1 else ' was'} examined: {names}."))
        if intact:
            out.append(Para(
                "When this report was generated every evidence file was hashed again: all SHA-256 and MD5 "
                "values match those taken at intake, so the files examined are the files received."
            ))
        else:
            out.append(Para(
                "WARNING: when this report was generated at least one evidence or reference file did not "
                "match its intake hash or could not be read (see Evidence and integrity). Results concerning "
                "that file must not be relied on."
            ))
    if not (src.chain.ok and src.rows.ok):
        out.append(Para(
            "WARNING: the case file does not verify: its audit log is broken, or its content was changed "
            "outside the program (see the appendix). Nothing in this report may be relied on."
        ))
    for d in detections:
        score = "" if d.score is None else f" (score {d.score:.2f} on a scale from 0 to 1)"
        meaning = {
            "neural": "the image shows traces typical of a neural (learned) image codec",
            "not-neural": "no traces of a neural image codec were found",
            "inconclusive": "the traces neither clearly indicate nor exclude a neural image codec",
        }.get(d.verdict, f"the verdict is \u201c{d.verdict}\u201d")
        out.append(Para(f"Trace detection on {d.evidence_label}: {meaning}{score}."))
    if recompressions:
        by_item: dict[str, list[str]] = {}
        for r in recompressions:
            name = f"{r.codec_name} at quality {r.quality}" + (" (a demonstration codec)" if r.demonstration else "")
            by_item.setdefault(r.evidence_label, []).append(name)
        for label, codec_names in by_item.items():
            out.append(Para(f"{label} was re-compressed locally for comparison with: {', '.join(codec_names)}."))
    if regions:
        counts = {c: sum(1 for r in regions if c.value in r.categories) for c in CORE_CATEGORIES}
        parts = [f"{v} {c.value.capitalize()}" for c, v in counts.items() if v]
        symbols = sum(1 for r in regions if r.symbol)
        out.append(Para(
            f"{len(regions)} region{'s were' if len(regions) != 1 else ' was'} marked where the evidence may "
            f"show something other than the scene: {', '.join(parts) or 'no category assigned'}"
            f"{'' if not parts else ' (a region can carry several categories)'}; {symbols} concern"
            f"{'s' if symbols == 1 else ''} a symbol such as a letter, digit or sign.",
            cites=("hofer2024taxonomy",),
        ))
    else:
        out.append(Para("No region was marked."))
    if level in CONCLUSION_LEVELS:
        out.append(Para(f"Conclusion: {level} (the proposition: {CONCLUSION_PROPOSITION})."))
    elif level:
        out.append(Para(f"Conclusion: \u201c{level}\u201d, recorded on an earlier scale and not on this report's; see Conclusion."))
    else:
        out.append(Para("The examiner has not stated a conclusion on the scale of this report."))
    return out

def integrity_statement(src: ReportSources, blocks: list[EvidenceBlock], intact: bool) -> str:
    files = files_statement(src, blocks, intact)
    if src.chain.ok and src.rows.ok:
        return files
    return "THE CASE FILE DOES NOT VERIFY: " + audit_statement(src.chain, src.rows) + " " + files

def files_statement(src: ReportSources, blocks: list[EvidenceBlock], intact: bool) -> str:
    if not blocks:
        return "No evidence file is recorded in the case."
    if intact:
        return (
            f"All {len(blocks)} evidence file(s) and their reference originals were hashed again for this "
            "report. Every SHA-256 and MD5 value matches the value taken at intake."
        )
    bad = [f"{blk.label} ({blk.status})" for blk in blocks if not blk.intact]
    refs = [src.labels[eid] for (eid, role), c in src.checks.items() if role == "reference" and c.sha256 is None]
    return (
        "INTEGRITY PROBLEM: the following files do not match their intake hashes or could not be read: "
        + ", ".join(bad + [f"{r} reference" for r in refs])
        + ". Results concerning them must not be relied on."
    )
