"""Audit entries in words a reader of the report follows: who did what, and with which hash.

The raw record (every parameter, the login it was made under) stays in the case file and is
printed by ``examiner case log CASE --json``; the report's appendix gives one sentence per entry
beside the entry's hash, which the chain verification covers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any

from examiner.core.audit import AuditEntry

META_WORDS = {
    "report.summary": "the examiner's summary for the report",
    "report.conclusion": "the report's conclusion",
    "report.limitations": "the report's extra limitations",
    "report.reviewer": "the report's reviewer",
}


def _short(sha: Any) -> str:
    return f"{str(sha)[:16]}..." if sha else "not recorded"


def _name(path: Any) -> str:
    return PurePath(str(path)).name if path else "a file"


def _item(p: Mapping[str, Any], labels: Mapping[int, str]) -> str:
    eid = p.get("evidence_id")
    if isinstance(eid, int):
        return f"evidence item {labels.get(eid, eid)}"
    return "an evidence item"


def _created(p: Mapping[str, Any], _: Mapping[int, str]) -> str:
    raw = p.get("details")
    d = raw if isinstance(raw, dict) else {}
    return f"created case {d.get('case_id', '')} with {d.get('examiner', 'no one')} as its examiner"


def _evidence(p: Mapping[str, Any], labels: Mapping[int, str]) -> str:
    text = f"took in {_item(p, labels)}, {_name(p.get('path'))} (SHA-256 {_short(p.get('sha256'))})"
    ref = p.get("reference")
    if isinstance(ref, dict):
        text += f", with reference original {_name(ref.get('path'))} (SHA-256 {_short(ref.get('sha256'))})"
    return text


def _reference(p: Mapping[str, Any], labels: Mapping[int, str]) -> str:
    new = p.get("new")
    if isinstance(new, dict):
        return f"set the reference original of {_item(p, labels)} to {_name(new.get('path'))} (SHA-256 {_short(new.get('sha256'))})"
    return f"removed the reference original of {_item(p, labels)}"


def _finding(p: Mapping[str, Any], labels: Mapping[int, str]) -> str:
    fid = p.get("finding_id")
    which = f"finding F{fid}" if fid else "a finding"
    return f"recorded {which} ({p.get('kind', 'unknown kind')}) on {_item(p, labels)} (data SHA-256 {_short(p.get('data_sha256'))})"


def _region(verb: str) -> Callable[[Mapping[str, Any], Mapping[int, str]], str]:
    def text(p: Mapping[str, Any], labels: Mapping[int, str]) -> str:
        r = p.get("region") if isinstance(p.get("region"), dict) else p.get("new") if isinstance(p.get("new"), dict) else {}
        rid = p.get("region_id") or (r or {}).get("id")
        where = f" on {_item(r, labels)}" if isinstance(r, dict) and r.get("evidence_id") else ""
        reason = f" (reason: {p['reason']})" if p.get("reason") else ""
        return f"{verb} region {rid or ''}{where}{reason}".replace("region  ", "region ")
    return text


def _meta(p: Mapping[str, Any], _: Mapping[int, str]) -> str:
    key = str(p.get("key", ""))
    return f"set {META_WORDS.get(key, f'the case value {key!r}')} (value SHA-256 {_short(p.get('value_sha256'))})"


def _details(p: Mapping[str, Any], _: Mapping[int, str]) -> str:
    raw = p.get("changes")
    changes = raw if isinstance(raw, dict) else {}
    names = ", ".join(k.replace("_", " ") for k in changes) or "nothing"
    return f"changed the case details: {names}"


def _artefact(p: Mapping[str, Any], _: Mapping[int, str]) -> str:
    return f"stored {p.get('name', 'an artefact')} (SHA-256 {_short(p.get('sha256'))})"


def _check(p: Mapping[str, Any], _: Mapping[int, str]) -> str:
    outcome = "all matched" if p.get("ok") else "PROBLEMS were found"
    return f"checked the audit chain and every file's hashes: {outcome}"


def _signed(p: Mapping[str, Any], _: Mapping[int, str]) -> str:
    return "signed the audit chain's head with an examiner key"


def _exported(p: Mapping[str, Any], _: Mapping[int, str]) -> str:
    return f"exported report {p.get('report_id', '')} (PDF SHA-256 {_short(p.get('sha256'))})"


def _proposal(p: Mapping[str, Any], labels: Mapping[int, str]) -> str:
    return f"rejected a proposed symbol change on {_item(p, labels)}" + (f" (reason: {p['reason']})" if p.get("reason") else "")


SENTENCES: dict[str, Callable[[Mapping[str, Any], Mapping[int, str]], str]] = {
    "case.created": _created,
    "case.details_updated": _details,
    "evidence.added": _evidence,
    "evidence.reference_set": _reference,
    "finding.added": _finding,
    "artefact.stored": _artefact,
    "region.added": _region("marked"),
    "region.updated": _region("changed"),
    "region.locked": _region("locked"),
    "region.unlocked": _region("unlocked"),
    "region.deleted": _region("deleted"),
    "meta.set": _meta,
    "case.opened": _check,
    "case.integrity_checked": _check,
    "report.integrity_checked": _check,
    "audit.head_signed": _signed,
    "report.exported": _exported,
    "symbols.proposal_rejected": _proposal,
}


def sentence(entry: AuditEntry, labels: Mapping[int, str] | None = None) -> str:
    """``"Dr A marked region 3 on evidence item E1."``: the entry in words, credited to its actor."""
    words = SENTENCES.get(entry.action)
    what = words(entry.params, labels or {}) if words else f"recorded the action \u201c{entry.action}\u201d"
    return f"{entry.actor} {what}."
