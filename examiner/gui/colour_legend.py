"""A colour legend drawn over the image view for every map shown: what the colours mean and their scale.

A heat map without its scale invites reading "red" as "changed". Each map that is on screen (the
per-tile detection overlay, the seed-variability overlay, the difference and SSIM maps) puts an
entry here with its colour map, what low and high mean, and the numbers at both ends; the legend
sits in the view's top-right corner, above the image, and hides itself when no map is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from examiner.analysis.compare import color_lut

BAR_W = 290
BAR_H = 12
PAD = 8
LINE = 16
WRAP = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop) | int(Qt.TextFlag.TextWordWrap)


@dataclass
class LegendEntry:
    title: str  # what is mapped, e.g. "Per-tile grid-peak strength"
    colormap: str
    low: str  # label under the left end (value and meaning)
    high: str  # label under the right end
    note: str = ""  # one line under the bar (scale, relative or absolute)


class ColourLegend(QWidget):
    """Child of an image view's viewport; one block per map entry."""

    def __init__(self, viewport: QWidget) -> None:
        super().__init__(viewport)
        self.entries: dict[str, LegendEntry] = {}
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        viewport.installEventFilter(self)
        self.hide()

    # -- entries -------------------------------------------------------------------------------
    def set_entry(self, key: str, entry: LegendEntry | None) -> None:
        if entry is None:
            self.entries.pop(key, None)
        else:
            self.entries[key] = entry
        self._relayout()

    def text(self) -> str:
        """Everything the legend says, as plain text (tool tips and tests read this)."""
        return "\n".join(f"{e.title}: {e.low} .. {e.high}" + (f" ({e.note})" if e.note else "") for e in self.entries.values())

    # -- geometry and painting ---------------------------------------------------------------------
    def _wrapped_height(self, text: str, bold: bool = False) -> int:
        font = self.font()
        font.setBold(bold)
        fm = QFontMetrics(font)
        return fm.boundingRect(QRect(0, 0, BAR_W, 2000), WRAP, text).height() if text else 0

    def _block_height(self, e: LegendEntry) -> int:
        return self._wrapped_height(e.title, True) + 2 + BAR_H + 4 + LINE + self._wrapped_height(e.note) + PAD

    def _relayout(self) -> None:
        if not self.entries:
            self.hide()
            return
        parent = self.parentWidget()
        width = BAR_W + 2 * PAD
        height = PAD + sum(self._block_height(e) for e in self.entries.values())
        x = max(0, parent.width() - width - 12) if parent is not None else 0
        self.setGeometry(QRect(x, 34, width, height))  # below the view's banner line
        self.setToolTip(self.text())
        self.show()
        self.raise_()
        self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.entries:
            self._relayout()
        return False

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(20, 22, 26, 215))
        p.drawRoundedRect(self.rect(), 5, 5)
        fm = p.fontMetrics()
        y = PAD
        for e in self.entries.values():
            p.setPen(QColor(235, 237, 240))
            font = p.font()
            font.setBold(True)
            p.setFont(font)
            h = self._wrapped_height(e.title, True)
            p.drawText(QRect(PAD, y, BAR_W, h), WRAP, e.title)
            font.setBold(False)
            p.setFont(font)
            y += h + 2
            lut = color_lut(e.colormap)
            bar = QImage(256, 1, QImage.Format.Format_RGB32)
            for i in range(256):
                r, g, b = (int(c) for c in lut[i])
                bar.setPixel(i, 0, QColor(r, g, b).rgb())
            p.drawImage(QRect(PAD, y, BAR_W, BAR_H), bar)
            p.setPen(QColor(150, 150, 150))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRect(PAD, y, BAR_W, BAR_H))
            y += BAR_H + 4
            p.setPen(QColor(215, 217, 220))
            half = BAR_W // 2
            p.drawText(QRect(PAD, y, half, LINE), Qt.AlignmentFlag.AlignLeft, fm.elidedText(e.low, Qt.TextElideMode.ElideRight, half))
            p.drawText(QRect(PAD + half, y, half, LINE), Qt.AlignmentFlag.AlignRight, fm.elidedText(e.high, Qt.TextElideMode.ElideRight, half))
            y += LINE
            if e.note:
                p.setPen(QColor(170, 173, 178))
                h = self._wrapped_height(e.note)
                p.drawText(QRect(PAD, y, BAR_W, h), WRAP, e.note)
                y += h
            y += PAD
        p.end()

