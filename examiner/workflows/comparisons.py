"""What a region may be compared against, checked when the comparison is given (not when a
report is made): the item's reference original, or the output image of a codec run on it."""

from __future__ import annotations

from examiner.core.case import Case
from examiner.errors import CaseError
from examiner.findings.schema import typed


def comparison_choices(case: Case, evidence_id: int) -> list[str]:
    """The comparison keys a region on ``evidence_id`` may name, in the case's order."""
    item = case.evidence_item(evidence_id)
    keys = ["reference"] if item.reference_path else []
    for f in case.findings():
        if f.evidence_id != evidence_id:
            continue
        try:
            has_image = typed(f).image_artefact() is not None
        except Exception:  # noqa: BLE001 - a finding that cannot be read is simply not offered
            has_image = False
        if has_image:
            keys.append(f"finding:{f.id}")
    return keys


def check_comparison(case: Case, evidence_id: int, key: str) -> str:
    """``key`` normalised (``"F3"`` and ``"3"`` read as ``finding:3``), or a :class:`CaseError`
    that lists the comparisons this item has. An empty key means none."""
    key = key.strip()
    if not key:
        return ""
    if key.lower().startswith("f") and key[1:].isdigit():
        key = f"finding:{key[1:]}"
    elif key.isdigit():
        key = f"finding:{key}"
    choices = comparison_choices(case, evidence_id)
    if key not in choices:
        valid = ", ".join(choices) if choices else "none (the item has no reference original and no codec output yet)"
        raise CaseError(f"{case.path}: evidence {evidence_id} has no comparison {key!r}; valid: {valid}")
    return key
