"""The analysis panel: trace detection, re-compressions, the comparison choice, suggestions.

Widgets only: buttons emit requests, and the main window runs the core functions as background
jobs and hands results back through the ``show_*`` methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from examiner.analysis.compare import to_display_uint8
from examiner.gui.eliding_combo import ElidingComboBox
from examiner.gui.tiles import numpy_to_qimage

if TYPE_CHECKING:
    from examiner.workflows.session import ComparisonSource

VERDICT_COLOURS = {"neural": "#e05050", "not-neural": "#50b070", "inconclusive": "#d0a030"}


def first_sentence(text: str, limit: int = 220) -> str:
    """The explanation's opening sentence, for the narrow panel (the dock holds the whole text)."""
    head = text.strip().split("\n", 1)[0]
    for end in (". ", "; "):
        cut = head.find(end)
        if 0 < cut < limit:
            return head[: cut + 1]
    return head if len(head) <= limit else head[: limit - 3].rstrip() + "..."


class AnalysisPanel(QWidget):
    detection_requested = Signal()
    recompression_requested = Signal(str, object, object, str)  # codec id, quality | None, target bpp | None, device
    comparison_chosen = Signal(str)  # comparison key ("" = none)
    tile_overlay_toggled = Signal(bool)
    suggest_requested = Signal()
    variability_requested = Signal(str, int, int, str)  # codec id, quality, seeds, device
    variability_overlay_toggled = Signal(bool)
    proposal_action = Signal(str, int)  # accept | reject | edit, proposal index
    explanation_changed = Signal(str)  # the full detection explanation ("" when none)
    explanation_requested = Signal()  # the examiner wants to read it (the window shows its dock)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._codecs: list[Any] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)

        det = QGroupBox("Neural-compression traces")
        dl = QVBoxLayout(det)
        row = QHBoxLayout()
        self.detect_button = QPushButton("Run detection")
        self.detect_button.setToolTip("Spectral trace analysis of the evidence (Ctrl+D)")
        self.detect_button.clicked.connect(self.detection_requested.emit)
        row.addWidget(self.detect_button)
        self.tile_overlay = QCheckBox("Per-tile overlay")
        self.tile_overlay.setEnabled(False)
        self.tile_overlay.toggled.connect(self.tile_overlay_toggled.emit)
        row.addWidget(self.tile_overlay)
        row.addStretch(1)
        dl.addLayout(row)
        self.verdict = QLabel("No detection run yet.")
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        dl.addWidget(self.verdict)
        # The panel is a narrow column: it shows the explanation's first sentence, and the full
        # text goes to a dock that can be made as wide as the window.
        erow = QHBoxLayout()
        self.explanation = QLabel("")
        self.explanation.setWordWrap(True)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        erow.addWidget(self.explanation, 1)
        self.spectrum = QLabel()
        self.spectrum.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.spectrum.setMinimumHeight(0)
        erow.addWidget(self.spectrum)
        dl.addLayout(erow)
        self.explain_button = QPushButton("Read the full explanation")
        self.explain_button.setToolTip("Opens the Detection explanation panel, which can be widened and undocked")
        self.explain_button.setVisible(False)
        self.explain_button.clicked.connect(self.explanation_requested.emit)
        dl.addWidget(self.explain_button)
        outer.addWidget(det)

        rec = QGroupBox("Re-compression")
        form = QFormLayout(rec)
        self.codec = ElidingComboBox()
        self.codec.currentIndexChanged.connect(self._codec_changed)
        form.addRow("Codec", self.codec)
        qrow = QHBoxLayout()
        self.by_quality = QRadioButton("Quality")
        self.by_quality.setChecked(True)
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(50)
        self.by_bpp = QRadioButton("Target bpp")
        self.bpp = QDoubleSpinBox()
        self.bpp.setRange(0.01, 24.0)
        self.bpp.setDecimals(3)
        self.bpp.setSingleStep(0.05)
        self.bpp.setValue(0.5)
        for w in (self.by_quality, self.quality, self.by_bpp, self.bpp):
            qrow.addWidget(w)
        form.addRow(qrow)
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        form.addRow("Device", self.device)
        self.codec_note = QLabel("")
        self.codec_note.setWordWrap(True)
        self.codec_note.setStyleSheet("color: #a0a0a0;")
        form.addRow(self.codec_note)
        self.recompress_button = QPushButton("Run re-compression")
        self.recompress_button.clicked.connect(self.request_recompression)
        form.addRow(self.recompress_button)
        vrow = QHBoxLayout()
        self.seeds = QSpinBox()
        self.seeds.setRange(2, 64)
        self.seeds.setValue(8)
        self.seeds.setPrefix("seeds ")
        self.variability_button = QPushButton("Seed variability")
        self.variability_button.setToolTip(
            "Stochastic decoders only: decode one bitstream with several noise seeds and map where they disagree"
        )
        self.variability_button.clicked.connect(self._request_variability)
        self.variability_overlay = QCheckBox("Overlay")
        self.variability_overlay.setEnabled(False)
        self.variability_overlay.toggled.connect(self.variability_overlay_toggled.emit)
        vrow.addWidget(self.variability_button)
        vrow.addWidget(self.seeds)
        vrow.addWidget(self.variability_overlay)
        form.addRow(vrow)
        outer.addWidget(rec)

        cmp_box = QGroupBox("Comparison image")
        cl = QVBoxLayout(cmp_box)
        self.comparisons = QListWidget()
        self.comparisons.setMaximumHeight(110)
        self.comparisons.currentItemChanged.connect(self._comparison_changed)
        cl.addWidget(self.comparisons)
        # Right under detection, so the choice is in view without scrolling on a 1000-pixel screen.
        outer.insertWidget(1, cmp_box)

        sug = QGroupBox("Suggested regions (symbol checks)")
        sl = QVBoxLayout(sug)
        self.suggest_button = QPushButton("Suggest regions against the comparison")
        self.suggest_button.clicked.connect(self.suggest_requested.emit)
        sl.addWidget(self.suggest_button)
        self.proposals = QListWidget()
        self.proposals.setMaximumHeight(110)
        sl.addWidget(self.proposals)
        prow = QHBoxLayout()
        for name, label in (("accept", "Accept"), ("edit", "Accept && edit"), ("reject", "Reject")):
            b = QPushButton(label)
            b.clicked.connect(lambda _=False, n=name: self._proposal(n))
            prow.addWidget(b)
        sl.addLayout(prow)
        outer.addWidget(sug)
        outer.addStretch(1)

    # -- codecs ----------------------------------------------------------------------------------
    def set_codecs(self, entries: list[Any]) -> None:
        """``entries``: objects with ``info`` (CodecInfo), ``available`` and ``reason``."""
        self._codecs = entries
        self.codec.blockSignals(True)
        self.codec.clear()
        for e in entries:
            info = e.info
            marks = ("demo " if getattr(info, "demonstration", False) else "") + ("unavailable" if not e.available else "")
            # Short in the chooser (the dock is narrow); the full name is the item's tool tip.
            label = info.name + (f"  [{marks.strip()}]" if marks.strip() else "")
            self.codec.addItem(label, info.id)
            notes = [n for n, on in (("demonstration codec", info.demonstration), (f"unavailable: {e.reason}", not e.available)) if on]
            full = "\n".join([info.name, f"id: {info.id}", *notes])
            self.codec.setItemData(self.codec.count() - 1, full, Qt.ItemDataRole.ToolTipRole)
        self.codec.fit_popup()
        self.codec.blockSignals(False)
        self._codec_changed()

    def _codec_changed(self) -> None:
        i = self.codec.currentIndex()
        if i < 0 or i >= len(self._codecs):
            self.codec_note.setText("No codec packs found.")
            self.recompress_button.setEnabled(False)
            self.variability_button.setEnabled(False)
            return
        e = self._codecs[i]
        q = tuple(e.info.qualities)
        if q:
            self.quality.setRange(min(q), max(q))
            if self.quality.value() not in q and len(q) < 20:
                self.quality.setValue(q[0])
        self.recompress_button.setEnabled(bool(e.available))
        self.variability_button.setEnabled(bool(e.available) and bool(getattr(e.info, "stochastic", False)))
        note = e.info.description or ""
        if not e.available:
            note = f"Unavailable here: {e.reason}"
        self.codec_note.setText(note)
        self.codec.setToolTip(str(self.codec.itemData(i, Qt.ItemDataRole.ToolTipRole) or ""))

    def request_recompression(self) -> None:
        codec_id = self.codec.currentData()
        if not codec_id:
            return
        if self.by_quality.isChecked():
            self.recompression_requested.emit(codec_id, int(self.quality.value()), None, self.device.currentText())
        else:
            self.recompression_requested.emit(codec_id, None, float(self.bpp.value()), self.device.currentText())

    def _request_variability(self) -> None:
        codec_id = self.codec.currentData()
        if codec_id:
            self.variability_requested.emit(codec_id, int(self.quality.value()), int(self.seeds.value()), self.device.currentText())

    # -- comparisons -------------------------------------------------------------------------------
    def set_comparisons(self, sources: list[ComparisonSource], current: str = "") -> None:
        self.comparisons.blockSignals(True)
        self.comparisons.clear()
        none = QListWidgetItem("(none: evidence only)")
        none.setData(Qt.ItemDataRole.UserRole, "")
        self.comparisons.addItem(none)
        chosen = none
        for s in sources:
            it = QListWidgetItem(s.label)
            it.setData(Qt.ItemDataRole.UserRole, s.key)
            self.comparisons.addItem(it)
            if s.key == current:
                chosen = it
        self.comparisons.setCurrentItem(chosen)
        self.comparisons.blockSignals(False)

    def select_comparison(self, key: str) -> None:
        for i in range(self.comparisons.count()):
            it = self.comparisons.item(i)
            if it.data(Qt.ItemDataRole.UserRole) == key:
                self.comparisons.setCurrentItem(it)
                return

    def _comparison_changed(self, cur: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        self.comparison_chosen.emit("" if cur is None else str(cur.data(Qt.ItemDataRole.UserRole)))

    # -- detection -------------------------------------------------------------------------------
    def show_detection(self, verdict: str, score: float, explanation: str, spectrum: np.ndarray | None, has_tiles: bool) -> None:
        colour = VERDICT_COLOURS.get(verdict, "#d0d0d0")
        self.verdict.setText(f"<b>Verdict: <span style='color:{colour}'>{verdict}</span></b> &nbsp; score {score:.3f}")
        self.explanation.setText(first_sentence(explanation))
        self.explain_button.setVisible(bool(explanation))
        self.explanation_changed.emit(explanation)
        if spectrum is not None:
            pm = QPixmap.fromImage(numpy_to_qimage(to_display_uint8(spectrum)))
            self.spectrum.setPixmap(pm.scaled(110, 110, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
            self.spectrum.setToolTip("Averaged power spectrum of the noise residual (display only)")
        else:
            self.spectrum.clear()
        self.tile_overlay.setEnabled(has_tiles)

    def clear_detection(self) -> None:
        self.verdict.setText("No detection run yet.")
        self.explanation.setText("")
        self.explain_button.setVisible(False)
        self.explanation_changed.emit("")
        self.spectrum.clear()
        self.tile_overlay.setChecked(False)
        self.tile_overlay.setEnabled(False)

    # -- proposals -------------------------------------------------------------------------------
    def set_proposals(self, labels: list[str]) -> None:
        self.proposals.clear()
        for i, text in enumerate(labels):
            it = QListWidgetItem(text)
            it.setData(Qt.ItemDataRole.UserRole, i)
            self.proposals.addItem(it)

    def _proposal(self, action: str) -> None:
        it = self.proposals.currentItem()
        if it is not None:
            self.proposal_action.emit(action, int(it.data(Qt.ItemDataRole.UserRole)))
