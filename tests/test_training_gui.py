"""Training in the window, offscreen: open a pack in training mode, mark, submit, review, agreement."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_fixtures import SECRET, key_regions, make_instructor_case

from examiner.core.case import Case
from examiner.core.regions import Category
from examiner.gui.main_window import MainWindow
from examiner.gui.training import AgreementDialog, ReviewDialog, ScoreDialog
from examiner.training.exercise_pack import make_pack


def _window(qtbot: object) -> MainWindow:
    w = MainWindow(interactive=False)
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    w.resize(1000, 700)
    w.show()
    return w


def test_training_menu_open_mark_submit_review(qtbot: object, tmp_path: Path) -> None:
    instructor = make_instructor_case(tmp_path / "instr")
    pack, _ = make_pack(instructor, tmp_path / "ex.mxpack")
    w = _window(qtbot)
    menus = [a.text() for a in w.menuBar().actions()]
    assert "T&raining" in menus
    c = w.training
    assert c.open_pack(pack.path, "T. Rainee", tmp_path / "t.mcase")
    assert w.session is not None and w.session.regions(w.evidence_id) == []
    assert w.evidence_id is not None
    # Before submitting there is nothing to review, and the key is not in the window.
    assert c.review() is None and "submit" in w.messages[-1]
    assert all(SECRET not in m for m in w.messages)
    first, _second = key_regions(0, 0)
    rid = w.regions.add_region(first.kind.value, first.points, categories=[Category.SHAPE], symbol=True)
    assert rid is not None
    result = c.submit()
    assert result is not None and (result.hits, result.misses) == (1, 2)
    dialog = c.dialogs[-1]
    assert isinstance(dialog, ScoreDialog)
    assert dialog.matches.rowCount() == 3
    words = [dialog.matches.item(r, 4).text() for r in range(3)]
    assert any(SECRET in t for t in words)  # the instructor's descriptions, after submitting
    review = c.review()
    assert isinstance(review, ReviewDialog)
    assert len(review.key_items) == 2 and len(review.mark_items) == 1
    assert "lamp off" in review.key_items[1].toolTip()
    assert c.save_pdf(tmp_path / "result.pdf") and (tmp_path / "result.pdf").read_bytes().startswith(b"%PDF")
    # The submission is recorded in the trainee's audit log, without the key.
    with Case.open(tmp_path / "t.mcase", read_only=True) as case:
        entries = [e for e in case.audit.entries() if e.action == "training.submitted"]
        assert len(entries) == 1 and SECRET not in str(entries[0].params)


def test_agreement_dialog_table_and_disagreements(qtbot: object, tmp_path: Path) -> None:
    a = make_instructor_case(tmp_path / "a")
    b = make_instructor_case(tmp_path / "b", "b.mcase")
    with Case.open(b) as case:
        case.update_details(examiner="Second Examiner")
        r = case.regions()[0]
        r.categories = [Category.GEOMETRY]
        case.update_region(r)
        sha = case.evidence()[0].sha256
    w = _window(qtbot)
    dialog = w.training.agreement_dialog()
    assert isinstance(dialog, AgreementDialog)
    dialog.set_cases([a, b])
    dialog.sha.setText(sha[:12])
    assert dialog.compute()
    questions = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert questions[0] == "presence" and "symbol flag" in questions
    assert dialog.table.item(0, 1).text() == "Cohen's kappa"
    assert dialog.disagreements.rowCount() == 1
    cells = [dialog.disagreements.item(0, c).text() for c in range(dialog.disagreements.columnCount())]
    assert "shape, Symbol" in cells and "geometry, Symbol" in cells
    dialog.sha.setText("zz")
    assert not dialog.compute() and "SHA-256" in dialog.summary.text()


@pytest.mark.parametrize("scenario", ["not a training case"])
def test_submit_refuses_an_ordinary_case(qtbot: object, tmp_path: Path, scenario: str) -> None:
    instructor = make_instructor_case(tmp_path / "instr")
    w = _window(qtbot)
    assert w.open_case(instructor)
    assert w.training.submit() is None
    assert scenario in w.messages[-1]
