"""Proposals in a case: store them, accept one as a region, or reject it (remembered and logged).

Nothing is marked without the examiner. The intended flow, used by the GUI and the CLI alike::

    results = run_checks(evidence_pixels, comparison_pixels)
    store_proposals(case, item.id, results, comparison="reference original")  # one finding per check
    for p in pending_proposals(case, item.id):      # shown as dashed boxes
        accept_proposal(case, item.id, p)            # -> Region, provenance "accepted from ..."
        accept_proposal(case, item.id, p, box=(x, y, w, h), categories=[...])   # edited first
        reject_proposal(case, item.id, p, reason="OCR misread")   # remembered + audit entry

A proposal is identified by :attr:`Proposal.key` (a hash of its box, check, readings and
category), so a rejected proposal stays hidden when the same check runs again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from examiner.analysis.symbols.proposals import CHECK_OBJECTS, CHECK_OCR, Box, CheckResult, Proposal
from examiner.core.audit import utc_now
from examiner.core.case import Case, Finding
from examiner.core.regions import Category, Provenance, Region, ShapeKind
from examiner.errors import CaseError
from examiner.findings.records import SymbolCheckRecord

FINDING_KIND = "symbols"
REJECTED_META_KEY = "symbols.rejected"
ACCEPTED_META_KEY = "symbols.accepted"


METHOD_MODULES = {
    CHECK_OCR: "examiner.analysis.symbols.ocr_diff",
    CHECK_OBJECTS: "examiner.analysis.symbols.object_diff",
}


def store_proposals(
    case: Case, evidence_id: int, results: Sequence[CheckResult], comparison: str = ""
) -> list[Finding]:
    """Record a run of the symbol checks as one finding per check (kind ``symbols``), each with
    its proposals, whether it could run, and a snapshot of its method for the report."""
    findings = []
    for r in results:
        record = SymbolCheckRecord.from_payload(
            {**r.to_dict(), "comparison": comparison, "method_module": METHOD_MODULES.get(r.check, "")}
        )
        findings.append(case.add_finding(evidence_id, FINDING_KIND, record.to_payload()))
    return findings


def proposals_in(finding: Finding) -> list[Proposal]:
    return [Proposal.from_dict(p) for p in finding.data.get("proposals", [])]


def _by_evidence(case: Case, key: str, evidence_id: int) -> dict[str, Any]:
    table = case.get_meta(key, {}) or {}
    return dict(table.get(str(evidence_id), {}))


def rejected(case: Case, evidence_id: int) -> dict[str, dict[str, Any]]:
    """Rejected proposals of one evidence item: key -> {proposal, reason, actor, utc}."""
    return _by_evidence(case, REJECTED_META_KEY, evidence_id)


def accepted(case: Case, evidence_id: int) -> dict[str, int]:
    """Accepted proposals of one evidence item: key -> id of the region made from it."""
    return {k: int(v) for k, v in _by_evidence(case, ACCEPTED_META_KEY, evidence_id).items()}


def pending_proposals(case: Case, evidence_id: int) -> list[Proposal]:
    """Proposals of each check's latest run not yet accepted or rejected, OCR first."""
    latest: dict[str, Finding] = {}
    for f in case.findings(evidence_id, FINDING_KIND):
        latest[str(f.data.get("check", ""))] = f  # findings come in id order: the last one wins
    done = set(rejected(case, evidence_id)) | set(accepted(case, evidence_id))
    out: list[Proposal] = []
    order = [c for c in METHOD_MODULES if c in latest] + sorted(c for c in latest if c not in METHOD_MODULES)
    for check in order:
        out.extend(p for p in proposals_in(latest[check]) if p.key not in done)
    return out


def _remember(case: Case, meta_key: str, evidence_id: int, key: str, value: Any) -> None:
    table = dict(case.get_meta(meta_key, {}) or {})
    entry = dict(table.get(str(evidence_id), {}))
    entry[key] = value
    table[str(evidence_id)] = entry
    case.set_meta(meta_key, table)


def _confidence_level(p: Proposal) -> str:
    if p.confidence >= 0.85:
        return "high"
    if p.confidence >= 0.5:
        return "medium"
    return "low"


def accept_proposal(
    case: Case,
    evidence_id: int,
    proposal: Proposal,
    box: Box | None = None,
    categories: Sequence[Category] | None = None,
    symbol: bool | None = None,
    notes: str = "",
    comparison: str = "",
) -> Region:
    """Turn a proposal into a rectangle region; ``box``, ``categories`` and ``symbol`` override
    the proposal's (the examiner edited it first). The region's provenance says which check
    suggested it, and its notes keep the check's evidence."""
    x, y, w, h = box if box is not None else proposal.box
    if w <= 0 or h <= 0:
        raise CaseError(f"a region needs a positive width and height, not {w}x{h}")
    provenance = Provenance.SUGGESTION_OCR if proposal.check == CHECK_OCR else Provenance.SUGGESTION_DETECTOR
    what = proposal.details.get("difference", "")
    auto_note = f"Proposed by the {proposal.check} check ({what}; score {proposal.confidence:.2f}, key {proposal.key})."
    region = Region(
        evidence_id=evidence_id,
        kind=ShapeKind.RECT,
        points=[(float(x), float(y)), (float(x + w), float(y + h))],
        categories=list(categories) if categories is not None else [proposal.category],
        symbol=proposal.symbol if symbol is None else symbol,
        evidence_says=proposal.evidence_reading,
        comparison_says=proposal.comparison_reading,
        confidence=_confidence_level(proposal),
        notes=(notes + "\n" + auto_note).strip(),
        provenance=provenance.value,
        comparison=comparison,
    )
    stored = case.add_region(region)
    _remember(case, ACCEPTED_META_KEY, evidence_id, proposal.key, stored.id)
    return stored


def reject_proposal(case: Case, evidence_id: int, proposal: Proposal, reason: str = "") -> None:
    """Remember the rejection in the case and write it to the audit log."""
    case.evidence_item(evidence_id)
    record = {"proposal": proposal.to_dict(), "reason": reason, "actor": case.actor, "utc": utc_now()}
    _remember(case, REJECTED_META_KEY, evidence_id, proposal.key, record)
    case.log_action(
        "symbols.proposal_rejected",
        {"evidence_id": evidence_id, "key": proposal.key, "proposal": proposal.to_dict(), "reason": reason},
    )
