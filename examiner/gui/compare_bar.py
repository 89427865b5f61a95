"""The compare tool bar: comparison mode, difference gain, colour map, flicker rate, display.

Only widgets; the window connects them to its compare controller.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QToolBar

from examiner.analysis import compare
from examiner.gui.compare_controller import MODE_LABELS, MODES


class CompareBar(QToolBar):
    def __init__(self) -> None:
        super().__init__("Compare")
        self.setObjectName("compare-bar")
        self.mode_box = QComboBox()
        for m in MODES:
            self.mode_box.addItem(MODE_LABELS[m], m)
        self.addWidget(QLabel(" Compare: "))
        self.addWidget(self.mode_box)
        self.addSeparator()
        self.addWidget(QLabel(" Gain "))
        self.gain_box = QDoubleSpinBox()
        self.gain_box.setRange(1.0, 64.0)
        self.gain_box.setValue(4.0)
        self.gain_box.setSingleStep(1.0)
        self.gain_box.setPrefix("x")
        self.gain_box.setDecimals(1)
        self.addWidget(self.gain_box)
        self.addWidget(QLabel(" Map "))
        self.cmap_box = QComboBox()
        self.cmap_box.addItems(list(compare.COLOR_MAPS))
        self.addWidget(self.cmap_box)
        self.addWidget(QLabel(" Flicker "))
        self.rate_box = QDoubleSpinBox()
        self.rate_box.setRange(0.2, 20.0)
        self.rate_box.setValue(2.0)
        self.rate_box.setSuffix(" Hz")
        self.addWidget(self.rate_box)
        # Shown in the main tool bar, not here; built here with the other display controls.
        self.display_box = QComboBox()
        self.display_box.addItem("as stored", "none")
        self.display_box.addItem("stretch (display only)", "stretch")
        self.display_box.addItem("equalise (display only)", "equalize")
        self.display_box.setToolTip("Contrast changes apply to the screen only, never to the evidence or to analyses")
