"""The metadata panel: intake facts, decode policy and conversions, EXIF, JPEG quantisation tables
and the quality estimate of the evidence shown, read-only.

The sections come from :func:`examiner.workflows.metadata_view.evidence_metadata` (already
escaped); they are shown as plain item text, never as rich text, so markup in a tag stays literal.
"""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from examiner.workflows.metadata_view import QUANT_TABLE, Section


class MetadataPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.status = QLabel("No evidence shown.")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Item", "Value"])
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setAlternatingRowColors(True)
        hdr = self.tree.header()
        hdr.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        hdr.setStretchLastSection(True)
        self.tree.setIndentation(12)
        self.tree.setColumnWidth(0, 150)
        layout.addWidget(self.tree)
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    def clear(self, message: str = "No evidence shown.") -> None:
        self.tree.clear()
        self.status.setText(message)

    def set_sections(self, title: str, sections: list[Section]) -> None:
        self.tree.clear()
        self.status.setText(title)
        for name, rows in sections:
            top = QTreeWidgetItem([name, ""])
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            self.tree.addTopLevelItem(top)
            for key, value in rows:
                it = QTreeWidgetItem([key, value])
                it.setToolTip(0, key)
                it.setToolTip(1, value if len(value) < 2000 else value[:2000] + " ...")
                if key == QUANT_TABLE:
                    it.setFont(1, self._mono)
                top.addChild(it)
            top.setFirstColumnSpanned(True)
            # The long and rarely needed sections start folded.
            top.setExpanded(not name.startswith(("Decoding",)))
        # Names as wide as they need, up to a limit that leaves the values most of the panel.
        self.tree.resizeColumnToContents(0)
        self.tree.setColumnWidth(0, max(120, min(self.tree.columnWidth(0), 200)))

    def values(self) -> dict[str, str]:
        """Every (item, value) shown, flattened (tests read this)."""
        out: dict[str, str] = {}
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                c = top.child(j)
                out[c.text(0)] = c.text(1)
        return out
