"""Region marking: drawn shapes, undoable edits, selection and jumping to a region.

The controller owns no widget. It is handed the view, the region layer, the regions panel and
the undo stack it works with, connects their signals itself, and follows the examination state:
whenever another evidence item is shown or the case's regions change, the layer and the panel
are redrawn from the case, so an undo, a proposal accepted or a drawn shape all end the same way.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QRectF
from PySide6.QtGui import QUndoStack

from examiner.core.regions import Provenance, Region, ShapeKind
from examiner.errors import ExaminerError
from examiner.gui.compare_controller import CompareController
from examiner.gui.guards import Controller, Host, reported, when_open
from examiner.gui.image_view import ImageView
from examiner.gui.region_items import RegionLayer
from examiner.gui.regions_panel import RegionsPanel
from examiner.gui.undo import QtCommand
from examiner.workflows.region_edits import (
    AddRegionCommand,
    DeleteRegionCommand,
    EditRegionCommand,
    LockRegionCommand,
    RefBook,
    RegionCommand,
)
from examiner.workflows.state import ExaminationState, NothingOpen


class RegionController(Controller):
    """Region actions; every method runs on the GUI thread."""

    def __init__(
        self,
        state: ExaminationState,
        host: Host,
        view: ImageView,
        layer: RegionLayer,
        panel: RegionsPanel,
        compare: CompareController,
        undo_stack: QUndoStack,
        refs: RefBook,
        show_evidence: Callable[[int], None],
    ) -> None:
        super().__init__(state, host)
        self.view = view
        self.layer = layer
        self.panel = panel
        self.compare = compare
        self.undo_stack = undo_stack
        self.refs = refs
        self._show_evidence = show_evidence
        view.shape_drawn.connect(self._shape_drawn)
        layer.geometry_edited.connect(self.geometry_edited)
        layer.selected.connect(lambda rid, proposal: None if proposal else panel.select(rid))
        layer.activated.connect(lambda rid, proposal: None if proposal else self.jump_to_region(rid))
        panel.region_selected.connect(layer.select)
        panel.region_activated.connect(self.jump_to_region)
        panel.editor.edited.connect(self._editor_edited)
        panel.editor.lock_requested.connect(self.lock_region)
        panel.editor.delete_requested.connect(self.delete_region)
        state.events.evidence.connect(lambda _evidence_id: self.refresh_regions())
        state.events.regions.connect(lambda select: self.refresh_regions(select=select))

    def refresh_regions(self, select: int | None = None) -> None:
        try:
            session, evidence_id = self.state.require_evidence()
        except NothingOpen:
            self.layer.set_regions([])
            self.panel.set_regions([], 0, 0)
            return
        regions = session.regions(evidence_id)
        self.layer.set_regions(regions)
        ev = self.compare.evidence
        h, w = (ev.shape[0], ev.shape[1]) if ev is not None else (0, 0)
        self.panel.set_regions(regions, h, w, select=select)
        if select is not None:
            self.layer.select(select)

    def selected_id(self) -> int | None:
        r = self.panel.editor.region()
        return None if r is None else r.id

    # -- edits: each one is an undo command that writes to the case ---------------------------
    def _changed(self, region_id: int | None) -> None:
        # Called by every region command after it wrote to the case, on do, undo and redo alike.
        self.state.regions_changed(region_id)

    def _push(self, cmd: RegionCommand) -> bool:
        try:
            self.undo_stack.push(QtCommand(cmd))
        except ExaminerError as exc:
            self.show_error(exc.message)
            self.refresh_regions()  # the command may have failed half-way through its redraw
            return False
        return True

    @reported(None)
    def add_region(self, kind: str, points: list[tuple[float, float]], **fields: Any) -> int | None:
        session, evidence_id = self.state.require_evidence()
        region = Region(
            evidence_id=evidence_id,
            kind=ShapeKind(kind),
            points=[(float(x), float(y)) for x, y in points],
            author=session.case.actor,
            provenance=Provenance.HAND.value,
            comparison=self.state.comparison_key,
        )
        for k, v in fields.items():
            setattr(region, k, v)
        cmd = AddRegionCommand(session, self.refs, region, self._changed, f"Add {kind}")
        if not self._push(cmd):
            return None
        return cmd.ref.id

    def _shape_drawn(self, kind: str, points: list[tuple[float, float]]) -> None:
        rid = self.add_region(kind, points)
        if rid is not None:
            self.host.info(f"Region R{rid} added; set its categories in the Regions panel")

    @reported(False)
    @when_open(False)
    def edit_region(self, region_id: int, text: str = "Edit region", **fields: Any) -> bool:
        before = self.state.require_session().region(region_id)
        after = copy.deepcopy(before)
        for k, v in fields.items():
            setattr(after, k, v)
        return self._apply_edit(before, after, text)

    def _apply_edit(self, before: Region, after: Region, text: str) -> bool:
        session = self.state.require_session()
        if before.locked:
            self.show_error(f"region R{before.id} is locked after review; it cannot be changed")
            self.refresh_regions(select=before.id)  # puts the editor back to what is stored
            return False
        return self._push(EditRegionCommand(session, self.refs, before, after, self._changed, text))

    @reported(None)
    @when_open(None)
    def _editor_edited(self, before: Region, after: Region, text: str) -> None:
        if before.id is None:
            return
        # Edit from what is stored now, not from the editor's copy, which an undo may have outdated.
        current = self.state.require_session().region(before.id)
        self._apply_edit(current, after, text)

    def geometry_edited(self, region_id: int, points: list[tuple[float, float]]) -> None:
        self.edit_region(region_id, f"Move/resize R{region_id}", points=[(float(x), float(y)) for x, y in points])

    @reported(None)
    @when_open(None)
    def delete_region(self, region_id: int | None) -> None:
        if region_id is None:
            return
        session = self.state.require_session()
        region = session.region(region_id)
        if region.locked:
            self.show_error(f"region R{region_id} is locked after review; it cannot be deleted")
            return
        self._push(DeleteRegionCommand(session, self.refs, region_id, self._changed))

    @when_open(None)
    def lock_region(self, region_id: int | None) -> None:
        if region_id is None:
            return
        self._push(LockRegionCommand(self.state.require_session(), self.refs, region_id, self._changed))

    # -- finding a region ----------------------------------------------------------------------
    @reported(False)
    @when_open(False)
    def select_region(self, region_id: int) -> bool:
        region = self.state.require_session().region(region_id)
        if region.evidence_id != self.state.evidence_id:
            self._show_evidence(region.evidence_id)
        self.panel.select(region_id)
        self.layer.select(region_id)
        return True

    def jump_to_region(self, region_id: int) -> None:
        if not self.select_region(region_id):
            return
        x, y, w, h = self.state.require_session().region(region_id).bbox()
        self.view.show_rect(QRectF(x, y, max(1, w), max(1, h)))
