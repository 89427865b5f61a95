"""The window's file dialogs: each asks for a path (and names), then calls the window's action."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFileDialog, QInputDialog

from examiner.core.formats import EVIDENCE_SUFFIXES
from examiner.gui.guards import reported

IMAGE_FILTER = f"Images ({' '.join('*' + s for s in sorted(EVIDENCE_SUFFIXES))});;All files (*)"


def new_case(w: Any) -> None:
    path, _ = QFileDialog.getSaveFileName(w, "New case", "", "Case files (*.mcase)")
    if not path:
        return
    if not path.endswith(".mcase"):
        path += ".mcase"
    case_id, ok = QInputDialog.getText(w, "New case", "Case id:")
    if not ok or not case_id.strip():
        return
    examiner, ok = QInputDialog.getText(w, "New case", "Examiner:", text=w.settings.examiner_name)
    if ok and examiner.strip():
        w.new_case(path, case_id.strip(), examiner.strip())


def preferences(w: Any) -> None:
    from examiner.gui.settings_dialog import SettingsDialog

    dlg = SettingsDialog(w, w.settings)
    dlg.accepted.connect(lambda: w.apply_settings(dlg.apply()))
    dlg.open()


def open_case(w: Any) -> None:
    path, _ = QFileDialog.getOpenFileName(w, "Open case", "", "Case files (*.mcase);;All files (*)")
    if path:
        w.open_case(path)


def save_as(w: Any) -> None:
    path, _ = QFileDialog.getSaveFileName(w, "Save case as", "", "Case files (*.mcase)")
    if path:
        w.save_case_as(path if path.endswith(".mcase") else path + ".mcase")


def add_evidence(w: Any) -> None:
    path, _ = QFileDialog.getOpenFileName(w, "Add evidence (opened read-only)", "", IMAGE_FILTER)
    if path:
        w.add_evidence(path)


def set_reference(w: Any) -> None:
    path, _ = QFileDialog.getOpenFileName(w, "Reference original", "", IMAGE_FILTER)
    if path:
        w.set_reference(path)


@reported(None)
def export_report(w: Any) -> None:
    session = w.state.require_session()
    from examiner.gui.export_dialog import ExportDialog

    dlg = ExportDialog(w, session, w.jobs)
    dlg.open()
