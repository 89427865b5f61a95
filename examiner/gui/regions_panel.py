"""The regions panel: a filterable list of marked regions and the editor for the selected one.

The editor never writes a region itself: it emits the edited copy and the main window pushes an
undoable command. Locked regions are shown read-only.
"""

from __future__ import annotations

import copy

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from examiner.core.regions import (
    CATEGORY_DEFINITIONS,
    CONFIDENCE_LEVELS,
    CORE_CATEGORIES,
    SYMBOL_DEFINITION,
    Category,
    Region,
)


def region_summary(r: Region, height: int, width: int) -> str:
    cats = ", ".join(c.value.capitalize() for c in r.categories) or "no category"
    sym = " | Symbol" if r.symbol else ""
    lock = " | locked" if r.locked else ""
    x, y, w, h = r.bbox()
    return f"R{r.id}  {r.kind.value}  {cats}{sym}{lock}\n    box {x},{y} {w}x{h} px"


class RegionEditor(QGroupBox):
    edited = Signal(object, object, str)  # before Region, after Region, description
    lock_requested = Signal(int)
    delete_requested = Signal(int)

    def __init__(self, texture_enabled: bool = False, parent: QWidget | None = None) -> None:
        super().__init__("Selected region", parent)
        self._region: Region | None = None
        self._texture_enabled = texture_enabled
        self._loading = False
        self._image_size = (0, 0)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.box_label = QLabel("-")
        self.box_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Pixel box", self.box_label)
        self.share_label = QLabel("-")
        form.addRow("Share of image", self.share_label)
        cats = QWidget()
        cl = QHBoxLayout(cats)
        cl.setContentsMargins(0, 0, 0, 0)
        self.category_boxes: dict[Category, QCheckBox] = {}
        for c in (*CORE_CATEGORIES, Category.TEXTURE):
            label = c.value.capitalize() + (" (provisional)" if c is Category.TEXTURE else "")
            cb = QCheckBox(label)
            cb.setToolTip(CATEGORY_DEFINITIONS[c])
            cb.toggled.connect(self._changed_categories)
            cl.addWidget(cb)
            self.category_boxes[c] = cb
        cl.addStretch(1)
        self.set_texture_enabled(texture_enabled)
        form.addRow("Categories", cats)
        self.symbol_box = QCheckBox("Symbol (high impact)")
        self.symbol_box.setToolTip(SYMBOL_DEFINITION)
        self.symbol_box.toggled.connect(self._changed_symbol)
        form.addRow("", self.symbol_box)
        self.evidence_says = QLineEdit()
        self.evidence_says.setPlaceholderText("e.g. plate reads KA 4717")
        self.evidence_says.editingFinished.connect(lambda: self._changed_text("evidence_says", self.evidence_says.text()))
        form.addRow("Evidence shows", self.evidence_says)
        self.comparison_says = QLineEdit()
        self.comparison_says.setPlaceholderText("e.g. plate reads KA 4711")
        self.comparison_says.editingFinished.connect(
            lambda: self._changed_text("comparison_says", self.comparison_says.text())
        )
        form.addRow("Comparison shows", self.comparison_says)
        self.confidence = QComboBox()
        self.confidence.addItems(CONFIDENCE_LEVELS)
        self.confidence.currentTextChanged.connect(lambda t: self._changed_text("confidence", t))
        form.addRow("Confidence", self.confidence)
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(60)
        self.notes.installEventFilter(self)  # notes are applied when the field loses focus
        form.addRow("Notes", self.notes)
        self.save_notes = QPushButton("Apply notes")
        self.save_notes.clicked.connect(lambda: self._changed_text("notes", self.notes.toPlainText()))
        self.provenance = QLabel("-")
        self.provenance.setWordWrap(True)
        form.addRow("Provenance", self.provenance)
        buttons = QWidget()
        bl = QHBoxLayout(buttons)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.save_notes)
        self.lock_button = QPushButton("Lock as reviewed")
        self.lock_button.clicked.connect(self._lock)
        bl.addWidget(self.lock_button)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self._delete)
        bl.addWidget(self.delete_button)
        form.addRow(buttons)
        self.set_region(None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.notes and event.type() == QEvent.Type.FocusOut:
            self._changed_text("notes", self.notes.toPlainText())
        return super().eventFilter(watched, event)

    def set_image_size(self, height: int, width: int) -> None:
        self._image_size = (height, width)

    def set_texture_enabled(self, on: bool) -> None:
        """Texture is offered only when the setting is on; a region that already has it keeps
        showing it, so nothing recorded is hidden."""
        self._texture_enabled = on
        r = self._region
        self.category_boxes[Category.TEXTURE].setVisible(on or (r is not None and Category.TEXTURE in r.categories))

    def region(self) -> Region | None:
        return self._region

    def set_region(self, region: Region | None) -> None:
        self._loading = True
        self._region = copy.deepcopy(region)
        enabled = region is not None and not region.locked
        for w in (*self.category_boxes.values(), self.symbol_box, self.evidence_says, self.comparison_says,
                  self.confidence, self.notes, self.save_notes, self.lock_button, self.delete_button):
            w.setEnabled(enabled)
        if region is None:
            self.setTitle("Selected region: none")
            self.box_label.setText("-")
            self.share_label.setText("-")
            self.provenance.setText("-")
            for cb in self.category_boxes.values():
                cb.setChecked(False)
            self.symbol_box.setChecked(False)
            self.evidence_says.clear()
            self.comparison_says.clear()
            self.notes.clear()
        else:
            self.setTitle(f"Selected region: R{region.id}" + ("  (locked after review)" if region.locked else ""))
            x, y, w, h = region.bbox()
            self.box_label.setText(f"x {x}, y {y}, {w} x {h} px")
            H, W = self._image_size
            self.share_label.setText(f"{region.area_share(H, W):.3f} % of pixels" if H and W else "-")
            for c, cb in self.category_boxes.items():
                cb.setChecked(c in region.categories)
            self.set_texture_enabled(self._texture_enabled)
            self.symbol_box.setChecked(region.symbol)
            for field, text in ((self.evidence_says, region.evidence_says), (self.comparison_says, region.comparison_says)):
                field.setText(text)
                field.setCursorPosition(0)  # a long reading shows its beginning, and all of it on hover
                field.setToolTip(text)
            self.confidence.setCurrentText(region.confidence)
            self.notes.setPlainText(region.notes)
            who = region.author or "unknown examiner"
            self.provenance.setText(f"{region.provenance}; by {who}; {region.created_utc or 'time not recorded'}")
        self._loading = False

    def _emit(self, after: Region, text: str) -> None:
        if self._loading or self._region is None:
            return
        before = self._region
        if after.to_dict() == before.to_dict():
            return
        self._region = copy.deepcopy(after)
        self.edited.emit(before, after, text)

    def _changed_categories(self) -> None:
        if self._region is None:
            return
        after = copy.deepcopy(self._region)
        after.categories = [c for c, cb in self.category_boxes.items() if cb.isChecked()]
        self._emit(after, f"Categories of R{after.id}")

    def _changed_symbol(self, on: bool) -> None:
        if self._region is None:
            return
        after = copy.deepcopy(self._region)
        after.symbol = on
        self._emit(after, f"Symbol flag of R{after.id}")

    def _changed_text(self, field: str, value: str) -> None:
        if self._region is None:
            return
        after = copy.deepcopy(self._region)
        setattr(after, field, value)
        self._emit(after, f"{field.replace('_', ' ')} of R{after.id}")

    def _lock(self) -> None:
        if self._region is not None and self._region.id is not None:
            self.lock_requested.emit(self._region.id)

    def _delete(self) -> None:
        if self._region is not None and self._region.id is not None:
            self.delete_requested.emit(self._region.id)


class RegionsPanel(QWidget):
    """Region list with category / Symbol filters over the editor."""

    region_selected = Signal(int)
    region_activated = Signal(int)  # double click: jump to it

    def __init__(self, texture_enabled: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show"))
        self.category_filter = QComboBox()
        self.category_filter.addItem("all categories", "")
        for c in (*CORE_CATEGORIES, Category.TEXTURE):
            self.category_filter.addItem(c.value.capitalize(), c.value)
        self.category_filter.currentIndexChanged.connect(self._refill)
        filters.addWidget(self.category_filter)
        self.symbol_filter = QCheckBox("Symbol only")
        self.symbol_filter.toggled.connect(self._refill)
        filters.addWidget(self.symbol_filter)
        filters.addStretch(1)
        layout.addLayout(filters)
        split = QSplitter(Qt.Orientation.Vertical)
        self.list = QListWidget()
        self.list.setAlternatingRowColors(True)
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.itemDoubleClicked.connect(lambda it: self.region_activated.emit(int(it.data(Qt.ItemDataRole.UserRole))))
        split.addWidget(self.list)
        self.editor = RegionEditor(texture_enabled)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.editor)
        split.addWidget(scroll)
        split.setSizes([160, 340])
        layout.addWidget(split)
        self._regions: list[Region] = []
        self._size = (0, 0)

    def set_texture_enabled(self, on: bool) -> None:
        self.editor.set_texture_enabled(on)
        # The filter always lists Texture: older regions may carry it even when it is switched off.

    def set_regions(self, regions: list[Region], height: int, width: int, select: int | None = None) -> None:
        self._regions = regions
        self._size = (height, width)
        self.editor.set_image_size(height, width)
        self._refill(select=select)

    def visible_ids(self) -> list[int]:
        return [int(self.list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.list.count())]

    def _passes(self, r: Region) -> bool:
        cat = self.category_filter.currentData()
        if cat and Category(cat) not in r.categories:
            return False
        return not (self.symbol_filter.isChecked() and not r.symbol)

    def _refill(self, *_: object, select: int | None = None) -> None:
        if select is None and self.editor.region() is not None:
            select = self.editor.region().id  # type: ignore[union-attr]
        self.list.blockSignals(True)
        self.list.clear()
        H, W = self._size
        chosen: QListWidgetItem | None = None
        for r in self._regions:
            if not self._passes(r):
                continue
            it = QListWidgetItem(region_summary(r, H, W))
            it.setData(Qt.ItemDataRole.UserRole, r.id)
            self.list.addItem(it)
            if r.id == select:
                chosen = it
        self.list.blockSignals(False)
        if chosen is not None:
            self.list.setCurrentItem(chosen)
        else:
            match = [r for r in self._regions if r.id == select]
            self.editor.set_region(match[0] if match else None)

    def select(self, region_id: int | None) -> None:
        for i in range(self.list.count()):
            it = self.list.item(i)
            if it.data(Qt.ItemDataRole.UserRole) == region_id:
                self.list.setCurrentItem(it)
                return
        match = [r for r in self._regions if r.id == region_id]
        self.editor.set_region(match[0] if match else None)

    def _current_changed(self, cur: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        if cur is None:
            self.editor.set_region(None)
            return
        rid = int(cur.data(Qt.ItemDataRole.UserRole))
        match = [r for r in self._regions if r.id == rid]
        self.editor.set_region(match[0] if match else None)
        self.region_selected.emit(rid)
