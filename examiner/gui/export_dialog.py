"""Report export: choose the output, render in a worker, preview the first pages."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from examiner.core.settings import Settings
from examiner.core.tasks import TaskContext
from examiner.errors import ExaminerError
from examiner.gui.workers import GENERAL, JobManager

if TYPE_CHECKING:
    from collections.abc import Callable

    from examiner.core.case import Case
    from examiner.report.export import ReportResult
    from examiner.workflows.session import CaseSession

PREVIEW_PAGES = 3


def export_task(
    case: Case, out: Path, reviewer: str, settings: Settings | None = None
) -> Callable[[TaskContext], tuple[ReportResult, list[bytes], str]]:
    """Export in a worker; the case's connection is shared across threads under its own lock."""

    def run(ctx: TaskContext) -> tuple[ReportResult, list[bytes], str]:
        from examiner.report.export import ReportOptions, export_report, render_preview_pages

        options = ReportOptions(reviewer=reviewer or None, settings=settings)
        result = export_report(case, out, options, ctx.sub(0.0, 0.85, 1.0))
        ctx.progress(0.9, 1.0, "rendering the preview")
        try:
            pages, note = list(render_preview_pages(out, PREVIEW_PAGES)), ""
        except ExaminerError as exc:
            pages, note = [], exc.message
        return result, pages, note

    return run


class ExportDialog(QDialog):
    def __init__(self, parent: QWidget, session: CaseSession, jobs: JobManager) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export report")
        self.session = session
        self.jobs = jobs
        self.resize(900, 700)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        row = QHBoxLayout()
        default = session.path.with_name(session.path.stem + "-report.pdf")
        self.out = QLineEdit(str(default))
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        row.addWidget(self.out)
        row.addWidget(browse)
        form.addRow("PDF file", row)
        self.reviewer = QLineEdit()
        form.addRow("Reviewer", self.reviewer)
        layout.addLayout(form)
        self.status = QLabel("Evidence hashes are re-checked before the report is written.")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.preview = QWidget()
        self.preview_layout = QHBoxLayout(self.preview)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.preview)
        layout.addWidget(scroll, 1)
        buttons = QDialogButtonBox()
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.clicked.connect(self.export)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.reject)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Report PDF", self.out.text(), "PDF (*.pdf)")
        if path:
            self.out.setText(path)

    def export(self) -> None:
        out = Path(self.out.text()).expanduser()
        self.export_button.setEnabled(False)
        self.status.setText("Exporting...")
        self.jobs.submit(
            "Export report",
            export_task(self.session.case, out, self.reviewer.text().strip(), self.session.settings),
            queue=GENERAL,
            on_done=self._done,
            on_error=self._failed,
        )

    def _done(self, result: tuple[ReportResult, list[bytes], str]) -> None:
        info, pages, note = result
        self.export_button.setEnabled(True)
        sha = getattr(info, "sha256", "")
        n = getattr(info, "pages", "?")
        text = f"Written {self.out.text()}: {n} pages, SHA-256 {sha}"
        problems = list(getattr(info, "problems", []) or [])
        if problems:
            text += "\nIntegrity problems stated in the report: " + "; ".join(problems)
        self.status.setText(text)
        while self.preview_layout.count():
            w = self.preview_layout.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        for png in pages:
            pm = QPixmap()
            pm.loadFromData(png, "PNG")
            label = QLabel()
            label.setPixmap(pm.scaledToHeight(520, Qt.TransformationMode.SmoothTransformation))
            self.preview_layout.addWidget(label)
        if not pages:
            self.preview_layout.addWidget(QLabel(f"No preview: {note}"))
        parent = self.parent()
        state = getattr(parent, "state", None)
        if state is not None:
            state.case_changed()  # the export is an audit entry

    def _failed(self, message: str) -> None:
        self.export_button.setEnabled(True)
        self.status.setText(f"Export failed: {message}")
        self.status.setStyleSheet("color: #e05050;")
