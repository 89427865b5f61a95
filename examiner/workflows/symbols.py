"""The assisted symbol checks as an examination step: proposals stored, nothing marked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from examiner.core.case import Case
from examiner.core.tasks import TaskContext, silent
from examiner.findings.schema import TypedFinding, typed


def compute_symbol_checks(
    ctx: TaskContext, evidence: np.ndarray, comparison: np.ndarray, checks: Sequence[str] | None = None
) -> list[Any]:
    """The symbol checks; each result carries its proposals, or why it could not run."""
    from examiner.analysis import symbols

    if checks is None:
        return list(symbols.run_checks(evidence, comparison, ctx=ctx))
    return list(symbols.run_checks(evidence, comparison, list(checks), ctx))


def record_symbol_checks(case: Case, evidence_id: int, results: Sequence[Any], comparison: str) -> list[TypedFinding]:
    from examiner.analysis.symbols.workflow import store_proposals

    return [typed(f) for f in store_proposals(case, evidence_id, results, comparison)]


def symbol_checks(
    case: Case,
    evidence_id: int,
    comparison: np.ndarray,
    comparison_label: str,
    checks: Sequence[str] | None = None,
    ctx: TaskContext | None = None,
) -> list[TypedFinding]:
    """Run the checks on the case's (hash-checked) evidence against ``comparison`` and store one
    finding per check."""
    pixels = case.load_evidence(evidence_id).pixels
    results = compute_symbol_checks(ctx or silent(), pixels, comparison, checks)
    return record_symbol_checks(case, evidence_id, results, comparison_label)
