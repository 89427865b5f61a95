"""The report's provenance rows for each evidence file: what the file itself states about its
making (Content Credentials, XMP/IPTC, a codec statement), read again from the re-hashed bytes.

They are recorded claims, shown beside the detector's results and never in place of them; the
inference is stated with them, in plain words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from examiner.report.model import EvidenceBlock

if TYPE_CHECKING:
    from examiner.report.sources import ReportSources

HEADING = "What the file states about its making (recorded claims, not findings)"


def attach(src: ReportSources, blocks: list[EvidenceBlock]) -> None:
    """Fill ``provenance`` of each evidence block from the bytes the evidence section re-read."""
    by_id = {item.id: item for item in src.items}
    for block in blocks:
        item = by_id.get(block.evidence_id)
        if item is None:
            continue
        chk = src.check(item.id, "evidence", item.path)
        if chk.data is None or chk.sha256 != item.sha256:
            block.provenance = [("Provenance", "not read: the file does not match its intake hash or cannot be read")]
            continue
        from examiner.core.provenance import read_provenance

        block.provenance = provenance_rows(read_provenance(chk.data, str(item.facts.get("format", ""))))


def provenance_rows(prov: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    cred = prov.get("c2pa")
    if cred is None:
        rows.append(("Content Credentials (C2PA)", "none in the file"))
    else:
        rows.append(("Content Credentials (C2PA)", f"present; validation status: {cred.get('status')}"))
        if cred.get("remote_url"):
            rows.append(("Remote manifest", f"{cred['remote_url']} (recorded, not fetched: the tool works offline)"))
        if cred.get("claim_generator"):
            rows.append(("Claim generator", ", ".join(cred["claim_generator"])))
        signer = cred.get("signer") or {}
        if signer.get("common_name") or signer.get("issuer"):
            rows.append(("Signer", f"{signer.get('common_name')} (issued by {signer.get('issuer')}; {signer.get('algorithm')})"))
        chain = cred.get("certificate_chain") or []
        if chain:
            rows.append(("Certificate chain", "; ".join(f"{c['subject']} [SHA-256 {c['sha256'][:16]}\u2026]" for c in chain)))
        if "signing_time" in cred:
            rows.append(("Signing time", cred.get("signing_time") or "not stated (no time-stamp in the credential)"))
        for act in cred.get("actions") or []:
            dst = act.get("digital_source_type")
            rows.append(("Action", f"{act.get('action')}" + (f"; digital source type {dst}" if dst else "")
                         + (f"; software {act['software_agent']}" if act.get("software_agent") else "")))  # fmt: skip
        for ing in cred.get("ingredients") or []:
            rows.append(("Ingredient", f"{ing.get('title')} ({ing.get('relationship')}, {ing.get('format')})"))
        if cred.get("failures"):
            rows.append(("Validation failures", "; ".join(cred["failures"])))
        if cred.get("trust"):
            rows.append(("Trust", cred["trust"]))
    xmp = prov.get("xmp")
    rows.append(("XMP packet", "none" if xmp is None else f"{xmp.get('length')} bytes"))
    for key, value in ((xmp or {}).get("iptc") or {}).items():
        rows.append((f"XMP {key.replace('_', ' ')}", value if isinstance(value, str) else "; ".join(map(str, value))))
    for statement in prov.get("statements") or []:
        rows.append(("Statement", statement))
    rows.append(("How to read this", str(prov.get("inference", ""))))
    return rows
