"""The examiner's own words in the report: summary, conclusion (level and wording) and extra
limitations, set in one place for the command line and the window.

Each change is one ``meta.set`` entry in the case's audit log, credited to the acting person;
a value that is already recorded is not written again, since every write changes the case state
and so the next report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from examiner.core.case import Case
from examiner.errors import ExaminerError
from examiner.report.model import (
    CONCLUSION_LEVELS,
    META_CONCLUSION,
    META_LIMITATIONS,
    META_SUMMARY,
)


@dataclass
class ReportText:
    """What the case holds now for the report's own words."""

    summary: str = ""
    conclusion_level: str = ""
    conclusion_text: str = ""
    conclusion_by: str = ""
    limitations: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "conclusion": {"level": self.conclusion_level, "text": self.conclusion_text,
                                                        "by": self.conclusion_by},
                "limitations": list(self.limitations)}  # fmt: skip


def conclusion_level(name: str) -> str:
    """The scale's level spelled as ``name`` (any letter case, spaces squeezed); an unknown
    level is refused with the levels listed."""
    wanted = " ".join(name.split()).lower()
    for level in CONCLUSION_LEVELS:
        if level.lower() == wanted:
            return level
    raise ExaminerError(f"unknown conclusion level {name!r}; use one of: {'; '.join(CONCLUSION_LEVELS)}")


def report_text(case: Case) -> ReportText:
    raw = case.get_meta(META_CONCLUSION, None) or {}
    if isinstance(raw, str):
        raw = {"level": raw}
    extra = case.get_meta(META_LIMITATIONS, []) or []
    if isinstance(extra, str):
        extra = [extra]
    return ReportText(
        summary=str(case.get_meta(META_SUMMARY, "") or ""),
        conclusion_level=str(raw.get("level", "") or ""),
        conclusion_text=str(raw.get("text", "") or ""),
        conclusion_by=str(raw.get("by", "") or ""),
        limitations=[str(e) for e in extra],
    )


def set_report_text(
    case: Case,
    *,
    summary: str | None = None,
    conclusion_level: str | None = None,
    conclusion_text: str | None = None,
    limitations: str | list[str] | None = None,
    actor: str | None = None,
) -> list[str]:
    """Record what is given (``None`` leaves a value as it is; an empty text clears it) and return
    the meta keys that changed.

    The conclusion level must be on :data:`~examiner.report.model.CONCLUSION_SCALE`; an empty
    level clears the conclusion. Wording without a level keeps the recorded level, and is refused
    when there is none. The conclusion records who stated it: ``actor``, else the case's acting
    person (the case's examiner unless someone else was named when it was opened).
    """
    who = (actor or "").strip() or case.actor
    now = report_text(case)
    changes: list[tuple[str, Any]] = []
    if summary is not None and summary.strip() != now.summary:
        changes.append((META_SUMMARY, summary.strip()))
    if conclusion_level is not None or conclusion_text is not None:
        level = now.conclusion_level if conclusion_level is None else conclusion_level.strip()
        if level:
            level = conclusion_level_checked(level, conclusion_level is None)
        text = now.conclusion_text if conclusion_text is None else conclusion_text.strip()
        if conclusion_level is not None and not level and conclusion_text is None:
            text = ""  # clearing the level clears the conclusion
        if text and not level:
            raise ExaminerError("a conclusion's wording needs its level: give --conclusion LEVEL as well")
        wanted: dict[str, str] | None = {"level": level, "text": text, "by": who} if level else None
        current = None if not now.conclusion_level else {
            "level": now.conclusion_level, "text": now.conclusion_text, "by": now.conclusion_by}  # fmt: skip
        same = (wanted or {}).get("level") == (current or {}).get("level") and (wanted or {}).get("text") == (current or {}).get("text")
        if not same:
            changes.append((META_CONCLUSION, wanted))
    if limitations is not None:
        items = [limitations] if isinstance(limitations, str) else list(limitations)
        cleaned = [" ".join(t.split()) for t in items if t.strip()]
        if cleaned != now.limitations:
            changes.append((META_LIMITATIONS, cleaned))
    for key, value in changes:
        case.set_meta(key, value, actor=who)
    return [key for key, _ in changes]


def conclusion_level_checked(level: str, kept: bool) -> str:
    """A new level must be on the scale; a kept one (only the wording changes) must be too, since
    new wording under a level of an earlier scale would read as if it had been re-stated."""
    try:
        return conclusion_level(level)
    except ExaminerError:
        if kept:
            raise ExaminerError(
                f"the recorded conclusion level {level!r} is on an earlier scale; state the level again "
                f"with --conclusion (one of: {'; '.join(CONCLUSION_LEVELS)})"
            ) from None
        raise
