"""A whole examination driven through the GUI, offscreen: open, re-compress, compare in every
mode, draw a polygon, set the taxonomy, undo/redo, save, reopen and find everything again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt

from examiner.analysis import compare
from examiner.core.case import Case
from examiner.core.regions import Category, ShapeKind
from examiner.errors import ExaminerError
from examiner.gui.compare_controller import MODES
from examiner.gui.image_view import TOOL_POLYGON
from examiner.gui.main_window import MainWindow
from tests.gui_fixtures import make_case


def _window(qtbot: object) -> MainWindow:
    w = MainWindow(interactive=False)
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    w.resize(1200, 800)
    w.show()
    return w


def _wait_jobs(qtbot: object, w: MainWindow, timeout: int = 60_000) -> None:
    qtbot.waitUntil(lambda: not w.jobs.active(), timeout=timeout)  # type: ignore[attr-defined]


def _click_scene(qtbot: object, w: MainWindow, x: float, y: float) -> None:
    view = w.view
    pos = view.mapFromScene(QPointF(x, y))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos.x(), pos.y()))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def demo_case(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The demo case, built once for this module; None when it cannot be built here."""
    from examiner.demo import ensure_demo_case

    try:
        return ensure_demo_case(tmp_path_factory.mktemp("demo") / "demo")
    except ExaminerError:
        return None


@pytest.mark.parametrize("source", ["generated", "demo"])
def test_whole_examination_round_trip(qtbot: object, tmp_path: Path, source: str, demo_case: Path | None) -> None:
    if source == "demo":
        if demo_case is None:
            pytest.skip("the demo case cannot be built here (its bundled codec is missing)")
        case_path = tmp_path / "demo-copy.mcase"
        case_path.write_bytes(demo_case.read_bytes())  # a copy: the evidence stays where it is
        codec, quality = "examiner-demo-mbt2018-mean", 2  # a real neural re-compression
    else:
        case_path = make_case(tmp_path / "case")
        codec, quality = "jpeg", 20
    w = _window(qtbot)
    assert w.open_case(case_path), w.messages
    assert w.evidence_id is not None
    assert w.integrity_label.text().strip() == "Integrity OK"
    ev = w.compare.evidence
    assert ev is not None and ev.ndim == 3
    if source == "generated":
        assert ev.shape == (128, 192, 3)
    # The reference original is offered and chosen as the comparison.
    assert w.comparison_key == "reference"
    before_ids = {r.id for r in w.session.regions(w.evidence_id)}  # type: ignore[union-attr]
    before_findings = len(w.session.findings(w.evidence_id, "recompression"))  # type: ignore[union-attr]

    # Detection, when the detector is installed: verdict shown and recorded.
    try:
        from examiner.analysis import detector

        detector.load_model()
        has_detector = True
    except (ImportError, OSError, ValueError, ExaminerError):
        has_detector = False
    if has_detector:
        w.analysis.run_detection()

    # Re-compression: runs on the codec queue and becomes a finding and the comparison.
    w.analysis.run_recompression(codec, quality, None, "cpu")
    _wait_jobs(qtbot, w, 180_000)
    assert not [m for m in w.messages if "error" in m.lower()], w.messages
    if has_detector:
        assert w.detection is not None and w.session.findings(w.evidence_id, "detection")  # type: ignore[union-attr]
    found = w.session.findings(w.evidence_id, "recompression")  # type: ignore[union-attr]
    assert len(found) == before_findings + 1
    found = found[-1:]
    assert found[0].data["codec"] == codec and found[0].data["quality"] == quality
    assert w.comparison_key == f"finding:{found[0].id}"
    recon = w.compare.comparison
    assert recon is not None and recon.shape == ev.shape and not np.array_equal(recon, ev)

    # Every compare mode, with what each view shows checked against the Qt-free maps.
    for mode in MODES:
        assert w.set_compare_mode(mode), w.messages
        qtbot.wait(10)  # type: ignore[attr-defined]
        if mode == "side":
            assert w.side_view.isVisible() and w.side_view.pyramid is w.compare.cmp_pyr
            w.view.set_zoom(4.0)
            assert w.side_view.zoom() == pytest.approx(4.0)
        elif mode == "flicker":
            assert w.compare.timer.isActive()
            before = w.view.pyramid
            w.compare.flicker_step()
            assert w.view.pyramid is not before
            w.compare.toggle_flicker()
            assert not w.compare.timer.isActive()
        elif mode == "swipe":
            assert w.compare.swipe_item.pyramid is w.compare.cmp_pyr
            assert w.view.swipe_x == pytest.approx(ev.shape[1] / 2)
        elif mode == "difference":
            w.gain_box.setValue(8.0)
            expected = compare.difference_image(ev, recon, 8.0, "heat")
            assert np.array_equal(w.view.pyramid.base, expected)  # type: ignore[union-attr]
        elif mode == "ssim":
            expected = compare.ssim_image(ev, recon, "heat")
            assert np.array_equal(w.view.pyramid.base, expected)  # type: ignore[union-attr]
        else:
            assert w.view.pyramid is w.compare.ev_pyr
    assert w.set_compare_mode("evidence")
    w.view.fit()

    # A polygon drawn with the mouse: three clicks and Enter.
    w.set_tool(TOOL_POLYGON)
    for x, y in ((30, 20), (90, 24), (60, 70)):
        _click_scene(qtbot, w, x, y)
    qtbot.keyClick(w.view, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    regions = [r for r in w.session.regions(w.evidence_id) if r.id not in before_ids]  # type: ignore[union-attr]
    assert len(regions) == 1
    poly = regions[0]
    assert poly.kind is ShapeKind.POLYGON and len(poly.points) == 3
    assert poly.points[0] == pytest.approx((30, 20), abs=1)
    rid = poly.id
    assert rid is not None

    # Taxonomy through the editor widgets.
    ed = w.regions_panel.editor
    assert ed.region() is not None and ed.region().id == rid  # type: ignore[union-attr]
    ed.category_boxes[Category.SHAPE].setChecked(True)
    ed.category_boxes[Category.AMPLITUDE].setChecked(True)
    ed.symbol_box.setChecked(True)
    ed.evidence_says.setText("digit reads 7")
    ed.evidence_says.editingFinished.emit()
    r = w.session.region(rid)  # type: ignore[union-attr]
    assert set(r.categories) == {Category.SHAPE, Category.AMPLITUDE} and r.symbol and r.evidence_says == "digit reads 7"

    # Undo the text and the Symbol flag, redo both.
    w.undo_stack.undo()
    w.undo_stack.undo()
    r = w.session.region(rid)  # type: ignore[union-attr]
    assert not r.symbol and r.evidence_says == ""
    assert ed.symbol_box.isChecked() is False
    w.undo_stack.redo()
    w.undo_stack.redo()
    r = w.session.region(rid)  # type: ignore[union-attr]
    assert r.symbol and r.evidence_says == "digit reads 7"
    # Undo all the way removes the region; redo brings it back under a new id, and the later
    # edits follow it.
    while w.undo_stack.canUndo():
        w.undo_stack.undo()
    assert {r.id for r in w.session.regions(w.evidence_id)} == before_ids  # type: ignore[union-attr]
    while w.undo_stack.canRedo():
        w.undo_stack.redo()
    (r,) = [r for r in w.session.regions(w.evidence_id) if r.id not in before_ids]  # type: ignore[union-attr]
    assert r.kind is ShapeKind.POLYGON and r.symbol and set(r.categories) == {Category.SHAPE, Category.AMPLITUDE}
    rid = r.id

    # Move it with an undoable geometry edit (what a drag does), then save, close and reopen.
    w.regions.geometry_edited(rid, [(x + 5, y) for x, y in r.points])
    w.save_case()
    assert w.undo_stack.isClean()
    w.close()

    w2 = _window(qtbot)
    assert w2.open_case(case_path)
    (r2,) = [r for r in w2.session.regions(w2.evidence_id) if r.id not in before_ids]  # type: ignore[union-attr]
    assert r2.kind is ShapeKind.POLYGON
    assert r2.points[0] == pytest.approx((35, 20), abs=1)
    assert r2.symbol and set(r2.categories) == {Category.SHAPE, Category.AMPLITUDE}
    assert r2.evidence_says == "digit reads 7"
    keys = [s.key for s in w2.evidence.comparison_sources()]
    assert "reference" in keys and any(k.startswith("finding:") for k in keys)
    assert w2.evidence.choose_comparison(keys[-1])
    assert np.array_equal(w2.compare.comparison, recon)
    assert w2.regions_panel.list.count() == len(before_ids) + 1
    if has_detector:
        assert w2.detection is not None  # the last detection is shown again
    w2.close()

    # Every edit is in the audit log, which still verifies.
    with Case.open(case_path, record=False) as c:
        assert c.audit.verify().ok
        actions = [e.action for e in c.audit.entries()]
    assert actions.count("region.added") >= 2 and "region.deleted" in actions and "finding.added" in actions


def test_detection_result_is_shown_and_recorded(qtbot: object, tmp_path: Path) -> None:
    detector = pytest.importorskip("examiner.analysis.detector", reason="trace detection is not installed yet")
    try:
        detector.load_model()
    except (OSError, ValueError, ExaminerError) as exc:
        pytest.skip(f"the detector's calibrated model is not installed yet ({exc})")
    case_path = make_case(tmp_path / "case", 256, 256)
    w = _window(qtbot)
    assert w.open_case(case_path)
    w.analysis.run_detection()
    _wait_jobs(qtbot, w)
    assert w.detection is not None, w.messages
    assert w.detection.verdict in ("neural", "not-neural", "inconclusive")
    assert "Verdict" in w.analysis_panel.verdict.text()
    assert w.session.findings(w.evidence_id, "detection")  # type: ignore[union-attr]
    verdict = w.detection.verdict
    w.close()
    assert w.detection is None  # closing the case clears what it showed
    w2 = _window(qtbot)
    assert w2.open_case(case_path)
    assert w2.detection is not None and w2.detection.verdict == verdict
    w2.close()


def test_regions_filters_lock_and_jump(qtbot: object, tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "case")
    w = _window(qtbot)
    assert w.open_case(case_path)
    a = w.regions.add_region("rect", [(10, 10), (40, 30)], categories=[Category.GEOMETRY])
    b = w.regions.add_region("ellipse", [(100, 10), (150, 60)], categories=[Category.AMPLITUDE], symbol=True)
    assert a is not None and b is not None
    panel = w.regions_panel
    assert sorted(panel.visible_ids()) == sorted([a, b])
    panel.symbol_filter.setChecked(True)
    assert panel.visible_ids() == [b]
    panel.symbol_filter.setChecked(False)
    panel.category_filter.setCurrentIndex(panel.category_filter.findData("geometry"))
    assert panel.visible_ids() == [a]
    panel.category_filter.setCurrentIndex(0)
    # Share of image and pixel box shown for the selected region.
    w.regions.select_region(a)
    assert "30 x 20 px" in panel.editor.box_label.text()
    assert panel.editor.share_label.text().startswith(f"{100 * 600 / (192 * 128):.3f}")
    # Double-click jumps: the view zooms onto the region.
    w.view.fit()
    z0 = w.view.zoom()
    panel.region_activated.emit(b)
    assert w.view.zoom() > z0
    shown = w.view.mapToScene(w.view.viewport().rect()).boundingRect()
    assert shown.contains(QRectF(100, 10, 50, 50)) and shown.width() < 192
    # Locking: the region refuses edits and deletion with a message; the app keeps going.
    w.regions.lock_region(a)
    assert w.session.region(a).locked  # type: ignore[union-attr]
    assert not w.regions.edit_region(a, "x", notes="late change")
    assert "locked" in w.messages[-1]
    w.regions.delete_region(a)
    assert "locked" in w.messages[-1] and w.session.region(a).locked  # type: ignore[union-attr]
    assert not panel.editor.symbol_box.isEnabled() or panel.editor.region().id != a  # type: ignore[union-attr]
    w.undo_stack.undo()  # undoing the lock unlocks it, recorded in the log
    assert not w.session.region(a).locked  # type: ignore[union-attr]
    w.close()


def test_export_dialog_writes_the_report_with_a_preview(qtbot: object, tmp_path: Path) -> None:
    pytest.importorskip("examiner.report.export", reason="the report exporter is not installed yet")
    from examiner.gui.export_dialog import ExportDialog

    case_path = make_case(tmp_path / "case")
    w = _window(qtbot)
    assert w.open_case(case_path)
    w.regions.add_region("rect", [(110, 78), (130, 112)], categories=[Category.SHAPE], symbol=True)
    dlg = ExportDialog(w, w.session, w.jobs)
    out = tmp_path / "report.pdf"
    dlg.out.setText(str(out))
    dlg.export()
    _wait_jobs(qtbot, w, 120_000)
    qtbot.wait(20)  # type: ignore[attr-defined]
    assert out.read_bytes()[:5] == b"%PDF-", dlg.status.text()
    assert "SHA-256" in dlg.status.text()
    assert dlg.preview_layout.count() >= 1
    dlg.close()
    w.close()


def test_suggestions_are_shown_accepted_and_rejected(qtbot: object, tmp_path: Path) -> None:
    from examiner.analysis.symbols import tesseract_status
    from tests.gui_fixtures import make_scene_case

    ok = tesseract_status()
    if isinstance(ok, tuple):
        ok = ok[0]
    if not ok:
        pytest.skip("Tesseract is not installed; the OCR check cannot propose the changed plate")
    case_path = make_scene_case(tmp_path / "scene")
    w = _window(qtbot)
    assert w.open_case(case_path)
    assert w.comparison_key == "reference"
    w.analysis.run_suggestions()
    _wait_jobs(qtbot, w, 120_000)
    assert w.proposals, w.messages
    assert len(w.layer.proposals) == len(w.proposals)  # dashed boxes on the image
    n = len(w.proposals)
    first = w.proposals[0]
    w.analysis.proposal_action("accept", 0)
    (region,) = w.session.regions(w.evidence_id)  # type: ignore[union-attr]
    assert region.provenance.startswith("accepted from")
    assert region.bbox() == tuple(first.box) and region.symbol == first.symbol
    assert len(w.proposals) == n - 1
    if w.proposals:
        w.analysis.proposal_action("reject", 0)
        assert len(w.proposals) == n - 2
    w.close()
    # Reopening shows only what is still pending.
    w2 = _window(qtbot)
    assert w2.open_case(case_path)
    assert len(w2.proposals) == max(0, n - 2)
    w2.close()


def test_seed_variability_overlay_is_shown_and_kept(qtbot: object, tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "case")
    w = _window(qtbot)
    assert w.open_case(case_path)
    assert not w.analysis_panel.variability_overlay.isEnabled()
    # A deterministic codec is refused with a message from the worker.
    w.analysis.run_variability("jpeg", 50, 4, "cpu")
    _wait_jobs(qtbot, w)
    assert "stochastic" in w.messages[-1]
    # What a finished run records, shown as an overlay and found again after reopening.
    from examiner.core.png import encode_png
    from examiner.findings.records import VariabilityRecord
    from examiner.workflows.variability import VariabilityOutcome, record_variability

    map8 = np.zeros((128, 192), np.uint8)
    map8[80:112, 20:130] = 255  # the decoder invents the plate
    outcome = VariabilityOutcome(VariabilityRecord(codec="cdc-x", quality=1, seeds=[0, 1]), map8, encode_png(map8))
    record_variability(w.session.case, w.evidence_id, outcome)  # type: ignore[union-attr,arg-type]
    w.analysis.show_variability(map8)
    w.analysis_panel.variability_overlay.setChecked(True)
    assert w.variability_overlay.isVisible()
    assert w.variability_overlay.pixmap().width() == 192
    w.close()
    w2 = _window(qtbot)
    assert w2.open_case(case_path)
    assert w2.analysis_panel.variability_overlay.isEnabled()
    img = w2.variability_overlay.pixmap().toImage()
    assert img.pixelColor(50, 90).red() > 200 and img.pixelColor(5, 5).red() == 0
    w2.close()


def test_a_result_that_comes_back_after_its_case_was_closed_is_not_recorded_elsewhere(qtbot: object, tmp_path: Path) -> None:
    first = make_case(tmp_path / "a")
    second = make_case(tmp_path / "b")
    w = _window(qtbot)
    assert w.open_case(first)
    w.analysis.run_recompression("jpeg", 40, None, "cpu")
    assert w.open_case(second)  # before the job's result reaches the window
    _wait_jobs(qtbot, w)
    qtbot.waitUntil(lambda: any("after its case was closed" in m for m in w.messages), timeout=30_000)  # type: ignore[attr-defined]
    assert w.session is not None and w.session.findings() == []
    w.close()
    with Case.open(first, read_only=True, record=False) as case:
        assert case.findings() == []
