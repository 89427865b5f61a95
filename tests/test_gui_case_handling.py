"""Case handling in the window: new, save as, recent cases, display-only contrast, the loupe,
and the headless screenshot command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt

from examiner.core.case import Case
from examiner.core.settings import Settings
from examiner.gui.main_window import MainWindow
from tests.gui_fixtures import make_case

REPO = Path(__file__).resolve().parent.parent


def _window(qtbot: object) -> MainWindow:
    w = MainWindow(interactive=False)
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    w.resize(1100, 750)
    w.show()
    return w


def test_new_case_add_evidence_save_as_and_recent(qtbot: object, tmp_path: Path) -> None:
    src = make_case(tmp_path / "src")  # only for its images
    w = _window(qtbot)
    new = tmp_path / "new.mcase"
    assert w.new_case(new, "N-7", "Examiner Two")
    assert not w.new_case(new, "N-8", "Examiner Two")  # never overwrites a case
    assert "exists" in w.messages[-1]
    assert w.add_evidence(src.parent / "evidence.png", src.parent / "reference.png")
    assert w.comparison_key == "reference"
    rid = w.regions.add_region("ellipse", [(5, 5), (25, 30)], notes="first")
    assert rid is not None
    copy = tmp_path / "copy.mcase"
    assert w.save_case_as(copy)
    assert w.session is not None and w.session.path == copy
    w.regions.edit_region(rid, "notes", notes="only in the copy")
    assert str(copy.resolve()) == Settings.load().recent_cases[0]
    assert str(new.resolve()) in Settings.load().recent_cases
    assert [a.text() for a in w.recent_menu.actions()][0] == str(copy.resolve())
    w.close()
    with Case.open(new, record=False) as c:
        assert [r.notes for r in c.regions()] == ["first"]
    with Case.open(copy, record=False) as c:
        assert [r.notes for r in c.regions()] == ["only in the copy"]
        assert c.audit.verify().ok


def test_display_only_contrast_and_loupe(qtbot: object, tmp_path: Path) -> None:
    w = _window(qtbot)
    assert w.open_case(make_case(tmp_path / "case"))
    ev = w.compare.evidence
    assert ev is not None
    before = ev.copy()
    w.set_display("stretch")
    assert "DISPLAY ONLY: contrast stretch" in w.view.banner
    assert w.view.pyramid is not None and w.view.pyramid.lut is not None
    w.set_display("equalize")
    assert "histogram equalisation" in w.view.banner
    assert np.array_equal(w.compare.evidence, before)  # the data itself never changes
    w.set_display("none")
    assert w.view.banner == "" and w.view.pyramid.lut is None  # type: ignore[union-attr]
    # Loupe: follows the cursor and shows the magnified neighbourhood.
    w.loupe_action.setChecked(True)
    w.view.set_zoom(2.0)
    pos = w.view.mapFromScene(QPointF(60, 40))
    qtbot.mouseMove(w.view.viewport(), QPoint(pos.x(), pos.y()))  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: w.view.loupe.isVisible(), timeout=2000)  # type: ignore[attr-defined]
    assert w.view.loupe.pixmap().width() == 176
    assert w.pos_label.text().startswith("x ")


def test_keyboard_shortcuts_switch_modes_and_tools(qtbot: object, tmp_path: Path) -> None:
    w = _window(qtbot)
    assert w.open_case(make_case(tmp_path / "case"))
    w.activateWindow()
    qtbot.waitUntil(lambda: w.isActiveWindow(), timeout=3000)  # type: ignore[attr-defined]
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_F5)  # type: ignore[attr-defined]
    assert w.compare.mode == "difference"
    qtbot.keyClick(w.view, Qt.Key.Key_F1)  # type: ignore[attr-defined]
    assert w.compare.mode == "evidence"
    qtbot.keyClick(w.view, Qt.Key.Key_P)  # type: ignore[attr-defined]
    assert w.view.tool == "polygon"
    qtbot.keyClick(w.view, Qt.Key.Key_V)  # type: ignore[attr-defined]
    assert w.view.tool == "pan"


def test_cli_screenshot_command(tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "case")
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    r = subprocess.run(
        [sys.executable, "-m", "examiner", "gui", str(case_path), "--screenshot", str(out), "--compare", "side",
         "--select-region", "99", "--size", "900x600"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert "no region 99" in r.stderr  # the problem is reported, the picture still made
    bad = subprocess.run(
        [sys.executable, "-m", "examiner", "gui", str(tmp_path / "missing.mcase"), "--screenshot", str(out)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert bad.returncode != 0 and "missing.mcase" in bad.stderr and "Traceback" not in bad.stderr


def test_draw_move_and_resize_with_the_mouse(qtbot: object, tmp_path: Path) -> None:
    w = _window(qtbot)
    assert w.open_case(make_case(tmp_path / "case"))
    view = w.view
    view.set_zoom(4.0)
    view.centerOn(QPointF(40, 40))

    def vp(x: float, y: float) -> QPoint:
        p = view.mapFromScene(QPointF(x, y))
        return QPoint(p.x(), p.y())

    # Rectangle by dragging.
    w.set_tool("rect")
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=vp(30, 30))  # type: ignore[attr-defined]
    qtbot.mouseMove(view.viewport(), vp(45, 50))  # type: ignore[attr-defined]
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=vp(45, 50))  # type: ignore[attr-defined]
    (r,) = w.session.regions(w.evidence_id)  # type: ignore[union-attr]
    assert r.kind.value == "rect" and r.bbox() == (30, 30, 15, 20)
    rid = r.id
    # Move: drag the selected shape by (5, 3) pixels.
    w.set_tool("pan")
    w.layer.select(rid)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=vp(37, 40))  # type: ignore[attr-defined]
    for k in range(1, 6):
        qtbot.mouseMove(view.viewport(), vp(37 + k, 40 + 0.6 * k))  # type: ignore[attr-defined]
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=vp(42, 43))  # type: ignore[attr-defined]
    moved = w.session.region(rid)  # type: ignore[union-attr]
    assert moved.bbox() == (35, 33, 15, 20)
    # Resize: drag the bottom-right handle.
    item = w.layer.items[rid]
    item.setSelected(True)
    handle = item._handles[2]
    hp = view.mapFromScene(handle.scenePos())
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(hp.x(), hp.y()))  # type: ignore[attr-defined]
    qtbot.mouseMove(view.viewport(), vp(60, 60))  # type: ignore[attr-defined]
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=vp(60, 60))  # type: ignore[attr-defined]
    resized = w.session.region(rid)  # type: ignore[union-attr]
    assert resized.bbox() == (35, 33, 25, 27)
    w.undo_stack.undo()
    assert w.session.region(rid).bbox() == (35, 33, 15, 20)  # type: ignore[union-attr]
    w.undo_stack.undo()
    assert w.session.region(rid).bbox() == (30, 30, 15, 20)  # type: ignore[union-attr]


def test_large_images_open_in_a_worker(qtbot: object, tmp_path: Path, monkeypatch: object) -> None:
    import examiner.gui.evidence_controller as mw

    monkeypatch.setattr(mw, "ASYNC_LOAD_PIXELS", 0)  # type: ignore[attr-defined]
    w = _window(qtbot)
    assert w.open_case(make_case(tmp_path / "case"))
    assert w.compare.evidence is None  # not decoded on the GUI thread
    qtbot.waitUntil(lambda: w.compare.comparison is not None, timeout=30_000)  # type: ignore[attr-defined]
    assert w.compare.evidence is not None and w.compare.evidence.shape == (128, 192, 3)
    assert w.comparison_key == "reference"
    assert any(j.title.startswith("Opening evidence.png") for j in w.jobs.jobs.values())


def test_texture_category_follows_the_setting(qtbot: object, tmp_path: Path) -> None:
    from examiner.core.regions import Category

    w = _window(qtbot)
    assert w.open_case(make_case(tmp_path / "case"))
    rid = w.regions.add_region("rect", [(2, 2), (12, 12)])
    w.regions.select_region(rid)
    ed = w.regions_panel.editor
    assert not ed.category_boxes[Category.TEXTURE].isVisibleTo(ed)
    settings = w.settings
    settings.texture_category_enabled = True
    w.apply_settings(settings)
    assert ed.category_boxes[Category.TEXTURE].isVisibleTo(ed)
    assert "provisional" in ed.category_boxes[Category.TEXTURE].text()
    ed.category_boxes[Category.TEXTURE].setChecked(True)
    assert w.session.region(rid).categories == [Category.TEXTURE]  # type: ignore[union-attr]
    assert Settings.load().texture_category_enabled


def test_no_display_gives_a_clear_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(REPO)
    r = subprocess.run([sys.executable, "-m", "examiner", "gui"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and "no display" in r.stderr and "Traceback" not in r.stderr


def test_audit_label_says_what_the_check_at_opening_covered(qtbot: object, tmp_path: Path) -> None:
    w = _window(qtbot)
    assert w.open_case(make_case(tmp_path / "case"))
    label = w.audit_panel.chain.text()
    assert "intact" in label and "when the case was opened" in label
    checked = int(label.split("(")[1].split()[0])
    w.regions.add_region("rect", [(2, 2), (12, 12)])
    w.refresh_audit()
    shown = w.audit_panel.last_seq
    assert shown > checked
    added = shown - checked
    assert f"{added} {'entry' if added == 1 else 'entries'} added since" in w.audit_panel.chain.text()
