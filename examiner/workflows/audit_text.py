"""The audit log as the window's panel lists it: one row per entry, with repeated openings folded.

Each entry is worded by :func:`examiner.core.audit_words.sentence`, the same sentence the
report's audit appendix prints; this module only adds the folding and the time format. The raw
entries stay what they are (hash-chained JSON in the case), and every value that came from
outside passes through :func:`~examiner.core.text_safety.safe_text`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from examiner.core.audit_words import sentence
from examiner.core.text_safety import safe_text

OPENED = "case.opened"


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
                f"last {when(self.last.time_utc)}); integrity verified each time."
            )
        return sentence(self.last)

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
