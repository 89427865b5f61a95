"""Proposals in a case: stored as a finding, accepted into regions, rejections remembered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from examiner.analysis.symbols import CHECK_OBJECTS, CHECK_OCR, METHODS, CheckResult, Proposal
from examiner.analysis.symbols.workflow import (
    accept_proposal,
    accepted,
    pending_proposals,
    reject_proposal,
    rejected,
    store_proposals,
)
from examiner.core.case import Case
from examiner.core.regions import Category, Provenance


def _case(tmp_path: Path) -> tuple[Case, int]:
    img = tmp_path / "plate.png"
    Image.fromarray(np.full((60, 120, 3), 200, np.uint8)).save(img)
    case = Case.create(tmp_path / "job.mcase", case_id="T-1", examiner="A. Examiner")
    item = case.add_evidence(img)
    return case, item.id


def _results() -> list[CheckResult]:
    ocr = Proposal((90, 10, 14, 20), CHECK_OCR, "7", "1", Category.SHAPE, True, 0.95, {"difference": "changed characters"})
    obj = Proposal((5, 5, 30, 50), CHECK_OBJECTS, "not detected", "person (30x50 px)", Category.AMPLITUDE, True, 0.6,
                   {"difference": "person detected in the comparison only"})
    return [
        CheckResult(CHECK_OCR, True, "Tesseract", [ocr], METHODS[CHECK_OCR]),
        CheckResult(CHECK_OBJECTS, True, "OpenCV", [obj], METHODS[CHECK_OBJECTS]),
    ]


def test_accept_makes_a_region_with_suggestion_provenance(tmp_path: Path) -> None:
    case, eid = _case(tmp_path)
    with case:
        findings = store_proposals(case, eid, _results(), comparison="reference original")
        assert [f.kind for f in findings] == ["symbols", "symbols"]
        assert findings[0].data["method"]["citations"] == ["smith2007tesseract"]
        pending = pending_proposals(case, eid)
        assert [p.check for p in pending] == [CHECK_OCR, CHECK_OBJECTS]
        region = accept_proposal(case, eid, pending[0])
        assert region.provenance == Provenance.SUGGESTION_OCR.value
        assert region.categories == [Category.SHAPE] and region.symbol
        assert (region.evidence_says, region.comparison_says) == ("7", "1")
        assert region.bbox() == (90, 10, 14, 20)
        assert region.confidence == "high"
        assert accepted(case, eid) == {pending[0].key: region.id}
        # Edited before accepting: the examiner's box and category win.
        edited = accept_proposal(case, eid, pending[1], box=(4, 4, 40, 56), categories=[Category.GEOMETRY])
        assert edited.provenance == Provenance.SUGGESTION_DETECTOR.value
        assert edited.bbox() == (4, 4, 40, 56) and edited.categories == [Category.GEOMETRY]
        assert pending_proposals(case, eid) == []


def test_rejection_is_remembered_across_runs_and_logged(tmp_path: Path) -> None:
    case, eid = _case(tmp_path)
    with case:
        store_proposals(case, eid, _results())
        first = pending_proposals(case, eid)[0]
        reject_proposal(case, eid, first, reason="OCR misread the plate border")
        assert first.key in rejected(case, eid)
        assert rejected(case, eid)[first.key]["reason"] == "OCR misread the plate border"
        # The same check run again: the rejected proposal stays hidden.
        store_proposals(case, eid, _results())
        assert [p.key for p in pending_proposals(case, eid)] == [_results()[1].proposals[0].key]
        entries = [e for e in case.audit.entries() if e.action == "symbols.proposal_rejected"]
        assert len(entries) == 1 and entries[0].params["key"] == first.key
        assert case.audit.verify().ok
        assert case.regions(eid) == []
    with Case.open(tmp_path / "job.mcase") as again:
        assert first.key in rejected(again, eid)


def test_proposal_round_trips_through_a_dict() -> None:
    p = _results()[0].proposals[0]
    q = Proposal.from_dict(p.to_dict())
    assert q == p and q.key == p.key
