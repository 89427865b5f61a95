"""One row per background job: title, progress bar, state, cancel button."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from examiner.gui.workers import JobInfo, JobManager

KEEP_FINISHED_MS = 8000


class _JobRow(QWidget):
    def __init__(self, info: JobInfo, manager: JobManager) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 1, 2, 1)
        self.title = QLabel(info.title)
        self.title.setMinimumWidth(140)
        layout.addWidget(self.title, 2)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        layout.addWidget(self.bar, 3)
        self.state = QLabel("queued")
        self.state.setMinimumWidth(120)
        layout.addWidget(self.state, 2)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(lambda: manager.cancel(info.id))
        layout.addWidget(self.cancel)

    def show_info(self, info: JobInfo) -> None:
        self.bar.setValue(int(1000 * info.fraction))
        self.bar.setFormat(f"{100 * info.fraction:.0f}%")
        text = info.state if not info.message or info.state == "done" else f"{info.state}: {info.message}"
        self.state.setText(text[:80])
        self.state.setToolTip(info.error or info.message)
        if info.state == "failed":
            self.state.setStyleSheet("color: #e05050;")
        self.cancel.setEnabled(info.state in ("queued", "running"))


class JobsPanel(QWidget):
    def __init__(self, manager: JobManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.rows: dict[str, _JobRow] = {}
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(4, 4, 4, 4)
        self.empty = QLabel("No background jobs.")
        self.layout_.addWidget(self.empty)
        self.layout_.addStretch(1)
        manager.job_added.connect(self._added)
        manager.job_changed.connect(self._changed)
        manager.job_finished.connect(self._finished)

    def _added(self, info: JobInfo) -> None:
        row = _JobRow(info, self.manager)
        self.rows[info.id] = row
        self.layout_.insertWidget(self.layout_.count() - 1, row)
        self.empty.hide()
        row.show_info(info)

    def _changed(self, info: JobInfo) -> None:
        row = self.rows.get(info.id)
        if row is not None:
            row.show_info(info)

    def _finished(self, info: JobInfo) -> None:
        self._changed(info)
        if info.state != "failed":
            # Bound to this panel: the timer dies with it when the window closes first.
            QTimer.singleShot(KEEP_FINISHED_MS, self, lambda: self._remove(info.id))

    def _remove(self, job_id: str) -> None:
        row = self.rows.pop(job_id, None)
        if row is not None and shiboken6.isValid(row):
            row.setParent(None)
            row.deleteLater()
        if not self.rows:
            self.empty.show()
