"""Region edit commands without a window: do, undo and redo against a real case file."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from examiner.core.case import Case
from examiner.core.regions import Category, Region, ShapeKind
from examiner.workflows.region_edits import (
    AddRegionCommand,
    DeleteRegionCommand,
    EditRegionCommand,
    LockRegionCommand,
    RefBook,
)
from tests.gui_fixtures import make_case


def _region(evidence_id: int) -> Region:
    return Region(evidence_id=evidence_id, kind=ShapeKind.RECT, points=[(1.0, 2.0), (30.0, 40.0)],
                  categories=[Category.SHAPE], evidence_says="7", comparison_says="1")


@pytest.fixture
def case(tmp_path: Path) -> Case:
    c = Case.open(make_case(tmp_path / "c"))
    yield c
    c.close()


def test_add_undo_redo_follow_the_region_to_its_new_id(case: Case) -> None:
    book, selected = RefBook(), []
    eid = case.evidence()[0].id
    add = AddRegionCommand(case, book, _region(eid), selected.append)
    add.do()
    first = add.ref.id
    assert first is not None and [r.id for r in case.regions()] == [first]
    add.undo()
    assert case.regions() == [] and add.ref.id is None
    add.do()  # redo: a new id, and the ref follows it
    assert add.ref.id is not None and add.ref.id != first
    assert selected == [first, None, add.ref.id]


def test_edit_delete_and_lock_are_reversible_and_each_step_is_in_the_log(case: Case) -> None:
    book = RefBook()
    eid = case.evidence()[0].id
    add = AddRegionCommand(case, book, _region(eid), lambda _id: None)
    add.do()
    rid = add.ref.id
    assert rid is not None
    before = case.region(rid)
    after = copy.deepcopy(before)
    after.evidence_says = "8"
    edit = EditRegionCommand(case, book, before, after, lambda _id: None, "Reading")
    edit.do()
    assert case.region(rid).evidence_says == "8"
    edit.undo()
    assert case.region(rid).evidence_says == "7"
    delete = DeleteRegionCommand(case, book, rid, lambda _id: None)
    delete.do()
    assert case.regions() == []
    delete.undo()
    (restored,) = case.regions()
    assert restored.evidence_says == "7" and delete.ref.id == restored.id
    lock = LockRegionCommand(case, book, restored.id or 0, lambda _id: None)
    lock.do()
    assert case.region(restored.id or 0).locked
    lock.undo()
    assert not case.region(restored.id or 0).locked
    actions = [e.action for e in case.audit.entries()]
    assert actions.count("region.added") >= 2 and "region.deleted" in actions
    assert case.audit.verify().ok


def test_an_edit_of_an_unstored_region_is_refused(case: Case) -> None:
    r = _region(case.evidence()[0].id)
    with pytest.raises(ValueError, match="stored region"):
        EditRegionCommand(case, RefBook(), r, r, lambda _id: None, "x")
