"""What every examination step needs: JSON-safe records and evidence found in a case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from examiner.core.case import Case, EvidenceItem
from examiner.errors import CaseError


def json_safe(value: Any) -> Any:
    """Plain JSON for the case file: numpy scalars and arrays become numbers and lists, NaN and
    infinities None (the case stores strict JSON)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist()) if value.size <= 4096 else f"<array {value.shape}>"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


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
