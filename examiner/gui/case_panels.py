"""Evidence list with integrity status, and the audit-log view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from examiner.workflows.audit_text import AuditRow, fold, when

if TYPE_CHECKING:
    from examiner.core.audit import AuditEntry, ChainReport
    from examiner.core.case import EvidenceItem
    from examiner.core.integrity import IntegrityReport

OK_COLOUR = QColor(80, 180, 110)
BAD_COLOUR = QColor(230, 60, 60)


class EvidencePanel(QWidget):
    evidence_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.integrity = QLabel("No case open.")
        self.integrity.setWordWrap(True)
        self.integrity.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.integrity)
        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._changed)
        layout.addWidget(self.list)

    def set_case(self, items: list[EvidenceItem], integrity: IntegrityReport | None, current: int | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        chosen = None
        for item in items:
            status = integrity.evidence_status(item.id) if integrity is not None else "unchecked"
            ref = "  + reference" if item.reference_path else ""
            mark = "OK" if status == "ok" else status.upper()
            it = QListWidgetItem(f"E{item.id}  {item.name}{ref}\n    [{mark}] SHA-256 {item.sha256[:16]}...")
            it.setData(Qt.ItemDataRole.UserRole, item.id)
            it.setToolTip(f"{item.path}\nSHA-256 {item.sha256}\nMD5 {item.md5}")
            it.setForeground(QBrush(OK_COLOUR if status == "ok" else BAD_COLOUR))
            self.list.addItem(it)
            if item.id == current:
                chosen = it
        self.list.blockSignals(False)
        if chosen is not None:
            self.list.setCurrentItem(chosen)
        self.set_integrity(integrity)

    def set_integrity(self, integrity: IntegrityReport | None) -> None:
        if integrity is None:
            self.integrity.setText("No case open.")
            self.integrity.setStyleSheet("")
            return
        if integrity.ok:
            when = integrity.checked_utc[:19].replace("T", " ")
            self.integrity.setText(
                f"Integrity verified {when} UTC: every file matches its SHA-256; {integrity.chain.summary()}; "
                "every table row matches the log."
            )
            self.integrity.setToolTip(f"Checked {integrity.checked_utc}")
            self.integrity.setStyleSheet("color: #50b46e; font-weight: bold;")
        else:
            self.integrity.setText("INTEGRITY PROBLEM:\n" + "\n".join(integrity.problems()))
            self.integrity.setStyleSheet("color: #ffffff; background: #b02828; font-weight: bold; padding: 4px;")

    def select(self, evidence_id: int) -> None:
        """Mark the item shown; silent, because it is called when that item is already shown."""
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == evidence_id:
                self.list.blockSignals(True)
                self.list.setCurrentRow(i)
                self.list.blockSignals(False)
                return

    def _changed(self, cur: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        if cur is not None:
            self.evidence_selected.emit(int(cur.data(Qt.ItemDataRole.UserRole)))


class AuditPanel(QWidget):
    """The audit log in sentences, newest first; consecutive successful openings share one row.
    The recorded entry itself is each row's tool tip and, for the selected row, the details pane."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.chain = QLabel("")
        top.addWidget(self.chain, 1)
        self.raw_button = QPushButton("Show the recorded entry")
        self.raw_button.setCheckable(True)
        self.raw_button.setToolTip("The selected row as recorded in the case's hash-chained log")
        top.addWidget(self.raw_button)
        layout.addLayout(top)
        split = QSplitter(Qt.Orientation.Horizontal)
        # The sentence names who acted, so there is no separate column for it.
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["#", "When (UTC)", "Who did what"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        hdr = self.table.horizontalHeader()
        hdr.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        split.addWidget(self.table)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Select a row to see the entry as recorded.")
        self.details.setVisible(False)
        split.addWidget(self.details)
        split.setSizes([900, 500])
        layout.addWidget(split)
        self.raw_button.toggled.connect(self._show_raw)
        self.table.currentCellChanged.connect(lambda *_: self._show_raw(self.raw_button.isChecked()))
        self.rows: list[AuditRow] = []  # oldest first; the table shows them newest first
        self.last_seq = 0
        self._bad: int | None = None

    def _show_raw(self, on: bool) -> None:
        self.details.setVisible(on)
        row = self.table.currentRow()
        if on and 0 <= row < len(self.rows):
            self.details.setPlainText(self.rows[len(self.rows) - 1 - row].raw())

    def _fill(self, table_row: int, row: AuditRow) -> None:
        e = row.last
        raw = row.raw()
        cells = [row.seq_text, when(e.time_utc).removesuffix(" UTC"), row.text()]
        for col, text in enumerate(cells):
            it = QTableWidgetItem(text)
            it.setToolTip(raw if len(raw) < 4000 else raw[:4000] + "\n...")
            if self._bad is not None and e.seq >= self._bad:
                it.setForeground(QBrush(BAD_COLOUR))
            self.table.setItem(table_row, col, it)

    def set_entries(self, entries: list[AuditEntry], chain: ChainReport | None, append: bool = False) -> None:
        """Show entries newest first; with ``append`` only new entries are added on top (or folded
        into the top row), so a long log is not re-read after every edit."""
        self._bad = chain.first_bad if chain is not None and not chain.ok else None
        if not append:
            self.table.setRowCount(0)
            self.rows = []
        before = len(self.rows)
        self.rows, joined = fold(entries, self.rows)
        if joined and self.table.rowCount():
            self._fill(0, self.rows[before - 1])
        for row in self.rows[before:]:
            self.table.insertRow(0)
            self._fill(0, row)
        if entries:
            self.last_seq = max(self.last_seq if append else 0, entries[-1].seq)
        elif not append:
            self.last_seq = 0
        if not append:
            self.table.resizeColumnsToContents()
            self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        if chain is None:
            self.chain.setText("")
        elif chain.ok:
            # The chain is checked when the case opens; say so, so that later entries are not
            # mistaken for part of that check.
            added = self.last_seq - chain.entries
            noun = "entry" if added == 1 else "entries"
            since = f"; {added} {noun} added since, each chained to the one before" if added > 0 else ""
            self.chain.setText(f"{chain.summary()} when the case was opened{since}")
            self.chain.setStyleSheet("color: #50b46e;")
        else:
            self.chain.setText(chain.summary())
            self.chain.setStyleSheet("color: #ffffff; background: #b02828; font-weight: bold; padding: 3px;")

    def texts(self) -> list[str]:
        """The sentences shown, newest first (tests read this)."""
        return [self.table.item(r, 2).text() for r in range(self.table.rowCount())]
