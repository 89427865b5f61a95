"""What every examination step needs: evidence found in a case by its bytes."""

from __future__ import annotations

from pathlib import Path

from examiner.core.case import Case, EvidenceItem
from examiner.errors import CaseError


def evidence_by_sha256(case: Case, sha256: str, path: str | Path | None = None) -> EvidenceItem:
    """The case's evidence item with these bytes (the one at ``path`` first, when several are)."""
    items = [e for e in case.evidence() if e.sha256 == sha256]
    if not items:
        where = f" ({path})" if path is not None else ""
        raise CaseError(
            f"{case.path}: the image{where} (SHA-256 {sha256[:16]}...) is not evidence in this case; "
            "add it first with `examiner case add-evidence`"
        )
    if path is not None:
        target = Path(path).resolve()
        for item in items:
            if Path(item.path).resolve() == target:
                return item
    return items[0]
