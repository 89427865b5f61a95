"""Tiled level-of-detail display of large images.

The screen never holds one huge QImage: the display data is cut into 512-pixel tiles, and each
zoom level below 100% draws from a pyramid level halved as often as the zoom allows. Levels are
built on first use by 2 x 2 box averaging and tiles are converted to QImage on demand and kept
in a small LRU cache, so a 100-megapixel image pans and zooms with only the visible tiles in Qt.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from examiner.analysis.compare import apply_lut, to_display_uint8

TILE = 512
CACHE_TILES = 160  # ~125 MB of RGB tiles at most


def numpy_to_qimage(rgb8: np.ndarray) -> QImage:
    """A deep-copied QImage of an ``H x W x 3`` uint8 array (Qt never sees numpy's buffer)."""
    rgb8 = np.ascontiguousarray(rgb8)
    h, w = rgb8.shape[:2]
    img = QImage(rgb8.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return img.copy()


def _halve(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[:2]
    h2, w2 = max(1, h // 2), max(1, w // 2)
    if h < 2 or w < 2:
        return a[: max(1, h2), : max(1, w2)].copy()
    core = a[: h2 * 2, : w2 * 2].astype(np.uint16)
    out = core[0::2, 0::2] + core[1::2, 0::2] + core[0::2, 1::2] + core[1::2, 1::2]
    return ((out + 2) >> 2).astype(np.uint8)


class ImagePyramid:
    """8-bit RGB display data of one image, with lazily built half-resolution levels."""

    def __init__(self, pixels: np.ndarray, lut: np.ndarray | None = None) -> None:
        self.levels: list[np.ndarray] = [to_display_uint8(pixels)]
        self.height, self.width = self.levels[0].shape[:2]
        self.lut = lut
        self._cache: OrderedDict[tuple[int, int, int], QImage] = OrderedDict()

    @property
    def base(self) -> np.ndarray:
        return self.levels[0]

    def set_lut(self, lut: np.ndarray | None) -> None:
        self.lut = lut
        self._cache.clear()

    def max_level(self) -> int:
        return max(0, int(math.ceil(math.log2(max(self.width, self.height) / 256.0))))

    def level(self, n: int) -> np.ndarray:
        n = min(n, self.max_level())
        while len(self.levels) <= n:
            self.levels.append(_halve(self.levels[-1]))
        return self.levels[n]

    def level_for_scale(self, scale: float) -> int:
        if scale >= 1.0:
            return 0
        return min(self.max_level(), int(math.floor(math.log2(1.0 / scale))))

    def tile(self, n: int, tx: int, ty: int) -> QImage:
        key = (n, tx, ty)
        img = self._cache.get(key)
        if img is not None:
            self._cache.move_to_end(key)
            return img
        data = self.level(n)[ty * TILE : (ty + 1) * TILE, tx * TILE : (tx + 1) * TILE]
        img = numpy_to_qimage(apply_lut(data, self.lut))
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
        if self.clip_x is not None:
            exposed.setLeft(max(exposed.left(), self.clip_x))
            if exposed.width() <= 0:
                return
            painter.save()
            painter.setClipRect(QRectF(self.clip_x, 0, pyr.width - self.clip_x, pyr.height))
        n = pyr.level_for_scale(scale)
        f = 2**n
        lvl = pyr.level(n)
        lh, lw = lvl.shape[:2]
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
                w = min(img.width() * f, pyr.width - x0)
                h = min(img.height() * f, pyr.height - y0)
                src = QRectF(0, 0, w / f, h / f)
                painter.drawImage(QRectF(x0, y0, w, h), img, src)
        if self.clip_x is not None:
            painter.restore()
