"""What the report's appendix says about the audit log: its rows, the verification statement
(the result of the full check: chain, every table row, artefact blobs) and the chain head it
anchors."""

from __future__ import annotations

from collections.abc import Mapping

from examiner.core.audit import AuditEntry, ChainReport, canonical_json
from examiner.core.audit_words import sentence
from examiner.core.row_records import ROWS_PARAM, RowReport
from examiner.core.text_safety import name_text
from examiner.report.model import AuditRow


def anchor_head(entries: list[AuditEntry], chain: ChainReport) -> str:
    """``N:HASH`` of the newest entry that changed the case (``entries`` hold no observations),
    so the same state gives the same anchor however often it is opened; empty when the chain
    is broken, since a broken chain anchors nothing."""
    if not entries or not chain.ok:
        return ""
    return f"{entries[-1].seq}:{entries[-1].entry_hash}"


def audit_rows(entries: list[AuditEntry], detail_chars: int, labels: Mapping[int, str] | None = None) -> list[AuditRow]:
    rows = []
    for e in entries:
        params = dict(e.params)
        row_hashes = params.pop(ROWS_PARAM, None)  # 64 hex digits per row would crowd out the details
        details = canonical_json(params)
        if isinstance(row_hashes, dict) and row_hashes:
            details += f" [+ SHA-256 of {len(row_hashes)} table row(s) written]"
        if len(details) > detail_chars:
            details = details[:detail_chars] + f" \u2026 [{len(details):,} characters; the entry hash covers all of them]"
        rows.append(AuditRow(e.seq, e.time_utc.replace("T", " "), name_text(e.actor), e.action, details, e.entry_hash,
                             sentence(e, labels)))
    return rows


def audit_statement(chain: ChainReport, rows: RowReport) -> str:
    if not chain.ok:
        where = f"entry {chain.first_bad}" if chain.first_bad is not None else "the log"
        return f"AUDIT CHAIN BROKEN at {where}: {chain.problem}. Entries from that point on cannot be trusted."
    if not rows.ok:
        more = f"; and {len(rows.problems) - 5} more" if len(rows.problems) > 5 else ""
        return (
            f"CASE CONTENT DOES NOT MATCH ITS AUDIT LOG: {len(rows.problems)} problem(s): "
            f"{'; '.join(rows.problems[:5])}{more}. The chain itself verifies, but the case was changed outside "
            "the program; nothing in this report may be relied on."
        )
    text = (
        "Audit chain and case content verified when this report was generated: intact. Every entry's hash was "
        "recomputed from its content and the previous entry's hash, the end of the log matches its stored head, "
        f"all {rows.rows} table rows (case details, evidence, regions, findings, artefacts, case values) match "
        f"what the log recorded, and {rows.artefacts_rehashed} stored artefact(s) were hashed again."
    )
    if rows.notes:
        text += " Note: " + " ".join(rows.notes) + "."
    return text
