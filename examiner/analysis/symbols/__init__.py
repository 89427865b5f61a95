"""Assisted checks for symbols: OCR and object-detection differences that propose regions.

``run_checks(evidence, comparison, checks)`` runs the chosen checks on two pixel-aligned images
(the evidence and a reference original or a re-compression) and returns one
:class:`CheckResult` per check, each with its :class:`Proposal` list and its ``METHOD`` text for
the report. A check whose engine is missing (Tesseract) comes back with ``available=False`` and
a message; the others still run. Proposals become regions only through
:func:`examiner.analysis.symbols.workflow.accept_proposal`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from examiner.analysis.symbols.object_diff import METHOD as OBJECTS_METHOD
from examiner.analysis.symbols.object_diff import object_check
from examiner.analysis.symbols.ocr_diff import METHOD as OCR_METHOD
from examiner.analysis.symbols.ocr_diff import ocr_check, tesseract_status
from examiner.analysis.symbols.proposals import (
    ALL_CHECKS,
    CHECK_OBJECTS,
    CHECK_OCR,
    CheckResult,
    Proposal,
)
from examiner.core.tasks import TaskContext
from examiner.errors import ExaminerError

METHODS = {CHECK_OCR: OCR_METHOD, CHECK_OBJECTS: OBJECTS_METHOD}

__all__ = [
    "ALL_CHECKS",
    "CHECK_OBJECTS",
    "CHECK_OCR",
    "METHODS",
    "CheckResult",
    "Proposal",
    "object_check",
    "ocr_check",
    "parse_checks",
    "run_checks",
    "tesseract_status",
]


def parse_checks(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"ocr,objects"`` (or a list) to a checked tuple of check names; None means all."""
    if text is None:
        return ALL_CHECKS
    items = text.split(",") if isinstance(text, str) else list(text)
    names = tuple(dict.fromkeys(i.strip().lower() for i in items if i.strip()))
    unknown = [n for n in names if n not in ALL_CHECKS]
    if unknown or not names:
        raise ExaminerError(
            f"unknown symbol check {', '.join(unknown) or '(none given)'}; choose from {', '.join(ALL_CHECKS)}"
        )
    return names


def run_checks(
    evidence: np.ndarray,
    comparison: np.ndarray,
    checks: Sequence[str] = ALL_CHECKS,
    ctx: TaskContext | None = None,
) -> list[CheckResult]:
    """Run the chosen checks in a fixed order; progress is shared evenly between them."""
    ctx = ctx or TaskContext()
    names = parse_checks(list(checks))
    results: list[CheckResult] = []
    for i, name in enumerate(names):
        sub = ctx.sub(i, i + 1, len(names))
        if name == CHECK_OCR:
            results.append(ocr_check(evidence, comparison, sub))
        else:
            results.append(object_check(evidence, comparison, sub))
    ctx.progress(len(names), len(names), "symbol checks done")
    return results
