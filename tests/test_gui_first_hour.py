"""The window's first hour: open an image, the welcome page, what is enabled when, the audit panel in
sentences, the metadata panel, the map legends, the shortcuts sheet, and the Report and Codecs dialogs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from examiner.core.case import Case
from examiner.core.settings import Settings
from examiner.errors import ExaminerError
from examiner.gui.main_window import MainWindow
from examiner.gui.window_pages import WELCOME, WORKBENCH
from examiner.workflows.image_case import cases_dir
from tests.gui_fixtures import make_case, scene_pair

REPO = Path(__file__).resolve().parent.parent


def _window(qtbot: object, name: str = "") -> MainWindow:
    w = MainWindow(interactive=False)
    w.settings.examiner_name = name
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    w.resize(1600, 1000)
    w.show()
    return w


def _wait_jobs(qtbot: object, w: MainWindow, timeout: int = 120_000) -> None:
    qtbot.waitUntil(lambda: not w.jobs.active(), timeout=timeout)  # type: ignore[attr-defined]


def _image(folder: Path, name: str = "photo.png") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    evidence, _ = scene_pair()
    path = folder / name
    Image.fromarray(evidence).save(path)
    return path


def _detection_action(w: MainWindow) -> object:
    for top in w.menuBar().actions():
        for a in top.menu().actions() if top.menu() else []:
            if a.text() == "Run trace &detection":
                return a
    raise AssertionError("no Run trace detection action")


def test_welcome_page_until_a_case_and_actions_need_evidence(qtbot: object, tmp_path: Path) -> None:
    w = _window(qtbot)
    assert w.pages.currentIndex() == WELCOME
    detect = _detection_action(w)
    assert not detect.isEnabled() and "evidence" in detect.toolTip()  # type: ignore[attr-defined]
    assert not w.analysis_panel.detect_button.isEnabled()
    assert "evidence" in w.analysis_panel.detect_button.toolTip()
    assert not w.tool_actions["rect"].isEnabled()
    assert {"image", "case", "demo", "guide"} <= set(w.welcome.buttons)
    # An empty case: the workbench, but still nothing to run detection on.
    assert w.new_case(tmp_path / "empty.mcase", "E-1", "Examiner One")
    assert w.pages.currentIndex() == WORKBENCH
    assert not detect.isEnabled()  # type: ignore[attr-defined]
    w.close_case()
    assert w.open_case(make_case(tmp_path / "case"))
    assert detect.isEnabled() and w.analysis_panel.detect_button.isEnabled()  # type: ignore[attr-defined]
    assert w.analysis_panel.detect_button.toolTip().startswith("Spectral trace analysis")
    # The recent cases are offered on the welcome page once the case is closed.
    w.close_case()
    assert w.pages.currentIndex() == WELCOME
    assert any("case.mcase" in w.welcome.recent.item(i).text() for i in range(w.welcome.recent.count()))


def test_open_image_makes_a_new_case_in_the_cases_folder(qtbot: object, tmp_path: Path) -> None:
    image = _image(tmp_path / "in")
    before = image.read_bytes()
    w = _window(qtbot)
    assert w.open_image(image, examiner="Dr. Ada Example")
    _wait_jobs(qtbot, w)
    assert w.session is not None, w.messages
    path = w.session.path
    assert path.parent == cases_dir() and path.name.startswith("photo-") and path.suffix == ".mcase"
    assert Settings.load().examiner_name == "Dr. Ada Example"  # remembered: not asked again
    item = w.session.evidence()[0]
    assert item.sha256 == hashlib.sha256(before).hexdigest()
    assert w.session.case.details.examiner == "Dr. Ada Example"
    assert w.compare.evidence is not None and w.pages.currentIndex() == WORKBENCH
    # The same image again: a second case beside the first, which stays as it was.
    first_size = path.stat().st_size
    assert w.open_image(image)
    _wait_jobs(qtbot, w)
    assert w.session is not None and w.session.path != path and w.session.path.stem.endswith("-2")
    assert path.stat().st_size == first_size
    assert image.read_bytes() == before  # evidence is only read
    w.close()


def test_a_bad_image_is_one_message_and_leaves_no_case(qtbot: object, tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    w = _window(qtbot, "Examiner One")
    assert w.open_image(bad)
    _wait_jobs(qtbot, w)
    assert w.session is None
    assert w.messages and "broken.png" in w.messages[-1] and "\n" not in w.messages[-1].strip()
    assert not list(cases_dir().glob("*"))  # the case made for it was removed again
    # No name known and no one to ask (headless): refused with a message, nothing started.
    w.settings.examiner_name = ""
    assert not w.open_image(_image(tmp_path / "in"))
    assert "examiner's name" in w.messages[-1]


def test_gui_command_opens_an_image(tmp_path: Path) -> None:
    image = _image(tmp_path / "in", "kodak like.png")
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    r = subprocess.run(
        [sys.executable, "-m", "examiner", "gui", str(image), "--examiner", "E. Xample", "--screenshot", str(out),
         "--size", "900x600"],
        capture_output=True, text=True, env=env, timeout=180,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"
    made = list(cases_dir().glob("kodak-like-*.mcase"))
    assert len(made) == 1
    with Case.open(made[0], record=False) as c:
        assert [e.name for e in c.evidence()] == ["kodak like.png"]
    bad = subprocess.run(
        [sys.executable, "-m", "examiner", "gui", str(tmp_path / "nothing.png"), "--examiner", "E", "--screenshot", str(out)],
        capture_output=True, text=True, env=env, timeout=180,
    )  # fmt: skip
    assert bad.returncode != 0 and "nothing.png" in bad.stderr and "Traceback" not in bad.stderr


def test_audit_panel_speaks_in_sentences_and_folds_openings(qtbot: object, tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "case")
    w = _window(qtbot, "Examiner One")
    for _ in range(3):
        assert w.open_case(case_path)
    texts = w.audit_panel.texts()
    # Credited to the case's examiner, not to the name in the window's settings.
    assert texts[0].startswith("Test Examiner opened the case 3 times")
    assert any("took in evidence item E1, evidence.png" in t for t in texts)
    assert not any(t.lstrip().startswith("{") for t in texts)
    # Editing after an opening adds its own row; a further opening starts a new folded run.
    w.regions.add_region("rect", [(5, 5), (30, 30)])
    assert "marked region R1" in w.audit_panel.texts()[0]
    w.audit_panel.table.selectRow(0)
    w.audit_panel.raw_button.setChecked(True)
    assert '"action": "region.added"' in w.audit_panel.details.toPlainText()
    assert '"action"' in w.audit_panel.table.item(0, 2).toolTip()


def test_metadata_panel_shows_exif_and_jpeg_tables_escaped(qtbot: object, tmp_path: Path) -> None:
    evidence, _ = scene_pair()
    exif = Image.Exif()
    exif[0x010F] = "ExampleCam"
    exif[0x013B] = "<b>bold</b>\x1b[31m"
    path = tmp_path / "photo.jpg"
    Image.fromarray(evidence).save(path, quality=77, exif=exif)
    w = _window(qtbot, "Examiner One")
    assert w.open_image(path)
    _wait_jobs(qtbot, w)
    qtbot.waitUntil(lambda: "Image Make" in w.metadata_panel.values(), timeout=30_000)  # type: ignore[attr-defined]
    values = w.metadata_panel.values()
    assert values["Image Make"] == "ExampleCam"
    assert values["Image Artist"] == "<b>bold</b>\\x1b[31m"  # literal markup, control escaped
    assert "IJG quality 77" in values["Quality estimate"]
    assert values["Format"] == "jpeg" and "Decode policy" in values
    tables = [w.metadata_panel.tree.topLevelItem(i) for i in range(w.metadata_panel.tree.topLevelItemCount())]
    assert any(t.text(0).startswith("JPEG") for t in tables)


def test_legend_for_each_map_shown(qtbot: object, tmp_path: Path) -> None:
    w = _window(qtbot, "Examiner One")
    assert w.open_case(make_case(tmp_path / "case"))
    assert not w.legend.isVisible()
    assert w.set_compare_mode("difference")
    assert "Difference x4" in w.legend.text() and w.legend.isVisible()
    w.gain_box.setValue(8)
    assert "Difference x8" in w.legend.text()
    assert w.set_compare_mode("ssim")
    assert "1 - SSIM" in w.legend.text()
    w.set_compare_mode("evidence")
    assert w.legend.text() == "" and not w.legend.isVisible()


def test_detection_overlay_has_a_legend_and_the_explanation_its_dock(qtbot: object, tmp_path: Path) -> None:
    detector = pytest.importorskip("examiner.analysis.detector", reason="trace detection is not installed yet")
    try:
        detector.load_model()
    except (OSError, ValueError, ExaminerError) as exc:
        pytest.skip(f"the detector's calibrated model is not installed yet ({exc})")
    w = _window(qtbot, "Examiner One")
    assert w.open_case(make_case(tmp_path / "case", 256, 256))
    w.analysis.run_detection()
    _wait_jobs(qtbot, w, 300_000)
    assert w.detection is not None, w.messages
    w.analysis_panel.tile_overlay.setChecked(True)
    lo, hi = w.analysis.tile_range  # type: ignore[misc]
    assert f"{lo:.2f} weakest" in w.legend.text() and f"{hi:.2f} strongest" in w.legend.text()
    w.analysis_panel.tile_overlay.setChecked(False)
    assert "trace strength" not in w.legend.text()
    full = w.detection.explanation
    assert w.explanation_view.toPlainText().startswith(full)
    assert len(w.analysis_panel.explanation.text()) < len(full)


def test_shortcuts_sheet_lists_every_action_with_a_shortcut(qtbot: object) -> None:
    from PySide6.QtGui import QAction, QKeySequence

    from examiner.gui.shortcuts_dialog import ShortcutsDialog, shortcut_rows

    w = _window(qtbot)
    rows = shortcut_rows(w)
    assert ("Analysis", "Run trace detection", QKeySequence("Ctrl+D").toString(QKeySequence.SequenceFormat.NativeText)) in rows
    with_keys = {id(a) for a in w.findChildren(QAction) if any(not k.isEmpty() for k in a.shortcuts())}
    assert len(rows) == len(with_keys)
    keys = [k for _m, _a, k in rows]
    assert len(keys) == len(set(keys)), "two actions share a shortcut"
    dlg = ShortcutsDialog(w)
    assert dlg.table.rowCount() == len(rows)


def test_report_dialog_stores_the_examiners_words_audited(qtbot: object, tmp_path: Path) -> None:
    from examiner.gui.report_dialog import ReportDialog
    from examiner.report.model import CONCLUSION_SCALE, META_CONCLUSION, META_LIMITATIONS, META_SUMMARY

    case_path = make_case(tmp_path / "case")
    w = _window(qtbot, "Examiner One")
    assert w.open_case(case_path)
    dlg = ReportDialog(w)
    assert dlg.level.count() == len(CONCLUSION_SCALE) + 1  # whatever the scale holds, plus "not stated"
    level = CONCLUSION_SCALE[1][0]
    dlg.summary.setPlainText("The plate digit differs from the original.")
    dlg.level.setCurrentIndex(dlg.level.findData(level))
    dlg.conclusion_text.setPlainText("Regions R1 and R2.")
    dlg.limitations.setPlainText("Only one image was supplied.\n\nNo camera was examined.")
    assert dlg.save()
    case = w.session.case  # type: ignore[union-attr]
    assert case.get_meta(META_SUMMARY) == "The plate digit differs from the original."
    assert case.get_meta(META_CONCLUSION) == {"level": level, "text": "Regions R1 and R2.", "by": case.actor}
    assert case.get_meta(META_LIMITATIONS) == ["Only one image was supplied.", "No camera was examined."]
    keys = [e.params.get("key") for e in case.audit.entries() if e.action == "meta.set"]
    assert sorted(keys) == sorted([META_SUMMARY, META_CONCLUSION, META_LIMITATIONS])
    assert "set the report's conclusion" in " ".join(w.audit_panel.texts())
    # Opening it again shows what was stored; saving unchanged words records nothing.
    again = ReportDialog(w)
    assert again.level.currentData() == level and again.summary.toPlainText().startswith("The plate")
    n = len(case.audit.entries())
    assert again.save()
    assert len(case.audit.entries()) == n
    w.close()
    with Case.open(case_path, record=False) as c:
        assert c.audit.verify().ok


def test_codecs_dialog_lists_weights_and_imports(qtbot: object, tmp_path: Path) -> None:
    from examiner.gui.codecs_dialog import CodecsDialog

    w = _window(qtbot)
    dlg = CodecsDialog(w)
    rows = dlg.rows()
    assert rows["examiner-demo-mbt2018-mean"][0] == "3/3 installed"
    assert rows["bmshj2018-factorized-mse"][0] == "0/8 installed"
    assert rows["jpeg"][0] == "not needed"
    # A file whose name does not carry its hash is refused; nothing is imported.
    bad = tmp_path / "mbt2018-mean-1-00000000.pth.tar"
    bad.write_bytes(b"not a checkpoint")
    dlg.import_files([str(bad)])
    _wait_jobs(qtbot, w)
    assert dlg.result.text().startswith("Nothing imported") and dlg.import_button.isEnabled()
    torch = pytest.importorskip("torch")
    import io

    buf = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buf)
    data = buf.getvalue()
    good = tmp_path / f"mbt2018-mean-1-{hashlib.sha256(data).hexdigest()[:8]}.pth.tar"
    good.write_bytes(data)
    dlg.import_files([str(good)])
    _wait_jobs(qtbot, w)
    assert dlg.result.text().startswith("imported: "), dlg.result.text()


def test_codec_chooser_elides_and_shows_the_whole_description(qtbot: object) -> None:
    w = _window(qtbot)
    box = w.analysis_panel.codec
    i = max(range(box.count()), key=lambda k: len(box.itemText(k)))
    box.setCurrentIndex(i)
    box.resize(120, box.height())
    shown = box.displayed_text()
    assert shown != box.currentText() and "\u2026" in shown
    entry = w.analysis_panel._codecs[i]
    assert entry.info.name in str(box.itemData(i, 3))  # the full name in the item's tool tip
    note = w.analysis_panel.codec_note.text()
    assert note == (entry.info.description if entry.available else f"Unavailable here: {entry.reason}")


def test_image_case_names_never_overwrite(tmp_path: Path) -> None:
    import datetime as dt

    from examiner.workflows.image_case import case_path_for, looks_like_case

    day = dt.date(2026, 12, 7)
    first = case_path_for("/x/My photo (1).JPG", day, tmp_path)
    assert first.name == "My-photo-1-2026-12-07.mcase"
    first.write_bytes(b"")
    assert case_path_for("/x/My photo (1).JPG", day, tmp_path).name == "My-photo-1-2026-12-07-2.mcase"
    assert looks_like_case(first) and not looks_like_case(_image(tmp_path / "i"))


def test_a_dropped_file_opens_as_a_case_or_an_image(qtbot: object, tmp_path: Path) -> None:
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    from examiner.gui.start_actions import dropped_file

    image = _image(tmp_path / "in")
    assert dropped_file([QUrl.fromLocalFile(str(image)), QUrl.fromLocalFile(str(image))]) is None
    assert dropped_file([QUrl("https://example.org/a.png")]) is None
    w = _window(qtbot, "Examiner One")
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(image))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    w.dropEvent(event)
    _wait_jobs(qtbot, w)
    assert w.session is not None and w.session.path.parent == cases_dir()
    made = w.session.path
    w.close_case()
    data.setUrls([QUrl.fromLocalFile(str(made))])
    w.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    assert w.session is not None and w.session.path == made


def test_the_examiners_name_is_asked_once(qtbot: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from examiner.gui import start_actions

    asked: list[str] = []

    def answer(*args: object, **kwargs: object) -> tuple[str, bool]:
        asked.append(str(args[1]))
        return "  Dr. Ada Example ", True

    monkeypatch.setattr(start_actions.QInputDialog, "getText", answer)
    w = _window(qtbot)
    w.interactive = True
    assert start_actions.examiner_name(w) == "Dr. Ada Example"
    assert start_actions.examiner_name(w) == "Dr. Ada Example"
    assert asked == ["Your name"]
    assert Settings.load().examiner_name == "Dr. Ada Example"
    w.interactive = False  # no message boxes left open when the test ends


def test_report_dialog_keeps_a_level_of_an_earlier_scale_until_changed(qtbot: object, tmp_path: Path) -> None:
    from examiner.gui.report_dialog import ReportDialog
    from examiner.report.model import CONCLUSION_LEVELS, META_CONCLUSION

    w = _window(qtbot, "Examiner One")
    assert w.open_case(make_case(tmp_path / "case"))
    case = w.session.case  # type: ignore[union-attr]
    old = {"level": "Somewhat likely (old words)", "text": "as written then", "by": "Someone"}
    assert old["level"] not in CONCLUSION_LEVELS
    case.set_meta(META_CONCLUSION, old)
    dlg = ReportDialog(w)
    assert dlg.level.currentData() == old["level"] and "current scale" in dlg.definition.text()
    n = len(case.audit.entries())
    assert dlg.save()
    assert case.get_meta(META_CONCLUSION) == old and len(case.audit.entries()) == n
    # New reasoning under that level is refused: it would read as a level stated today.
    dlg.conclusion_text.setPlainText("new words")
    assert not dlg.save() and "earlier scale" in w.messages[-1]
    assert case.get_meta(META_CONCLUSION) == old and len(case.audit.entries()) == n
    # Choosing a level on the scale states it again, through the same function as the CLI's.
    dlg.level.setCurrentIndex(dlg.level.findData(CONCLUSION_LEVELS[0]))
    assert dlg.save()
    assert case.get_meta(META_CONCLUSION) == {"level": CONCLUSION_LEVELS[0], "text": "new words", "by": case.actor}
    assert len(case.audit.entries()) == n + 1


def test_the_window_credits_the_cases_examiner_unless_someone_is_named(qtbot: object, tmp_path: Path) -> None:
    from examiner.gui import acting_person
    from examiner.gui.report_dialog import ReportDialog

    case_path = make_case(tmp_path / "case")
    w = _window(qtbot, "Settings Name")
    assert w.open_case(case_path)
    case = w.session.case  # type: ignore[union-attr]
    assert case.details.examiner == "Test Examiner"
    # The settings' name is not the case's examiner: the examiner acts, the opening included.
    assert case.actor == "Test Examiner" and case.audit.entries()[-1].actor == "Test Examiner"
    assert w.acting_label.text() == "Acting as: Test Examiner (the case's examiner)"
    # A person named for the window acts in this case and in cases opened after it.
    acting_person.set_acting_person(w, "  B. Colleague ")
    dlg = ReportDialog(w)
    dlg.summary.setPlainText("Checked by a colleague.")
    assert dlg.save()
    last = case.audit.entries()[-1]
    assert (last.action, last.actor) == ("meta.set", "B. Colleague")
    assert "B. Colleague (named for this window)" in w.acting_label.text()
    w.close_case()
    assert w.open_case(case_path)
    assert w.session.case.audit.entries()[-1].actor == "B. Colleague"  # type: ignore[union-attr]
    acting_person.set_acting_person(w, "")
    assert w.session.case.actor == "Test Examiner"  # type: ignore[union-attr]
    # A case the window makes takes the settings' name as its examiner, who then acts.
    assert w.new_case(tmp_path / "new.mcase", "N-1", w.settings.examiner_name)
    assert w.session.case.actor == "Settings Name"  # type: ignore[union-attr]
    w.close()
