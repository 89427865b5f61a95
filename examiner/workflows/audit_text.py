"""The audit log in sentences for the window: who did what, when, with repeated openings folded.

The raw entries stay what they are (hash-chained JSON in the case); this only words them for a
person reading the window's audit panel. Every value that came from outside (file names, notes,
a name typed by someone) passes through :func:`~examiner.core.text_safety.safe_text`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from examiner.core.text_safety import safe_text

OPENED = "case.opened"


def _short(sha: Any) -> str:
    return f"{str(sha)[:12]}..." if sha else "?"


def _name(path: Any) -> str:
    return safe_text(Path(str(path)).name, 120) if path else "?"


def _region(params: dict[str, Any], key: str = "region") -> str:
    r = params.get(key) or params.get("new") or {}
    rid = params.get("region_id") or (r.get("id") if isinstance(r, dict) else None)
    what = f"region R{rid}" if rid else "a region"
    if isinstance(r, dict) and r.get("category"):
        what += f" ({safe_text(r['category'], 40)})"
    return what


def _opened(p: dict[str, Any]) -> str:
    return "opened the case; integrity " + ("verified" if p.get("ok", True) else "PROBLEM: " + safe_text(p.get("chain", ""), 200))


def _checked(p: dict[str, Any]) -> str:
    return "re-checked integrity: " + ("every file and the log verified" if p.get("ok") else "PROBLEM found")


_SENTENCES: dict[str, Any] = {
    "case.created": lambda p: "created the case "
    + safe_text((p.get("details") or {}).get("case_id", ""), 80)
    + " for examiner "
    + safe_text((p.get("details") or {}).get("examiner", ""), 80),
    OPENED: _opened,
    "case.integrity_checked": _checked,
    "report.integrity_checked": lambda p: "re-checked integrity before a report: " + ("verified" if p.get("ok") else "PROBLEM found"),
    "case.details_updated": lambda p: "changed the case details (" + ", ".join(sorted(safe_text(k, 40) for k in (p.get("changes") or {}))) + ")",
    "evidence.added": lambda p: f"took in evidence E{p.get('evidence_id', '?')} {_name(p.get('path'))} "
    f"(SHA-256 {_short(p.get('sha256'))}, read-only)"
    + (f" with reference original {_name((p.get('reference') or {}).get('path'))}" if p.get("reference") else ""),
    "evidence.reference_set": lambda p: f"set the reference original of E{p.get('evidence_id', '?')} to "
    + (_name((p.get("new") or {}).get("path")) if p.get("new") else "none"),
    "finding.added": lambda p: f"recorded a {safe_text(p.get('kind', '?'), 40)} finding F{p.get('finding_id', '?')} "
    f"for E{p.get('evidence_id', '?')}",
    "artefact.stored": lambda p: f"stored {_name(p.get('name'))} (SHA-256 {_short(p.get('sha256'))})",
    "region.added": lambda p: "marked " + _region(p),
    "region.updated": lambda p: "edited " + _region(p, "new"),
    "region.deleted": lambda p: "deleted " + _region(p, "old"),
    "region.locked": lambda p: f"locked region R{p.get('region_id', '?')} as reviewed",
    "region.unlocked": lambda p: f"unlocked region R{p.get('region_id', '?')}",
    "meta.set": lambda p: f"set {safe_text(p.get('key', '?'), 80)}",
    "report.exported": lambda p: f"exported the report {_name(p.get('path'))} ({p.get('pages', '?')} pages, "
    f"SHA-256 {_short(p.get('sha256'))})",
    "audit.head_signed": lambda p: "signed the audit log's head",
    "training.submitted": lambda p: "submitted a training job",
}

# What the report's meta keys mean, for "set ..." sentences a reader understands.
_META_WORDS = {
    "report.summary": "the report's summary",
    "report.conclusion": "the report's conclusion",
    "report.limitations": "the report's extra limitations",
    "report.reviewer": "the report's reviewer",
}


def sentence(action: str, params: dict[str, Any]) -> str:
    """What one entry says, as a sentence without its subject (the actor) or time."""
    if action == "meta.set" and params.get("key") in _META_WORDS:
        return "set " + _META_WORDS[str(params["key"])]
    describe = _SENTENCES.get(action)
    if describe is not None:
        try:
            return str(describe(params))
        except (AttributeError, TypeError, ValueError):
            pass  # an entry of an unexpected shape is still shown, by its action name
    return "recorded " + safe_text(action, 80)


def when(time_utc: str) -> str:
    """``2026-12-07T22:27:45.871Z`` as ``2026-12-07 22:27:45 UTC``."""
    return safe_text(time_utc[:19].replace("T", " "), 40) + " UTC"


@dataclass
class AuditRow:
    """One line of the panel: one entry, or a run of successful openings folded together."""

    entries: list[Any] = field(default_factory=list)

    @property
    def first(self) -> Any:
        return self.entries[0]

    @property
    def last(self) -> Any:
        return self.entries[-1]

    @property
    def folded(self) -> bool:
        return len(self.entries) > 1

    @property
    def seq_text(self) -> str:
        return str(self.last.seq) if not self.folded else f"{self.first.seq}-{self.last.seq}"

    @property
    def actor(self) -> str:
        names = sorted({safe_text(e.actor, 80) for e in self.entries})
        return ", ".join(names)

    def text(self) -> str:
        """``<actor> <did what> (<when>)``, or for a folded run: opened N times, first and last."""
        if self.folded:
            return (
                f"{self.actor} opened the case {len(self.entries)} times (first {when(self.first.time_utc)}, "
                f"last {when(self.last.time_utc)}); integrity verified each time"
            )
        return f"{safe_text(self.last.actor, 80)} {sentence(self.last.action, self.last.params)}"

    def raw(self) -> str:
        """The entries as recorded, for whoever wants the record itself (escaped JSON)."""
        return "\n".join(
            safe_text(json.dumps(e.to_dict() if hasattr(e, "to_dict") else e.__dict__, ensure_ascii=False, sort_keys=True, indent=1), 20000)
            for e in self.entries
        )


def _foldable(entry: Any) -> bool:
    return bool(entry.action == OPENED and (entry.params or {}).get("ok", True))


def fold(entries: list[Any], rows: list[AuditRow] | None = None) -> tuple[list[AuditRow], bool]:
    """Entries (oldest first) added to ``rows``: consecutive successful openings join one row.

    Returns the rows and whether the first new entry joined the last existing row (so a view
    that shows rows incrementally updates that row instead of adding one). A failed opening is
    never folded: it must stand out.
    """
    out = list(rows or [])
    joined_last = False
    for i, e in enumerate(entries):
        if out and _foldable(e) and all(_foldable(x) for x in out[-1].entries):
            out[-1] = AuditRow([*out[-1].entries, e])
            joined_last = joined_last or i == 0
        else:
            out.append(AuditRow([e]))
    return out, joined_last
