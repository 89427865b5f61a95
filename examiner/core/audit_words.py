"""An audit entry in words: who did what, and with which hash.

One wording for every place a person reads the log: the window's audit panel and the report's
audit appendix both call :func:`sentence`, so the same entry reads the same in both. The raw
record (every parameter, the login it was made under) stays in the case file and is printed by
``examiner case log CASE --json``; the chain verification covers it, not these words.

Every value that came from outside (file names, notes, a name someone typed) passes through
:func:`~examiner.core.text_safety.safe_text`, so a direction override in a file name cannot
make a sentence read as something it is not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any

from examiner.core.audit import AuditEntry
from examiner.core.text_safety import safe_text

Labels = Mapping[int, str]

# What the case values the report reads mean, for "set ..." sentences a reader understands.
META_WORDS = {
    "report.summary": "the report's summary",
    "report.conclusion": "the report's conclusion",
    "report.limitations": "the report's extra limitations",
    "report.reviewer": "the report's reviewer",
}


def _safe(value: Any, limit: int = 200) -> str:
    return safe_text(value if isinstance(value, str | bytes) else str(value), limit)


def _short(sha: Any) -> str:
    return f"{_safe(sha, 64)[:16]}..." if sha else "not recorded"


def _name(path: Any) -> str:
    return _safe(PurePath(str(path)).name, 120) if path else "a file"


def _item(p: Mapping[str, Any], labels: Labels) -> str:
    eid = p.get("evidence_id")
    if isinstance(eid, int):
        return f"evidence item {labels.get(eid, f'E{eid}')}"
    return "an evidence item"


def _created(p: Mapping[str, Any], _: Labels) -> str:
    raw = p.get("details")
    d = raw if isinstance(raw, dict) else {}
    return f"created case {_safe(d.get('case_id', ''), 80)} with {_safe(d.get('examiner') or 'no one', 80)} as its examiner"


def _evidence(p: Mapping[str, Any], labels: Labels) -> str:
    text = f"took in {_item(p, labels)}, {_name(p.get('path'))} (SHA-256 {_short(p.get('sha256'))}, read-only)"
    ref = p.get("reference")
    if isinstance(ref, dict):
        text += f", with reference original {_name(ref.get('path'))} (SHA-256 {_short(ref.get('sha256'))})"
    return text


def _reference(p: Mapping[str, Any], labels: Labels) -> str:
    new = p.get("new")
    if isinstance(new, dict):
        return f"set the reference original of {_item(p, labels)} to {_name(new.get('path'))} (SHA-256 {_short(new.get('sha256'))})"
    return f"removed the reference original of {_item(p, labels)}"


def _finding(p: Mapping[str, Any], labels: Labels) -> str:
    fid = p.get("finding_id")
    which = f"finding F{fid}" if fid else "a finding"
    return (f"recorded {which} ({_safe(p.get('kind', 'unknown kind'), 40)}) on {_item(p, labels)} "
            f"(data SHA-256 {_short(p.get('data_sha256'))})")  # fmt: skip


def _categories(r: Mapping[str, Any]) -> str:
    names = r.get("categories") if isinstance(r.get("categories"), list) else [r["category"]] if r.get("category") else []
    return f" ({', '.join(_safe(c, 40) for c in names)})" if names else ""


def _region(verb: str) -> Callable[[Mapping[str, Any], Labels], str]:
    def text(p: Mapping[str, Any], labels: Labels) -> str:
        r: dict[str, Any] = next((p[k] for k in ("region", "new", "old") if isinstance(p.get(k), dict)), {})
        rid = p.get("region_id") or r.get("id")
        what = f"region R{_safe(rid, 20)}" if rid else "a region"
        where = f" on {_item(r, labels)}" if isinstance(r.get("evidence_id"), int) else ""
        reason = f" (reason: {_safe(p['reason'])})" if p.get("reason") else ""
        return f"{verb} {what}{_categories(r)}{where}{reason}"

    return text


def _meta(p: Mapping[str, Any], _: Labels) -> str:
    key = str(p.get("key", ""))
    what = META_WORDS.get(key) or f"the case value \u201c{_safe(key, 80)}\u201d"
    sha = p.get("value_sha256")
    return f"set {what}" + (f" (value SHA-256 {_short(sha)})" if sha else "")


def _details(p: Mapping[str, Any], _: Labels) -> str:
    raw = p.get("changes")
    changes = raw if isinstance(raw, dict) else {}
    names = ", ".join(_safe(k, 40).replace("_", " ") for k in changes) or "nothing"
    return f"changed the case details: {names}"


def _artefact(p: Mapping[str, Any], _: Labels) -> str:
    return f"stored {_name(p.get('name')) if p.get('name') else 'an artefact'} (SHA-256 {_short(p.get('sha256'))})"


def _outcome(p: Mapping[str, Any]) -> str:
    """``verified``, or what the check found wrong (the chain, the rows, the files that differ)."""
    if p.get("ok", True):
        return "integrity verified (audit chain, table rows and every file's SHA-256)"
    healthy = ("audit chain intact", "all ")  # the start of each summary when that part verified
    problems = [_safe(p[k]) for k in ("chain", "rows") if p.get(k) and not str(p[k]).startswith(healthy)]
    raw = p.get("files")
    files = raw if isinstance(raw, list) else []
    problems += [f"E{f.get('evidence_id', '?')} {_safe(f.get('role', ''), 20)} {_safe(f.get('status', ''), 40)}"
                 for f in files if isinstance(f, dict) and f.get("status") != "ok"]  # fmt: skip
    return "integrity PROBLEM: " + ("; ".join(problems) or "see the raw record")


def _opened(p: Mapping[str, Any], _: Labels) -> str:
    return "opened the case; " + _outcome(p)


def _checked(before: str) -> Callable[[Mapping[str, Any], Labels], str]:
    return lambda p, _: f"re-checked the case{before}; " + _outcome(p)


def _exported(p: Mapping[str, Any], _: Labels) -> str:
    pages = f", {p['pages']} pages" if isinstance(p.get("pages"), int) else ""
    rid = f"report {_safe(p.get('report_id'), 80)}" if p.get("report_id") else "the report"
    return f"exported {rid} as {_name(p.get('path'))}{pages} (PDF SHA-256 {_short(p.get('sha256'))})"


def _proposal(p: Mapping[str, Any], labels: Labels) -> str:
    return f"rejected a proposed symbol change on {_item(p, labels)}" + (f" (reason: {_safe(p['reason'])})" if p.get("reason") else "")


def _training(p: Mapping[str, Any], _: Labels) -> str:
    score = p.get("score")
    return "submitted the training case for scoring" + (f" (score {score})" if isinstance(score, (int, float)) else "")


WORDS: dict[str, Callable[[Mapping[str, Any], Labels], str]] = {
    "case.created": _created,
    "case.details_updated": _details,
    "case.opened": _opened,
    "case.integrity_checked": _checked(""),
    "report.integrity_checked": _checked(" before a report"),
    "evidence.added": _evidence,
    "evidence.reference_set": _reference,
    "finding.added": _finding,
    "artefact.stored": _artefact,
    "region.added": _region("marked"),
    "region.updated": _region("changed"),
    "region.deleted": _region("deleted"),
    "region.locked": _region("locked"),
    "region.unlocked": _region("unlocked"),
    "meta.set": _meta,
    "audit.head_signed": lambda p, _: "signed the audit chain's head with an examiner key",
    "report.exported": _exported,
    "symbols.proposal_rejected": _proposal,
    "training.submitted": _training,
}


def what(action: str, params: Mapping[str, Any], labels: Labels | None = None) -> str:
    """What one entry did, without its subject (the actor) or time: ``marked region R1 (Geometry)``.

    ``labels`` names evidence items as the reader sees them (the report numbers them E1, E2 ... in
    its own order); without it an item is ``E<id>``, as the window lists it.
    """
    words = WORDS.get(action)
    if words is not None:
        try:
            return words(params if isinstance(params, Mapping) else {}, labels or {})
        except (AttributeError, KeyError, TypeError, ValueError):
            pass  # an entry of an unexpected shape still reads, by its action name
    return f"recorded the action \u201c{_safe(action, 80)}\u201d"


def sentence(entry: AuditEntry, labels: Labels | None = None) -> str:
    """``Dr A marked region R1 (Geometry) on evidence item E1.``: the entry, credited to its actor."""
    return f"{_safe(entry.actor, 80)} {what(entry.action, entry.params, labels)}."
