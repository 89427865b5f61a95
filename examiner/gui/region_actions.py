"""Region marking for the main window: tools, undoable edits, selection and jumping.

A mixin of :class:`~examiner.gui.main_window.MainWindow`: it uses the window's session, view,
region layer, regions panel and undo stack, and turns every edit into a command object.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QRectF

from examiner.core.regions import Provenance, Region, ShapeKind
from examiner.errors import ExaminerError
from examiner.gui.undo import QtCommand
from examiner.workflows.region_edits import (
    AddRegionCommand,
    DeleteRegionCommand,
    EditRegionCommand,
    LockRegionCommand,
    RegionCommand,
)


class RegionActions:
    """Region actions; every method runs on the GUI thread of the window it is mixed into,
    which provides ``show_error``, ``info``, ``state``, ``show_evidence`` and ``_guard``."""

    session: Any
    evidence_id: int | None
    comparison_key: str
    view: Any
    layer: Any
    regions_panel: Any
    compare: Any
    undo_stack: Any
    refs: Any
    tool_actions: Any
    analysis_panel: Any


    def set_tool(self, tool: str) -> None:
        self.view.set_tool(tool)
        self.tool_actions[tool].setChecked(True)

    def refresh_regions(self, select: int | None = None) -> None:
        if self.session is None or self.evidence_id is None:
            self.layer.set_regions([])
            self.regions_panel.set_regions([], 0, 0)
            return
        regions = self.session.regions(self.evidence_id)
        self.layer.set_regions(regions)
        ev = self.compare.evidence
        h, w = (ev.shape[0], ev.shape[1]) if ev is not None else (0, 0)
        self.regions_panel.set_regions(regions, h, w, select=select)
        if select is not None:
            self.layer.select(select)

    def _changed(self, region_id: int | None) -> None:
        # Called by every region command after it wrote to the case.
        self.state.regions_changed(region_id)

    def _push(self, cmd: RegionCommand) -> bool:
        try:
            self.undo_stack.push(QtCommand(cmd))
        except ExaminerError as exc:
            self.show_error(exc.message)
            self.refresh_regions()
            return False
        return True

    def add_region(self, kind: str, points: list[tuple[float, float]], **fields: Any) -> int | None:
        if self.session is None or self.evidence_id is None:
            self.show_error("open a case and an evidence item before marking regions")
            return None
        region = Region(
            evidence_id=self.evidence_id,
            kind=ShapeKind(kind),
            points=[(float(x), float(y)) for x, y in points],
            author=self.session.case.actor,
            provenance=Provenance.HAND.value,
            comparison=self.comparison_key,
        )
        for k, v in fields.items():
            setattr(region, k, v)
        cmd = AddRegionCommand(self.session, self.refs, region, self._changed, f"Add {kind}")
        if not self._push(cmd):
            return None
        return cmd.ref.id

    def _shape_drawn(self, kind: str, points: list[tuple[float, float]]) -> None:
        rid = self.add_region(kind, points)
        if rid is not None:
            self.info(f"Region R{rid} added; set its categories in the Regions panel")

    def edit_region(self, region_id: int, text: str = "Edit region", **fields: Any) -> bool:
        if self.session is None:
            return False
        before = self._guard(self.session.region, region_id)
        if before is None:
            return False
        after = copy.deepcopy(before)
        for k, v in fields.items():
            setattr(after, k, v)
        return self._apply_edit(before, after, text)

    def _apply_edit(self, before: Region, after: Region, text: str) -> bool:
        if self.session is None:
            return False
        if before.locked:
            self.show_error(f"region R{before.id} is locked after review; it cannot be changed")
            self.refresh_regions(select=before.id)
            return False
        return self._push(EditRegionCommand(self.session, self.refs, before, after, self._changed, text))

    def _editor_edited(self, before: Region, after: Region, text: str) -> None:
        if self.session is None or before.id is None:
            return
        current = self._guard(self.session.region, before.id)
        if current is not None:
            self._apply_edit(current, after, text)

    def _geometry_edited(self, region_id: int, points: list[tuple[float, float]]) -> None:
        self.edit_region(region_id, f"Move/resize R{region_id}", points=[(float(x), float(y)) for x, y in points])

    def delete_region(self, region_id: int | None) -> None:
        if self.session is None or region_id is None:
            return
        try:
            region = self.session.region(region_id)
        except ExaminerError as exc:
            self.show_error(exc.message)
            return
        if region.locked:
            self.show_error(f"region R{region_id} is locked after review; it cannot be deleted")
            return
        self._push(DeleteRegionCommand(self.session, self.refs, region_id, self._changed))

    def lock_region(self, region_id: int | None) -> None:
        if self.session is None or region_id is None:
            return
        self._push(LockRegionCommand(self.session, self.refs, region_id, self._changed))

    def _selected_id(self) -> int | None:
        r = self.regions_panel.editor.region()
        return None if r is None else r.id

    def _item_selected(self, region_id: int, proposal: bool) -> None:
        if proposal:
            self.analysis_panel.proposals.setCurrentRow(region_id - 1)
            return
        self.regions_panel.select(region_id)

    def _list_selected(self, region_id: int) -> None:
        self.layer.select(region_id)

    def select_region(self, region_id: int) -> bool:
        if self.session is None:
            return False
        try:
            region = self.session.region(region_id)
        except ExaminerError as exc:
            self.show_error(exc.message)
            return False
        if region.evidence_id != self.evidence_id:
            self.show_evidence(region.evidence_id)
        self.regions_panel.select(region_id)
        self.layer.select(region_id)
        return True

    def jump_to_region(self, region_id: int) -> None:
        if not self.select_region(region_id) or self.session is None:
            return
        x, y, w, h = self.session.region(region_id).bbox()
        self.view.show_rect(QRectF(x, y, max(1, w), max(1, h)))
