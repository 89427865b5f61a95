"""The Report dialog: the examiner's own words for the report (summary, conclusion level and text,
extra limitations), stored in the case through its audited meta values, then the export.

The conclusion levels are the report's scale (:data:`examiner.report.model.CONCLUSION_SCALE`),
read when the dialog opens, so the window offers exactly the words the PDF and the CLI use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from examiner.report.model import (
    CONCLUSION_PROPOSITION,
    CONCLUSION_SCALE,
    META_CONCLUSION,
    META_LIMITATIONS,
    META_SUMMARY,
)

if TYPE_CHECKING:
    from examiner.gui.window_host import CaseHost

NOT_STATED = "(not stated)"


def _limitations(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return [raw] if raw.strip() else []
    return [str(x) for x in raw or []]


class ReportDialog(QDialog):
    def __init__(self, w: CaseHost) -> None:
        super().__init__(w.widget())
        self.w = w
        self.session = w.state.require_session()
        case = self.session.case
        self.setWindowTitle("Report: summary, conclusion and limitations")
        self.resize(720, 560)
        form = QFormLayout(self)
        self.summary = QPlainTextEdit(str(case.get_meta(META_SUMMARY, "") or ""))
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
        self.limitations = QPlainTextEdit("\n".join(_limitations(case.get_meta(META_LIMITATIONS, []))))
        self.limitations.setPlaceholderText("Limitations beyond those the report states itself; one per line")
        self.limitations.setMaximumHeight(120)
        form.addRow("Extra limitations", self.limitations)
        raw = case.get_meta(META_CONCLUSION, None)
        if isinstance(raw, str):
            raw = {"level": raw}
        if isinstance(raw, dict):
            recorded = str(raw.get("level", "") or "")
            i = self.level.findData(recorded)
            if i < 0 and recorded:
                # A level of an earlier scale stays as recorded until the examiner chooses another:
                # opening and saving the dialog must not change (or drop) what the case holds.
                self.level.addItem(f"{recorded} (as recorded; not on the current scale)", recorded)
                i = self.level.count() - 1
            self.level.setCurrentIndex(max(0, i))
            self.conclusion_text.setPlainText(str(raw.get("text", "") or ""))
        self._level_changed()
        note = QLabel("Each change is recorded in the case's audit log under your name.")
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

    def values(self) -> dict[str, Any]:
        """What saving would store, by meta key."""
        level = str(self.level.currentData() or "")
        conclusion = (
            {"level": level, "text": self.conclusion_text.toPlainText().strip(), "by": self.session.case.actor} if level else None
        )
        lines = [" ".join(ln.split()) for ln in self.limitations.toPlainText().splitlines() if ln.strip()]
        return {META_SUMMARY: self.summary.toPlainText().strip(), META_CONCLUSION: conclusion, META_LIMITATIONS: lines}

    def save(self) -> bool:
        """Store what changed (each one audited); False when the case refused."""
        case = self.session.case
        try:
            for key, value in self.values().items():
                old = case.get_meta(key, None)
                if key == META_CONCLUSION and isinstance(old, dict) and isinstance(value, dict):
                    # The same words again change nothing, whoever typed them first.
                    same = {k: old.get(k) for k in ("level", "text")} == {k: value[k] for k in ("level", "text")}
                    if same:
                        continue
                empty_before = old in (None, "", [])
                if old == value or (empty_before and value in (None, "", [])):
                    continue
                case.set_meta(key, value)
        except ExaminerError as exc:
            self.w.show_error(exc.message)
            return False
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
