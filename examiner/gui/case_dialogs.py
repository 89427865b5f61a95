"""The window's file dialogs: each asks for a path (and names), then calls the window's action."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QInputDialog

from examiner.core.formats import EVIDENCE_SUFFIXES
from examiner.gui.guards import reported
from examiner.gui.window_host import CaseHost

IMAGE_FILTER = f"Images ({' '.join('*' + s for s in sorted(EVIDENCE_SUFFIXES))});;All files (*)"


def new_case(w: CaseHost) -> None:
    path, _ = QFileDialog.getSaveFileName(w.widget(), "New case", "", "Case files (*.mcase)")
    if not path:
        return
    if not path.endswith(".mcase"):
        path += ".mcase"
    case_id, ok = QInputDialog.getText(w.widget(), "New case", "Case id:")
    if not ok or not case_id.strip():
        return
    examiner, ok = QInputDialog.getText(w.widget(), "New case", "Examiner:", text=w.settings.examiner_name)
    if ok and examiner.strip():
        w.new_case(path, case_id.strip(), examiner.strip())


def preferences(w: CaseHost) -> None:
    from examiner.gui.settings_dialog import SettingsDialog

    dlg = SettingsDialog(w.widget(), w.settings)
    dlg.accepted.connect(lambda: w.apply_settings(dlg.apply()))
    dlg.open()


def open_case(w: CaseHost) -> None:
    path, _ = QFileDialog.getOpenFileName(w.widget(), "Open case", "", "Case files (*.mcase);;All files (*)")
    if path:
        w.open_case(path)


def save_as(w: CaseHost) -> None:
    path, _ = QFileDialog.getSaveFileName(w.widget(), "Save case as", "", "Case files (*.mcase)")
    if path:
        w.save_case_as(path if path.endswith(".mcase") else path + ".mcase")


def add_evidence(w: CaseHost) -> None:
    path, _ = QFileDialog.getOpenFileName(w.widget(), "Add evidence (opened read-only)", "", IMAGE_FILTER)
    if path:
        w.add_evidence(path)


def set_reference(w: CaseHost) -> None:
    path, _ = QFileDialog.getOpenFileName(w.widget(), "Reference original", "", IMAGE_FILTER)
    if path:
        w.set_reference(path)


@reported(None)
def export_report(w: CaseHost) -> None:
    session = w.state.require_session()
    from examiner.gui.export_dialog import ExportDialog

    dlg = ExportDialog(w.widget(), session, w.jobs)
    dlg.open()
