"""Region shapes on the image: drawing, selection, move and resize handles.

An item only shows a :class:`~examiner.core.regions.Region`; it never writes to the case. When
the examiner finishes a move or resize, the item reports the new points through
``RegionLayer.geometry_edited`` and the main window turns that into an undoable command.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPainterPathStroker, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from examiner.core.regions import Category, Region, ShapeKind

CATEGORY_COLOURS: dict[str, QColor] = {
    Category.AMPLITUDE.value: QColor(255, 170, 0),
    Category.GEOMETRY.value: QColor(0, 190, 255),
    Category.SHAPE.value: QColor(240, 60, 200),
    Category.TEXTURE.value: QColor(150, 220, 90),
}
UNCATEGORISED = QColor(255, 255, 255)
SYMBOL_COLOUR = QColor(255, 40, 40)
PROPOSAL_COLOUR = QColor(120, 255, 160)
HANDLE_PX = 9


def region_colour(region: Region) -> QColor:
    if region.symbol:
        return SYMBOL_COLOUR
    if region.categories:
        return CATEGORY_COLOURS.get(region.categories[0].value, UNCATEGORISED)
    return UNCATEGORISED


def region_path(kind: ShapeKind, points: list[tuple[float, float]]) -> QPainterPath:
    path = QPainterPath()
    if kind is ShapeKind.POLYGON:
        path.addPolygon(QPolygonF([QPointF(x, y) for x, y in points]))
        path.closeSubpath()
        return path
    (ax, ay), (bx, by) = points[0], points[1]
    r = QRectF(QPointF(ax, ay), QPointF(bx, by)).normalized()
    if kind is ShapeKind.ELLIPSE:
        path.addEllipse(r)
    else:
        path.addRect(r)
    return path


class _Handle(QGraphicsRectItem):
    """A screen-sized square that drags one control point of its region."""

    def __init__(self, owner: RegionItem, index: int) -> None:
        super().__init__(-HANDLE_PX / 2, -HANDLE_PX / 2, HANDLE_PX, HANDLE_PX, owner)
        self.owner = owner
        self.index = index
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        self.setBrush(QBrush(QColor(255, 255, 255)))
        self.setPen(QPen(QColor(20, 20, 20), 1))
        self.setCursor(Qt.CursorShape.SizeAllCursor)
        self.setZValue(10)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        event.accept()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self.owner.drag_handle(self.index, self.owner.mapFromScene(event.scenePos()))

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self.owner.commit_geometry()


class RegionItem(QGraphicsItem):
    def __init__(self, region: Region, layer: RegionLayer, proposal: bool = False) -> None:
        super().__init__()
        self.region = region
        self.layer = layer
        self.proposal = proposal
        self.points: list[tuple[float, float]] = list(region.points)
        self._start_points = list(self.points)
        movable = not region.locked and not proposal
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, movable)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges, True)
        self.setAcceptHoverEvents(True)
        self.setZValue(5 if not proposal else 4)
        self._handles: list[_Handle] = []
        self._rebuild_handles()
        self.setToolTip(_tooltip(region, proposal))

    # Geometry ---------------------------------------------------------------------------------
    def path(self) -> QPainterPath:
        return region_path(self.region.kind, self.points)

    def shape(self) -> QPainterPath:
        # Filled shapes are grabbed anywhere inside; a thin stroke would be hard to hit.
        stroker = QPainterPathStroker()
        stroker.setWidth(4)
        return self.path() + stroker.createStroke(self.path())

    def boundingRect(self) -> QRectF:
        return self.path().boundingRect().adjusted(-4, -4, 4, 4)

    def control_points(self) -> list[tuple[float, float]]:
        if self.region.kind is ShapeKind.POLYGON:
            return list(self.points)
        (ax, ay), (bx, by) = self.points[0], self.points[1]
        return [(ax, ay), (bx, ay), (bx, by), (ax, by)]

    def _rebuild_handles(self) -> None:
        for h in self._handles:
            h.setParentItem(None)
            if h.scene() is not None:
                h.scene().removeItem(h)
        self._handles = []
        if self.region.locked or self.proposal:
            return
        for i, (x, y) in enumerate(self.control_points()):
            h = _Handle(self, i)
            h.setPos(x, y)
            h.setVisible(self.isSelected())
            self._handles.append(h)

    def _place_handles(self) -> None:
        for h, (x, y) in zip(self._handles, self.control_points(), strict=False):
            h.setPos(x, y)

    def drag_handle(self, index: int, p: QPointF) -> None:
        x, y = round(p.x()), round(p.y())
        self.prepareGeometryChange()
        if self.region.kind is ShapeKind.POLYGON:
            self.points[index] = (x, y)
        else:
            (ax, ay), (bx, by) = self.points[0], self.points[1]
            # Corners: 0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left.
            if index in (0, 3):
                ax = x
            else:
                bx = x
            if index in (0, 1):
                ay = y
            else:
                by = y
            self.points = [(ax, ay), (bx, by)]
        self._place_handles()
        self.update()

    def commit_geometry(self) -> None:
        pts = [(p[0] + self.pos().x(), p[1] + self.pos().y()) for p in self.points]
        if self.region.kind is not ShapeKind.POLYGON:
            (ax, ay), (bx, by) = pts
            pts = [(min(ax, bx), min(ay, by)), (max(ax, bx), max(ay, by))]
        if pts != self._start_points and self.region.id is not None:
            self.layer.geometry_edited.emit(self.region.id, pts)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            for h in self._handles:
                h.setVisible(bool(value))
            if bool(value) and self.region.id is not None:
                self.layer.selected.emit(self.region.id, self.proposal)
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange:
            # Moves snap to whole pixels so shapes stay on the evidence pixel grid.
            p = value  # type: ignore[assignment]
            if isinstance(p, QPointF):
                return QPointF(round(p.x()), round(p.y()))
        return super().itemChange(change, value)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self._start_points = [(p[0] + self.pos().x(), p[1] + self.pos().y()) for p in self.points]
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if self.pos() != QPointF(0, 0):
            self.commit_geometry()

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.region.id is not None:
            self.layer.activated.emit(self.region.id, self.proposal)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        colour = PROPOSAL_COLOUR if self.proposal else region_colour(self.region)
        pen = QPen(colour, 3 if self.isSelected() else 2)
        pen.setCosmetic(True)
        if self.proposal:
            pen.setStyle(Qt.PenStyle.DashLine)
        elif self.region.locked:
            pen.setStyle(Qt.PenStyle.DotLine)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        fill = QColor(colour)
        fill.setAlpha(60 if self.isSelected() else 28)
        painter.setBrush(QBrush(fill))
        outline = QPen(QColor(0, 0, 0, 160), pen.widthF() + 2)
        outline.setCosmetic(True)
        painter.setPen(outline)
        painter.drawPath(self.path())
        painter.setPen(pen)
        painter.drawPath(self.path())
        label = self.layer.label_for(self.region, self.proposal)
        if label:
            scale = painter.worldTransform().m11() or 1.0
            painter.save()
            r = self.path().boundingRect()
            painter.translate(r.left(), r.top())
            painter.scale(1.0 / scale, 1.0 / scale)
            fm = painter.fontMetrics()
            w = fm.horizontalAdvance(label) + 8
            painter.fillRect(QRectF(0, -fm.height() - 4, w, fm.height() + 4), colour)
            painter.setPen(QColor(0, 0, 0))
            painter.drawText(QRectF(4, -fm.height() - 3, w, fm.height() + 2), label)
            painter.restore()


def _tooltip(r: Region, proposal: bool) -> str:
    head = f"Suggestion P{r.id}" if proposal else f"Region R{r.id}"
    cats = ", ".join(c.value.capitalize() for c in r.categories) or "no category yet"
    lines = [f"{head}: {cats}{' | Symbol' if r.symbol else ''}{' | locked' if r.locked else ''}"]
    if r.evidence_says:
        lines.append(f"Evidence shows: {r.evidence_says}")
    if r.comparison_says:
        lines.append(f"Comparison shows: {r.comparison_says}")
    return "\n".join(lines)


class RegionLayer(QObject):
    """The set of region items in one scene, keyed by region id."""

    geometry_edited = Signal(int, list)  # region id, new points
    selected = Signal(int, bool)  # region id, is proposal
    activated = Signal(int, bool)

    def __init__(self, scene: QGraphicsScene) -> None:
        super().__init__()
        self.scene = scene
        self.items: dict[int, RegionItem] = {}
        self.proposals: dict[int, RegionItem] = {}
        self.label_for: Callable[[Region, bool], str] = lambda r, p: (f"P{r.id}" if p else f"R{r.id}")

    def clear(self) -> None:
        for item in list(self.items.values()) + list(self.proposals.values()):
            self.scene.removeItem(item)
        self.items.clear()
        self.proposals.clear()

    def set_regions(self, regions: list[Region]) -> None:
        for item in self.items.values():
            self.scene.removeItem(item)
        self.items.clear()
        for r in regions:
            if r.id is None:
                continue
            item = RegionItem(r, self)
            self.scene.addItem(item)
            self.items[r.id] = item

    def set_proposals(self, proposals: list[Region]) -> None:
        for item in self.proposals.values():
            self.scene.removeItem(item)
        self.proposals.clear()
        for r in proposals:
            if r.id is None:
                continue
            item = RegionItem(r, self, proposal=True)
            self.scene.addItem(item)
            self.proposals[r.id] = item

    def select(self, region_id: int | None, proposal: bool = False) -> None:
        self.scene.clearSelection()
        pool = self.proposals if proposal else self.items
        if region_id is not None and region_id in pool:
            pool[region_id].setSelected(True)

    def set_visible(self, visible: bool) -> None:
        for item in list(self.items.values()) + list(self.proposals.values()):
            item.setVisible(visible)
