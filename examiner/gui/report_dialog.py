"""The Report dialog: the examiner's own words for the report (summary, conclusion level and text,
extra limitations), stored through :func:`examiner.report.report_text.set_report_text`, the
function ``examiner report --summary/--conclusion/--limitations`` calls, then the export.

The conclusion levels are the report's scale (:data:`examiner.report.model.CONCLUSION_SCALE`),
read when the dialog opens, so the window offers exactly the words the PDF and the CLI use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
)

from examiner.errors import ExaminerError
from examiner.report.model import CONCLUSION_PROPOSITION, CONCLUSION_SCALE
from examiner.report.report_text import report_text, set_report_text

if TYPE_CHECKING:
    from examiner.gui.window_host import CaseHost

NOT_STATED = "(not stated)"


class ReportDialog(QDialog):
    def __init__(self, w: CaseHost) -> None:
        super().__init__(w.widget())
        self.w = w
        self.session = w.state.require_session()
        case = self.session.case
        self.recorded = report_text(case)
        self.setWindowTitle("Report: summary, conclusion and limitations")
        self.resize(720, 560)
        form = QFormLayout(self)
        self.summary = QPlainTextEdit(self.recorded.summary)
        self.summary.setPlaceholderText("The examiner's summary of the findings, in plain words (first section of the report)")
        self.summary.setMaximumHeight(170)
        form.addRow("Summary", self.summary)
        self.level = QComboBox()
        self.level.addItem(NOT_STATED, "")
        for level, definition in CONCLUSION_SCALE:
            self.level.addItem(level, level)
            self.level.setItemData(self.level.count() - 1, definition, Qt.ItemDataRole.ToolTipRole)
        form.addRow("Conclusion", self.level)
        prop = QLabel(f"Proposition: {CONCLUSION_PROPOSITION}.")
        prop.setWordWrap(True)
        prop.setStyleSheet("color: #a0a4aa;")
        form.addRow(prop)
        self.definition = QLabel("")
        self.definition.setWordWrap(True)
        form.addRow(self.definition)
        self.level.currentIndexChanged.connect(self._level_changed)
        self.conclusion_text = QPlainTextEdit()
        self.conclusion_text.setPlaceholderText("Why this level: the findings it rests on (optional)")
        self.conclusion_text.setMaximumHeight(110)
        form.addRow("Reasoning", self.conclusion_text)
        self.limitations = QPlainTextEdit("\n".join(self.recorded.limitations))
        self.limitations.setPlaceholderText("Limitations beyond those the report states itself; one per line")
        self.limitations.setMaximumHeight(120)
        form.addRow("Extra limitations", self.limitations)
        recorded = self.recorded.conclusion_level
        i = self.level.findData(recorded)
        if i < 0 and recorded:
            # A level of an earlier scale stays as recorded until the examiner chooses another:
            # opening and saving the dialog must not change (or drop) what the case holds.
            self.level.addItem(f"{recorded} (as recorded; not on the current scale)", recorded)
            i = self.level.count() - 1
        self.level.setCurrentIndex(max(0, i))
        self.conclusion_text.setPlainText(self.recorded.conclusion_text)
        self._level_changed()
        note = QLabel(f"Each change is recorded in the case's audit log, credited to {case.actor}.")
        note.setStyleSheet("color: #a0a4aa;")
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.export_button = QPushButton("Save and export report...")
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self._save_and_close)
        buttons.rejected.connect(self.reject)
        self.export_button.clicked.connect(self._save_and_export)
        form.addRow(buttons)

    def _level_changed(self) -> None:
        level = self.level.currentData()
        definition = dict(CONCLUSION_SCALE).get(level, "")
        if level and not definition:
            definition = "This level is not on the report's current scale; choose a level to state it again."
        self.definition.setText(definition or "No conclusion level: the report says so.")
        self.conclusion_text.setEnabled(bool(level))

    def _kept_earlier_level(self) -> bool:
        """The level shown is the recorded one of an earlier scale, left as it was."""
        level = str(self.level.currentData() or "")
        return bool(level) and level == self.recorded.conclusion_level and level not in dict(CONCLUSION_SCALE)

    def save(self) -> bool:
        """Store what changed, one audited entry per value, credited to the case's acting person;
        False (with a message) when the words were refused."""
        level = str(self.level.currentData() or "")
        text = self.conclusion_text.toPlainText().strip()
        new_level: str | None = level
        new_text: str | None = text if level else None
        if self._kept_earlier_level():
            if text != self.recorded.conclusion_text:
                # New reasoning under a level the scale no longer has would read as a level stated today.
                self.w.show_error(
                    f"The recorded level \u201c{level}\u201d is on an earlier scale: choose a level on the current "
                    "scale to change the reasoning."
                )
                return False
            new_level = new_text = None  # kept as recorded
        lines = self.limitations.toPlainText().splitlines()
        try:
            changed = set_report_text(
                self.session.case, summary=self.summary.toPlainText(), conclusion_level=new_level,
                conclusion_text=new_text, limitations=lines,
            )  # fmt: skip
        except ExaminerError as exc:
            self.w.show_error(exc.message)
            return False
        if changed:
            self.w.state.case_changed()
        return True

    def _save_and_close(self) -> None:
        if self.save():
            self.accept()

    def _save_and_export(self) -> None:
        if self.save():
            self.accept()
            from examiner.gui import case_dialogs

            case_dialogs.export_report(self.w)


def open_report_dialog(w: CaseHost) -> ReportDialog | None:
    try:
        dlg = ReportDialog(w)
    except ExaminerError as exc:
        w.show_error(exc.message)
        return None
    dlg.open()
    return dlg
