"""The image view: zoom from fit-to-window to 32x, pan, a loupe, drawing tools, swipe divider.

Scene coordinates are evidence pixel coordinates (pixel (x, y) covers [x, x+1) x [y, y+1)), so
region shapes, the cursor read-out and every compare mode share one pixel grid.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QLabel, QWidget

from examiner.analysis.compare import apply_lut
from examiner.gui.tiles import ImagePyramid, TiledImageItem, numpy_to_qimage

MAX_ZOOM = 32.0
LOUPE_SIZE = 176
LOUPE_FACTOR = 8

TOOL_PAN = "pan"
TOOL_RECT = "rect"
TOOL_ELLIPSE = "ellipse"
TOOL_POLYGON = "polygon"


class ImageView(QGraphicsView):
    """A QGraphicsView over a tiled image; emits cursor positions and drawn shapes."""

    cursor_moved = Signal(int, int)  # image pixel under the cursor, (-1, -1) outside
    zoom_changed = Signal(float)
    view_changed = Signal()  # zoom or scroll moved (for synchronised side-by-side)
    shape_drawn = Signal(str, list)  # kind, [(x, y), ...]
    swipe_moved = Signal(float)

    def __init__(self, parent: QWidget | None = None, scene: QGraphicsScene | None = None) -> None:
        super().__init__(parent)
        self.setScene(scene or QGraphicsScene(self))
        self.setBackgroundBrush(QBrush(QColor(38, 40, 44)))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.image_item = TiledImageItem()
        self.image_item.setZValue(-10)
        self.scene().addItem(self.image_item)
        self._fit_mode = True
        self._fitted_for = QSize()
        self.tool = TOOL_PAN
        self._drag_start: QPointF | None = None
        self._poly: list[QPointF] = []
        self._hover: QPointF | None = None
        self.swipe_x: float | None = None
        self._dragging_swipe = False
        self.banner = ""  # text drawn in a band at the top, e.g. "display only: contrast stretch"
        self.loupe = QLabel(self.viewport())
        self.loupe.setFixedSize(LOUPE_SIZE, LOUPE_SIZE)
        self.loupe.setStyleSheet("border: 2px solid #e0e0e0; background: #202020;")
        self.loupe.hide()
        self.loupe_enabled = False
        self.horizontalScrollBar().valueChanged.connect(lambda _: self.view_changed.emit())
        self.verticalScrollBar().valueChanged.connect(lambda _: self.view_changed.emit())

    # -- image -------------------------------------------------------------------------------
    @property
    def pyramid(self) -> ImagePyramid | None:
        return self.image_item.pyramid

    def set_pyramid(self, pyramid: ImagePyramid | None, keep_view: bool = False) -> None:
        old = self.image_item.pyramid
        self.image_item.set_pyramid(pyramid)
        if pyramid is not None:
            margin = max(pyramid.width, pyramid.height) * 0.05
            self.setSceneRect(QRectF(-margin, -margin, pyramid.width + 2 * margin, pyramid.height + 2 * margin))
        same_size = old is not None and pyramid is not None and (old.width, old.height) == (pyramid.width, pyramid.height)
        if not (keep_view and same_size):
            self.fit()
        self.viewport().update()

    # -- zoom --------------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def fit_scale(self) -> float:
        pyr = self.pyramid
        if pyr is None or pyr.width == 0:
            return 1.0
        # The size without scroll bars: measured on the current viewport, the fit would change
        # whenever a scroll bar appears or goes, and each change would resize the view again.
        # The whole scene (image and its margin) fits, so no scroll bar is needed at this zoom.
        vp = self.maximumViewportSize()
        scene = self.sceneRect()
        w, h = max(scene.width(), pyr.width), max(scene.height(), pyr.height)
        return max(1e-4, min(vp.width() / w, vp.height() / h) * 0.995)

    def fit(self) -> None:
        self._fit_mode = True
        self._apply_zoom(self.fit_scale())
        if self.pyramid is not None:
            self.centerOn(self.pyramid.width / 2, self.pyramid.height / 2)

    def set_zoom(self, z: float, anchor: QPointF | None = None) -> None:
        self._fit_mode = False
        lo = min(1.0, self.fit_scale())
        z = max(lo, min(MAX_ZOOM, z))
        if anchor is None:
            self._apply_zoom(z)
            return
        before = QPointF(anchor)
        self._apply_zoom(z)
        # Keep the scene point under the anchor fixed.
        now = self.mapToScene(self.mapFromScene(before))
        self.centerOn(self.mapToScene(self.viewport().rect().center()) + (before - now))

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self.zoom() * factor)

    def _apply_zoom(self, z: float) -> None:
        self.resetTransform()
        self.scale(z, z)
        self.zoom_changed.emit(z)
        self.view_changed.emit()
        self.viewport().update()

    def center_scene(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    def sync_from(self, other: ImageView) -> None:
        """Take another view's zoom and centre (side-by-side mode)."""
        if abs(other.zoom() - self.zoom()) > 1e-9:
            self.resetTransform()
            self.scale(other.zoom(), other.zoom())
        self.centerOn(other.center_scene())

    def show_rect(self, rect: QRectF) -> None:
        """Jump to a region: zoom so it fills most of the view, at most 32x."""
        vp = self.viewport().rect()
        grown = rect.adjusted(-rect.width() * 0.4 - 8, -rect.height() * 0.4 - 8, rect.width() * 0.4 + 8, rect.height() * 0.4 + 8)
        z = min(vp.width() / max(1.0, grown.width()), vp.height() / max(1.0, grown.height()))
        self.set_zoom(z)
        self.centerOn(rect.center())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # Only a change of the space the view may use refits: scroll bars that come and go
        # resize the viewport too, and refitting on those could resize it again, endlessly.
        space = self.maximumViewportSize()
        if self._fit_mode and space != self._fitted_for:
            self._fitted_for = space
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            return
        self.set_zoom(self.zoom() * (1.25**steps))

    # -- tools -------------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        self.tool = tool
        self._poly = []
        self._drag_start = None
        drawing = tool != TOOL_PAN
        self.setDragMode(QGraphicsView.DragMode.NoDrag if drawing else QGraphicsView.DragMode.ScrollHandDrag)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor if drawing else Qt.CursorShape.OpenHandCursor)
        self.viewport().update()

    def _clamp(self, p: QPointF) -> QPointF:
        pyr = self.pyramid
        if pyr is None:
            return p
        return QPointF(min(max(0.0, round(p.x())), pyr.width), min(max(0.0, round(p.y())), pyr.height))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = self.mapToScene(event.position().toPoint())
        if self.swipe_x is not None and event.button() == Qt.MouseButton.LeftButton:
            sx = self.mapFromScene(QPointF(self.swipe_x, 0)).x()
            if abs(sx - event.position().x()) <= 8:
                self._dragging_swipe = True
                return
        if event.button() == Qt.MouseButton.LeftButton and self.tool in (TOOL_RECT, TOOL_ELLIPSE):
            self._drag_start = self._clamp(pos)
            return
        if event.button() == Qt.MouseButton.LeftButton and self.tool == TOOL_POLYGON:
            self._poly.append(self._clamp(pos))
            self.viewport().update()
            return
        if event.button() == Qt.MouseButton.RightButton and self.tool == TOOL_POLYGON:
            self.finish_polygon()
            return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.tool == TOOL_POLYGON:
            self.finish_polygon()
            return
        super().mouseDoubleClickEvent(event)

    def finish_polygon(self) -> None:
        # A double click also delivers a press, which adds a duplicate last vertex.
        pts: list[tuple[float, float]] = []
        for p in self._poly:
            t = (p.x(), p.y())
            if not pts or pts[-1] != t:
                pts.append(t)
        self._poly = []
        self.viewport().update()
        if len(pts) >= 3:
            self.shape_drawn.emit(TOOL_POLYGON, pts)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = self.mapToScene(event.position().toPoint())
        self._hover = pos
        if self._dragging_swipe:
            pyr = self.pyramid
            width = pyr.width if pyr is not None else 0
            self.swipe_x = max(0.0, min(float(width), pos.x()))
            self.swipe_moved.emit(self.swipe_x)
            self.viewport().update()
            return
        pyr = self.pyramid
        if pyr is not None and 0 <= pos.x() < pyr.width and 0 <= pos.y() < pyr.height:
            self.cursor_moved.emit(int(pos.x()), int(pos.y()))
        else:
            self.cursor_moved.emit(-1, -1)
        if self.loupe_enabled:
            self._update_loupe(pos, event.position().toPoint())
        if self._drag_start is not None or self._poly:
            self.viewport().update()
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging_swipe:
            self._dragging_swipe = False
            return
        if self._drag_start is not None and event.button() == Qt.MouseButton.LeftButton:
            start = self._drag_start
            end = self._clamp(self.mapToScene(event.position().toPoint()))
            self._drag_start = None
            self.viewport().update()
            if abs(end.x() - start.x()) >= 1 and abs(end.y() - start.y()) >= 1:
                x0, x1 = sorted((start.x(), end.x()))
                y0, y1 = sorted((start.y(), end.y()))
                self.shape_drawn.emit(self.tool, [(x0, y0), (x1, y1)])
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.tool == TOOL_POLYGON and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.finish_polygon()
            return
        if event.key() == Qt.Key.Key_Escape and (self._poly or self._drag_start is not None):
            self._poly, self._drag_start = [], None
            self.viewport().update()
            return
        super().keyPressEvent(event)

    def leaveEvent(self, event: object) -> None:
        self.loupe.hide()
        self.cursor_moved.emit(-1, -1)
        super().leaveEvent(event)  # type: ignore[arg-type]

    # -- loupe -------------------------------------------------------------------------------
    def set_loupe(self, on: bool) -> None:
        self.loupe_enabled = on
        if not on:
            self.loupe.hide()

    def _update_loupe(self, scene_pos: QPointF, view_pos: QPoint) -> None:
        pyr = self.pyramid
        if pyr is None:
            return
        n = LOUPE_SIZE // LOUPE_FACTOR
        x0, y0 = int(scene_pos.x()) - n // 2, int(scene_pos.y()) - n // 2
        if not (0 <= scene_pos.x() < pyr.width and 0 <= scene_pos.y() < pyr.height):
            self.loupe.hide()
            return
        patch = np.zeros((n, n, 3), dtype=np.uint8)
        sx0, sy0 = max(0, x0), max(0, y0)
        sx1, sy1 = min(pyr.width, x0 + n), min(pyr.height, y0 + n)
        patch[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = pyr.base[sy0:sy1, sx0:sx1]
        img = numpy_to_qimage(apply_lut(patch, pyr.lut))
        pm = QPixmap.fromImage(img).scaled(LOUPE_SIZE, LOUPE_SIZE, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation)
        p = QPainter(pm)
        p.setPen(QPen(QColor(255, 255, 0), 1))
        c = (n // 2) * LOUPE_FACTOR
        p.drawRect(c, c, LOUPE_FACTOR, LOUPE_FACTOR)
        p.end()
        self.loupe.setPixmap(pm)
        x = view_pos.x() + 24
        y = view_pos.y() + 24
        if x + LOUPE_SIZE > self.viewport().width():
            x = view_pos.x() - 24 - LOUPE_SIZE
        if y + LOUPE_SIZE > self.viewport().height():
            y = view_pos.y() - 24 - LOUPE_SIZE
        self.loupe.move(x, y)
        self.loupe.show()

    # -- foreground: drawing previews, swipe divider, banner ----------------------------------
    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        pen = QPen(QColor(255, 220, 0), 0)
        pen.setCosmetic(True)
        pen.setStyle(Qt.PenStyle.DashLine)
        if self._drag_start is not None and self._hover is not None:
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            r = QRectF(self._drag_start, self._clamp(self._hover)).normalized()
            if self.tool == TOOL_ELLIPSE:
                painter.drawEllipse(r)
            else:
                painter.drawRect(r)
        if self._poly:
            painter.setPen(pen)
            path = QPainterPath(self._poly[0])
            for p in self._poly[1:]:
                path.lineTo(p)
            if self._hover is not None:
                path.lineTo(self._clamp(self._hover))
            painter.drawPath(path)
        if self.swipe_x is not None and self.pyramid is not None:
            sp = QPen(QColor(255, 255, 255), 2)
            sp.setCosmetic(True)
            painter.setPen(sp)
            painter.drawLine(QPointF(self.swipe_x, 0), QPointF(self.swipe_x, self.pyramid.height))
            # A grip in screen pixels, centred on the divider.
            painter.save()
            painter.resetTransform()
            vx = self.mapFromScene(QPointF(self.swipe_x, 0)).x()
            vy = self.viewport().height() // 2
            painter.setBrush(QColor(255, 255, 255))
            painter.setPen(QPen(QColor(40, 40, 40), 1))
            painter.drawRoundedRect(QRectF(vx - 7, vy - 22, 14, 44), 4, 4)
            painter.restore()
        if self.banner:
            painter.save()
            painter.resetTransform()
            fm = painter.fontMetrics()
            w = fm.horizontalAdvance(self.banner) + 20
            painter.fillRect(QRectF(8, 8, w, fm.height() + 8), QColor(150, 90, 0, 220))
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(QRectF(8, 8, w, fm.height() + 8), Qt.AlignmentFlag.AlignCenter, self.banner)
            painter.restore()
