"""Tiled level-of-detail display of large images.

The screen never holds one huge QImage: the display data is cut into 512-pixel tiles, and each
zoom level below 100% draws from a pyramid level halved as often as the zoom allows. Levels are
built on first use by 2 x 2 box averaging and tiles are converted to QImage on demand and kept
in a small LRU cache, so a 100-megapixel image pans and zooms with only the visible tiles in Qt.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from examiner.analysis.compare import apply_lut, to_display_uint8

TILE = 512
CACHE_TILES = 160  # ~125 MB of RGB tiles at most


def numpy_to_qimage(rgb8: np.ndarray) -> QImage:
    """A QImage holding a copy of an ``H x W x 3`` uint8 array.

    The pixels are written into memory Qt allocated, rather than wrapping numpy's buffer, so no
    Qt object ever points into an array Python may free.
    """
    h, w = rgb8.shape[:2]
    img = QImage(w, h, QImage.Format.Format_RGB888)
    if h == 0 or w == 0:
        return img
    bpl = img.bytesPerLine()
    dst = np.frombuffer(img.bits(), dtype=np.uint8, count=bpl * h).reshape(h, bpl)
    dst[:, : 3 * w] = rgb8.reshape(h, 3 * w)
    return img


# Below this size every level is built at once on first use; above it, levels are built in a
# background thread while the screen shows decimated previews of the tiles it needs.
SYNC_BUILD_PIXELS = 8_000_000


def _halve(a: np.ndarray) -> np.ndarray:
    """2 x 2 box average, in row strips so a 100-megapixel level needs little extra memory."""
    h, w = a.shape[:2]
    h2, w2 = max(1, h // 2), max(1, w // 2)
    if h < 2 or w < 2:
        return a[: max(1, h2), : max(1, w2)].copy()
    out = np.empty((h2, w2) + a.shape[2:], dtype=np.uint8)
    for y in range(0, h2, 256):
        core = a[2 * y : 2 * min(h2, y + 256), : w2 * 2].astype(np.uint16)
        acc = core[0::2, 0::2] + core[1::2, 0::2] + core[0::2, 1::2] + core[1::2, 1::2]
        out[y : y + acc.shape[0]] = ((acc + 2) >> 2).astype(np.uint8)
    return out


class _Notifier(QObject):
    level_built = Signal()


class ImagePyramid:
    """8-bit RGB display data of one image, with lazily built half-resolution levels."""

    def __init__(self, pixels: np.ndarray, lut: np.ndarray | None = None) -> None:
        self.levels: list[np.ndarray] = [to_display_uint8(pixels)]
        self.height, self.width = self.levels[0].shape[:2]
        self.lut = lut
        self.notifier = _Notifier()
        self._builder: threading.Thread | None = None
        self._cache: OrderedDict[tuple[int, int, int, bool], QPixmap] = OrderedDict()

    @property
    def base(self) -> np.ndarray:
        return self.levels[0]

    def set_lut(self, lut: np.ndarray | None) -> None:
        self.lut = lut
        self._cache.clear()

    def max_level(self) -> int:
        return max(0, int(math.ceil(math.log2(max(self.width, self.height) / 256.0))))

    def level(self, n: int) -> np.ndarray:
        """Level ``n`` (built now, on the calling thread, if missing)."""
        n = min(n, self.max_level())
        if n < len(self.levels):
            return self.levels[n]
        if self._builder is not None:
            self._builder.join()
        while len(self.levels) <= n:
            self.levels.append(_halve(self.levels[-1]))
        return self.levels[n]

    def has_level(self, n: int) -> bool:
        return min(n, self.max_level()) < len(self.levels)

    def _start_builder(self) -> None:
        if self._builder is not None:
            return

        def build() -> None:
            while len(self.levels) <= self.max_level():
                # list.append is atomic: the GUI thread sees a level only once it is complete.
                self.levels.append(_halve(self.levels[-1]))
                self.notifier.level_built.emit()

        self._builder = threading.Thread(target=build, name="pyramid-builder", daemon=True)
        self._builder.start()

    def level_for_scale(self, scale: float) -> int:
        if scale >= 1.0:
            return 0
        return min(self.max_level(), int(math.floor(math.log2(1.0 / scale))))

    def level_shape(self, n: int) -> tuple[int, int]:
        """Height and width of level ``n`` without building it."""
        h, w = self.height, self.width
        for _ in range(min(n, self.max_level())):
            h, w = max(1, h // 2), max(1, w // 2)
        return h, w

    def tile(self, n: int, tx: int, ty: int) -> QPixmap:
        """One tile as a pixmap in the screen's native format, converted once and cached."""
        n = min(n, self.max_level())
        exact = self.has_level(n) or self.width * self.height <= SYNC_BUILD_PIXELS
        key = (n, tx, ty, exact)
        img = self._cache.get(key)
        if img is not None:
            self._cache.move_to_end(key)
            return img
        if exact:
            data = self.level(n)[ty * TILE : (ty + 1) * TILE, tx * TILE : (tx + 1) * TILE]
        else:
            # A preview until the level is built: every 2^n-th pixel of the tile's area.
            self._start_builder()
            f, span = 2**n, TILE * 2**n
            data = self.base[ty * span : (ty + 1) * span : f, tx * span : (tx + 1) * span : f]
        img = QPixmap.fromImage(numpy_to_qimage(apply_lut(data, self.lut)))
        self._cache[key] = img
        if len(self._cache) > CACHE_TILES:
            self._cache.popitem(last=False)
        return img


class TiledImageItem(QGraphicsItem):
    """Draws an :class:`ImagePyramid` in image-pixel scene coordinates.

    ``clip_x`` limits drawing to the part right of a vertical line (the swipe compare mode).
    """

    def __init__(self, pyramid: ImagePyramid | None = None) -> None:
        super().__init__()
        self.pyramid = pyramid
        self.clip_x: float | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def set_pyramid(self, pyramid: ImagePyramid | None) -> None:
        self.prepareGeometryChange()
        self.pyramid = pyramid
        if pyramid is not None and not getattr(pyramid, "_item_connected", False):
            pyramid.notifier.level_built.connect(self._level_built)
            pyramid._item_connected = True  # type: ignore[attr-defined]
        self.update()

    def _level_built(self) -> None:
        self.update()

    def boundingRect(self) -> QRectF:
        if self.pyramid is None:
            return QRectF()
        return QRectF(0, 0, self.pyramid.width, self.pyramid.height)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        pyr = self.pyramid
        if pyr is None:
            return
        scale = option.levelOfDetailFromTransform(painter.worldTransform())
        # Above 100% every image pixel becomes a crisp block (nearest neighbour); below, smooth.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1.0)
        exposed = option.exposedRect.intersected(self.boundingRect())
        # Only what reaches the paint device matters; QGraphicsView.render() and some update
        # paths pass the whole item as exposed, which would decode every tile of level 0.
        device = painter.device()
        if device is not None:
            inverse, ok = painter.worldTransform().inverted()
            if ok:
                visible = inverse.mapRect(QRectF(0, 0, device.width(), device.height()))
                exposed = exposed.intersected(visible.adjusted(-1, -1, 1, 1))
        if exposed.isEmpty():
            return
        if self.clip_x is not None:
            exposed.setLeft(max(exposed.left(), self.clip_x))
            if exposed.width() <= 0:
                return
            painter.save()
            painter.setClipRect(QRectF(self.clip_x, 0, pyr.width - self.clip_x, pyr.height))
        n = pyr.level_for_scale(scale)
        f = 2**n
        lh, lw = pyr.level_shape(n)
        span = TILE * f
        tx0 = max(0, int(exposed.left() // span))
        tx1 = min((lw - 1) // TILE, int(exposed.right() // span))
        ty0 = max(0, int(exposed.top() // span))
        ty1 = min((lh - 1) // TILE, int(exposed.bottom() // span))
        for ty in range(ty0, ty1 + 1):
            for tx in range(tx0, tx1 + 1):
                img = pyr.tile(n, tx, ty)
                # A level's last row/column may stand for an odd leftover pixel of level 0; the
                # target rectangle is clipped to the image so borders stay pixel-exact.
                x0, y0 = tx * span, ty * span
                w = min(img.width() * f, pyr.width - x0, span)
                h = min(img.height() * f, pyr.height - y0, span)
                src = QRectF(0, 0, w / f, h / f)
                painter.drawPixmap(QRectF(x0, y0, w, h), img, src)
        if self.clip_x is not None:
            painter.restore()
