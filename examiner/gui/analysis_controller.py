"""Analysis: detection, re-compression, seed variability, symbol checks and their suggestions.

Each action starts a core function as a background job (a worker process for the heavy ones),
records its result in the case as a finding on the writer thread, and shows it when it is back
on the GUI thread. What is shown follows the examination state: another evidence item brings
back its latest detection, variability map and pending suggestions; a detection or a list of
suggestions set on the state redraws the analysis panel and the overlays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsRectItem

from examiner.analysis import compare
from examiner.analysis.localisation_text import describe as describe_localisation
from examiner.analysis.symbols.proposals import Proposal
from examiner.analysis.tile_grid import map_cell_placement
from examiner.codecs.api import RunOptions
from examiner.core.regions import Region, ShapeKind
from examiner.core.settings import Settings
from examiner.errors import ExaminerError
from examiner.findings.records import DetectionRecord
from examiner.findings.schema import typed
from examiner.gui import analysis_tasks
from examiner.gui.analysis_panel import AnalysisPanel
from examiner.gui.compare_controller import CompareController
from examiner.gui.guards import Controller, Host, attempt, reported, when_open
from examiner.gui.image_view import TOOL_PAN
from examiner.gui.region_controller import RegionController
from examiner.gui.region_items import RegionLayer
from examiner.gui.tiles import numpy_to_qimage
from examiner.gui.workers import CODEC, GENERAL, WRITER, JobManager
from examiner.workflows import detect as detect_wf
from examiner.workflows import recompress as recompress_wf
from examiner.workflows import symbols as symbols_wf
from examiner.workflows import variability as variability_wf
from examiner.workflows.session import CaseSession
from examiner.workflows.state import ExaminationState, NothingOpen


class AnalysisController(Controller):
    """Analysis actions; every method runs on the GUI thread."""

    def __init__(
        self,
        state: ExaminationState,
        host: Host,
        jobs: JobManager,
        compare: CompareController,
        layer: RegionLayer,
        panel: AnalysisPanel,
        tile_overlay: QGraphicsPixmapItem,
        variability_overlay: QGraphicsPixmapItem,
        regions: RegionController,
        show_comparisons: Callable[[str], None],
        settings: Callable[[], Settings],
    ) -> None:
        super().__init__(state, host)
        # The window's settings as they are when a job starts: the job's worker process gets
        # them as an argument and reads no settings file of its own.
        self._settings = settings
        self.jobs = jobs
        self.compare = compare
        self.layer = layer
        self.panel = panel
        self.tile_overlay = tile_overlay
        self.variability_overlay = variability_overlay
        self.regions = regions
        self._localised: list[QGraphicsRectItem] = []  # flagged areas drawn over the tile map
        # The raw range of the per-tile map shown (its colours are scaled within it), for the legend.
        self.tile_range: tuple[float, float] | None = None
        self.on_overlays: Callable[[], None] = lambda: None  # an overlay's picture or range changed
        self._show_comparisons = show_comparisons  # lists the comparison images, selecting the key
        panel.detection_requested.connect(self.run_detection)
        panel.recompression_requested.connect(self.run_recompression)
        panel.suggest_requested.connect(self.run_suggestions)
        panel.variability_requested.connect(self.run_variability)
        panel.tile_overlay_toggled.connect(tile_overlay.setVisible)
        panel.variability_overlay_toggled.connect(variability_overlay.setVisible)
        panel.proposal_action.connect(self.proposal_action)
        # A suggestion drawn on the image is selected in the panel's list (proposal ids count from 1).
        layer.selected.connect(lambda rid, proposal: panel.proposals.setCurrentRow(rid - 1) if proposal else None)
        state.events.evidence.connect(lambda _evidence_id: self._evidence_shown())
        state.events.detection.connect(self._show_detection)
        # Closing the case resets the state without a detection event; what was drawn goes too.
        state.events.session.connect(lambda session: self._show_detection(None) if session is None else None)
        state.events.proposals.connect(self._show_proposals)

    def _evidence_shown(self) -> None:
        self.state.detection = None
        self._show_last_variability()
        self._show_last_detection()
        self._load_proposals()

    def _shown_pixels(self) -> tuple[CaseSession, int, np.ndarray]:
        session, evidence_id = self.state.require_evidence()
        if self.compare.evidence is None:
            raise NothingOpen("the evidence item is still being opened; try again once it is shown")
        return session, evidence_id, self.compare.evidence

    # -- running a step: compute in a worker, record on the writer thread, show on the GUI thread
    def _record(self, title: str, write: Callable[[], Any], then: Callable[[Any], None]) -> None:
        """Commit a job's finding on the writer thread, then ``then(finding)`` on the GUI thread.

        Findings carry images, maps and bitstreams, and a commit waits for the disk; the window
        is only updated if the same case is still open.
        """
        session = self.state.session

        def recorded(finding: Any) -> None:
            if self.state.session is session:
                then(finding)

        self.jobs.submit(title, lambda _ctx: write(), queue=WRITER, on_done=recorded, on_error=self.show_error)

    def _run_step(
        self,
        title: str,
        compute: Callable[..., Any],
        args: tuple[Any, ...],
        queue: str,
        record: Callable[[Any, int, Any], Any],
        computed: Callable[[Any, bool], None] | None = None,
        recorded: Callable[[Any, Any, bool], None] | None = None,
    ) -> None:
        """One examination step: ``compute(ctx, *args)`` (a workflow's compute half) in a worker
        process, then ``record(case, evidence_id, outcome)`` on the writer thread. ``computed``
        and ``recorded`` update the window; their last argument says whether the step's evidence
        is still the one shown."""
        session, evidence_id = self.state.require_evidence()

        def done(out: Any) -> None:
            if self.state.session is not session:
                # The evidence belongs to a case that has since been closed: recording the result
                # into whichever case is open now would attach it to the wrong evidence.
                self.show_error(f"{title} finished after its case was closed; the result was not recorded")
                return
            if computed is not None:
                computed(out, evidence_id == self.state.evidence_id)

            def stored(finding: Any) -> None:
                self.state.finding_recorded(evidence_id, finding)
                if recorded is not None:
                    recorded(out, finding, evidence_id == self.state.evidence_id)

            self._record(f"Recording: {title}", lambda: record(session.case, evidence_id, out), stored)

        self.jobs.submit_process(title, compute, args, queue=queue, on_done=done, on_error=self.show_error)

    # -- trace detection -----------------------------------------------------------------------
    @reported(None)
    def run_detection(self) -> None:
        session, evidence_id, px = self._shown_pixels()
        path = session.case.evidence_item(evidence_id).path

        def computed(out: detect_wf.DetectionOutcome, shown: bool) -> None:
            if shown:
                self.state.detection = out

        self._run_step(
            "Trace detection", detect_wf.compute_detection, (px, path, None, "none", self._settings()), GENERAL, detect_wf.record_detection,
            computed=computed,
        )

    def localised_count(self) -> int:
        """How many flagged areas are drawn over the tile map (the legend names the number)."""
        return len(self._localised)

    def _show_detection(self, out: detect_wf.DetectionOutcome | None) -> None:
        for item in self._localised:
            item.setParentItem(None)
            if item.scene() is not None:
                item.scene().removeItem(item)
        self._localised = []
        self.tile_range = None
        if out is None:
            self.tile_overlay.setVisible(False)
            self.panel.clear_detection()
            self.on_overlays()
            return
        where = describe_localisation(out.record.localisation)
        text = out.explanation + (f"\n\n{where}" if where else "")
        self.panel.show_detection(out.verdict, out.score, text, out.spectrum, out.tile_map is not None)
        if out.tile_map is not None and self.compare.evidence is not None:
            tm = analysis_tasks.normalised_tile_map(out.tile_map)
            finite = np.nan_to_num(out.tile_map.astype(np.float32))
            self.tile_range = (float(finite.min()), float(finite.max()))
            img = compare.apply_colormap(tm, "heat")
            pm = QPixmap.fromImage(numpy_to_qimage(img))
            h, w = self.compare.evidence.shape[:2]
            self.tile_overlay.setPixmap(pm)
            cell = out.record.tile_map_cell
            if cell:
                # Each map cell over the tiles it averages, not the grid stretched to the image.
                offset, pitch = map_cell_placement(int(cell))
                placed = QTransform.fromScale(pitch, pitch) * QTransform.fromTranslate(offset, offset)
            else:  # recorded without its cell size: stretched, as before
                placed = QTransform.fromScale(w / tm.shape[1], h / tm.shape[0])
            self.tile_overlay.setTransform(placed)
            # The flagged areas ride on the tile overlay, so its check box shows and hides both.
            pen = QPen(QColor("#00e5ff"), 2, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            for x, y, bw, bh in (out.record.localisation or {}).get("boxes") or []:
                local = self.tile_overlay.transform().inverted()[0].mapRect(QRectF(x, y, bw, bh))
                box = QGraphicsRectItem(local, self.tile_overlay)
                box.setPen(pen)
                box.setToolTip(f"flagged by the localisation map: x {x}, y {y}, {bw} x {bh} pixels")
                self._localised.append(box)
        self.on_overlays()

    @reported(None)
    @when_open(None)
    def _show_last_detection(self) -> None:
        """Show the latest detection finding recorded for this evidence (so reopening shows it)."""
        session, evidence_id = self.state.require_evidence()
        found = session.findings(evidence_id, "detection")
        if not found:
            return
        f = found[-1]
        record = typed(f).record
        if not isinstance(record, DetectionRecord):  # a finding of kind detection always reads as one
            return
        spectrum, tiles = session.detection_images(f)
        self.state.detection = detect_wf.DetectionOutcome(record, spectrum, tiles)

    # -- re-compression and seed variability ---------------------------------------------------
    @reported(None)
    def run_recompression(self, codec_id: str, quality: int | None, target_bpp: float | None, device: str) -> None:
        session, _evidence_id, px = self._shown_pixels()
        what = f"q{quality}" if quality is not None else f"{target_bpp:g} bpp"

        def recorded(out: recompress_wf.RecompressionOutcome, finding: Any, shown: bool) -> None:
            # Keep the pixels: decoding the stored PNG back would cost the GUI thread for nothing.
            session.keep_comparison(finding.evidence_id, f"finding:{finding.id}", out.pixels)
            if shown:
                self._show_comparisons(f"finding:{finding.id}")
            self.host.info(f"Re-compression {codec_id} {what} done: {out.record.bpp} bpp; it is now the comparison image")

        self._run_step(
            f"Re-compress {codec_id} {what}", recompress_wf.compute_recompression,
            (px, codec_id, quality, target_bpp, RunOptions(device=device), self._settings()), CODEC, recompress_wf.record_recompression,
            recorded=recorded,
        )

    @reported(None)
    def run_variability(self, codec_id: str, quality: int, seeds: int, device: str) -> None:
        _session, _evidence_id, px = self._shown_pixels()

        def recorded(out: variability_wf.VariabilityOutcome, _finding: Any, shown: bool) -> None:
            if shown:
                self.show_variability(out.map8)
                self.panel.variability_overlay.setChecked(True)

        self._run_step(
            f"Seed variability {codec_id} q{quality} ({seeds} seeds)", variability_wf.compute_variability,
            (px, codec_id, quality, seeds, RunOptions(device=device), None, self._settings()), CODEC, variability_wf.record_variability,
            recorded=recorded,
        )

    def show_variability(self, map8: np.ndarray | None) -> None:
        """The seed-variability map as a heat overlay (bright: detail the decoder invents)."""
        panel = self.panel
        if map8 is None or self.compare.evidence is None or map8.shape[:2] != self.compare.evidence.shape[:2]:
            self.variability_overlay.setVisible(False)
            panel.variability_overlay.setChecked(False)
            panel.variability_overlay.setEnabled(False)
            self.on_overlays()
            return
        grey = map8 if map8.ndim == 2 else map8[:, :, 0]
        self.variability_overlay.setPixmap(QPixmap.fromImage(numpy_to_qimage(compare.apply_colormap(grey / 255.0, "heat"))))
        panel.variability_overlay.setEnabled(True)
        self.variability_overlay.setVisible(panel.variability_overlay.isChecked())
        self.on_overlays()

    def _show_last_variability(self) -> None:
        m = None
        try:
            session, evidence_id = self.state.require_evidence()
            found = session.findings(evidence_id, "variability")
            if found:
                m = session.variability_map(found[-1])
        except NothingOpen:
            pass  # nothing shown, so no map: the overlay is switched off below
        except ExaminerError as exc:
            self.show_error(exc.message)
        self.show_variability(m)

    # -- symbol checks and their suggestions ---------------------------------------------------
    @reported(None)
    def run_suggestions(self) -> None:
        _session, _evidence_id, px = self._shown_pixels()
        if self.compare.comparison is None:
            self.show_error("choose a comparison image first: the checks compare the evidence with it")
            return
        cmp_px = self.compare.comparison
        label = self.compare.comparison_label

        def recorded(results: list[Any], _findings: Any, shown: bool) -> None:
            for r in results:
                if not r.available:
                    self.show_error(r.message)
            if shown:
                self._load_proposals()
                self.host.info(f"Symbol checks done: {len(self.state.proposals)} suggestion(s) to review")

        self._run_step(
            "Symbol checks", symbols_wf.compute_symbol_checks, (px, cmp_px), GENERAL,
            lambda case, evidence_id, results: symbols_wf.record_symbol_checks(case, evidence_id, results, label),
            recorded=recorded,
        )

    def _load_proposals(self) -> None:
        """The suggestions of the latest check runs that are neither accepted nor rejected; the
        state's proposals event redraws them."""
        try:
            from examiner.analysis.symbols import workflow

            session, evidence_id = self.state.require_evidence()
            self.state.proposals = workflow.pending_proposals(session.case, evidence_id)
        except (ImportError, ExaminerError):
            # No case, or the checks' optional packages are missing: then there is nothing pending.
            self.state.proposals = []

    def _show_proposals(self, proposals: list[Proposal]) -> None:
        labels = []
        shapes = []
        for i, p in enumerate(proposals, start=1):
            x, y, w, h = p.box
            reading = f"'{p.evidence_reading}' vs '{p.comparison_reading}'" if (p.evidence_reading or p.comparison_reading) else ""
            labels.append(f"P{i} {p.check}: {p.category.value}{' Symbol' if p.symbol else ''} {reading} ({p.confidence:.2f})")
            shapes.append(Region(evidence_id=self.state.evidence_id or 0, kind=ShapeKind.RECT, points=[(x, y), (x + w, y + h)], id=i))
        self.panel.set_proposals(labels)
        self.layer.set_proposals(shapes)

    @when_open(None)
    def proposal_action(self, action: str, index: int) -> None:
        """Accept (a region with the suggestion's provenance), accept and edit, or reject."""
        session, evidence_id = self.state.require_evidence()
        proposals = self.state.proposals
        if not 0 <= index < len(proposals):
            return
        from examiner.analysis.symbols import workflow

        p = proposals[index]
        case = session.case
        if action == "reject":
            attempt(self, workflow.reject_proposal, case, evidence_id, p, "rejected by the examiner")
            self._load_proposals()
            self.state.case_changed()
            return
        region = attempt(self, workflow.accept_proposal, case, evidence_id, p, None, None, None, "", self.state.comparison_key)
        if region is None:
            return
        self._load_proposals()
        self.state.regions_changed(region.id)
        if action == "edit":
            self.host.set_tool(TOOL_PAN)
            self.regions.jump_to_region(region.id)

    # -- codecs --------------------------------------------------------------------------------
    def load_codecs(self) -> None:
        try:
            from examiner.codecs.registry import list_codecs

            entries, _problems = list_codecs(self._settings())
        except ExaminerError as exc:
            self.show_error(exc.message)
            entries = []
        entries = sorted(entries, key=lambda e: (not e.available, e.info.family.value != "neural", e.info.id))
        self.panel.set_codecs(entries)
