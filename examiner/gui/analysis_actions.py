"""Analysis actions for the main window: detection, re-compression, seed variability, symbol
checks and their suggestions, and the codec list.

A mixin of :class:`~examiner.gui.main_window.MainWindow`. Each action starts a core function
as a background job (a worker process for the heavy ones) and shows the result when it is back
on the GUI thread; results are recorded in the case as findings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtGui import QPixmap, QTransform

from examiner.analysis import compare
from examiner.codecs.api import RunOptions
from examiner.core.regions import Region, ShapeKind
from examiner.errors import ExaminerError
from examiner.findings.schema import typed
from examiner.gui import analysis_tasks
from examiner.gui.image_view import TOOL_PAN
from examiner.gui.tiles import numpy_to_qimage
from examiner.gui.workers import CODEC, GENERAL, WRITER
from examiner.workflows import detect as detect_wf
from examiner.workflows import recompress as recompress_wf
from examiner.workflows import symbols as symbols_wf
from examiner.workflows import variability as variability_wf


class AnalysisActions:
    """Analysis actions; every method runs on the GUI thread of the window it is mixed into,
    which provides ``show_error``, ``info``, ``state``, the region actions and ``_guard``."""

    session: Any
    evidence_id: int | None
    comparison_key: str
    compare: Any
    jobs: Any
    layer: Any
    analysis_panel: Any
    tile_overlay: Any
    variability_overlay: Any
    detection: detect_wf.DetectionOutcome | None
    proposals: list[Any]


    def _need_evidence(self) -> np.ndarray | None:
        if self.session is None or self.evidence_id is None or self.compare.evidence is None:
            self.show_error("open a case and select an evidence item first")
            return None
        return self.compare.evidence

    def _record(self, title: str, write: Callable[[], Any], then: Callable[[Any], None]) -> None:
        """Commit a job's finding on the writer thread, then ``then(finding)`` on the GUI thread.

        Findings carry images, maps and bitstreams, and a commit waits for the disk; the window
        is only updated if the same case is still open.
        """
        session = self.session

        def recorded(finding: Any) -> None:
            if self.session is session:
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
        evidence_id = self.evidence_id
        session = self.session

        def done(out: Any) -> None:
            if session is None or evidence_id is None:
                return
            if self.session is not session:
                # The evidence belongs to a case that has since been closed: recording the result
                # into whichever case is open now would attach it to the wrong evidence.
                self.show_error(f"{title} finished after its case was closed; the result was not recorded")
                return
            if computed is not None:
                computed(out, evidence_id == self.evidence_id)

            def stored(finding: Any) -> None:
                self.state.finding_recorded(evidence_id, finding)
                if recorded is not None:
                    recorded(out, finding, evidence_id == self.evidence_id)

            self._record(f"Recording: {title}", lambda: record(session.case, evidence_id, out), stored)

        self.jobs.submit_process(title, compute, args, queue=queue, on_done=done, on_error=self.show_error)

    def run_detection(self) -> None:
        px = self._need_evidence()
        if px is None:
            return
        path = self.session.case.evidence_item(self.evidence_id).path if self.session and self.evidence_id else None
        self._run_step(
            "Trace detection", detect_wf.compute_detection, (px, path), GENERAL, detect_wf.record_detection,
            computed=lambda out, shown: self._show_detection(out) if shown else None,
        )

    def _show_detection(self, out: detect_wf.DetectionOutcome) -> None:
        self.detection = out
        self.analysis_panel.show_detection(out.verdict, out.score, out.explanation, out.spectrum, out.tile_map is not None)
        if out.tile_map is not None and self.compare.evidence is not None:
            tm = analysis_tasks.normalised_tile_map(out.tile_map)
            img = compare.apply_colormap(tm, "heat")
            pm = QPixmap.fromImage(numpy_to_qimage(img))
            h, w = self.compare.evidence.shape[:2]
            self.tile_overlay.setPixmap(pm)
            self.tile_overlay.setTransform(QTransform.fromScale(w / tm.shape[1], h / tm.shape[0]))

    def _show_last_detection(self) -> None:
        """Show the latest detection finding recorded for this evidence (so reopening shows it)."""
        if self.session is None or self.evidence_id is None:
            return
        found = self.session.findings(self.evidence_id, "detection")
        if not found:
            return
        f = found[-1]
        try:
            record = typed(f).record
            spectrum, tiles = self.session.detection_images(f)
        except ExaminerError as exc:
            self.show_error(exc.message)
            return
        out = detect_wf.DetectionOutcome(record, spectrum, tiles)  # type: ignore[arg-type]
        self._show_detection(out)

    def run_recompression(self, codec_id: str, quality: int | None, target_bpp: float | None, device: str) -> None:
        px = self._need_evidence()
        if px is None:
            return
        session = self.session
        what = f"q{quality}" if quality is not None else f"{target_bpp:g} bpp"

        def recorded(out: recompress_wf.RecompressionOutcome, finding: Any, shown: bool) -> None:
            # Keep the pixels: decoding the stored PNG back would cost the GUI thread for nothing.
            session.keep_comparison(finding.evidence_id, f"finding:{finding.id}", out.pixels)
            if shown:
                self._refresh_comparisons(select=f"finding:{finding.id}")
            self.info(f"Re-compression {codec_id} {what} done: {out.record.bpp} bpp; it is now the comparison image")

        self._run_step(
            f"Re-compress {codec_id} {what}", recompress_wf.compute_recompression,
            (px, codec_id, quality, target_bpp, RunOptions(device=device)), CODEC, recompress_wf.record_recompression,
            recorded=recorded,
        )

    def run_variability(self, codec_id: str, quality: int, seeds: int, device: str) -> None:
        px = self._need_evidence()
        if px is None:
            return

        def recorded(out: variability_wf.VariabilityOutcome, _finding: Any, shown: bool) -> None:
            if shown:
                self.show_variability(out.map8)
                self.analysis_panel.variability_overlay.setChecked(True)

        self._run_step(
            f"Seed variability {codec_id} q{quality} ({seeds} seeds)", variability_wf.compute_variability,
            (px, codec_id, quality, seeds, RunOptions(device=device)), CODEC, variability_wf.record_variability,
            recorded=recorded,
        )

    def show_variability(self, map8: np.ndarray | None) -> None:
        """The seed-variability map as a heat overlay (bright: detail the decoder invents)."""
        panel = self.analysis_panel
        if map8 is None or self.compare.evidence is None or map8.shape[:2] != self.compare.evidence.shape[:2]:
            self.variability_overlay.setVisible(False)
            panel.variability_overlay.setChecked(False)
            panel.variability_overlay.setEnabled(False)
            return
        grey = map8 if map8.ndim == 2 else map8[:, :, 0]
        self.variability_overlay.setPixmap(QPixmap.fromImage(numpy_to_qimage(compare.apply_colormap(grey / 255.0, "heat"))))
        panel.variability_overlay.setEnabled(True)
        self.variability_overlay.setVisible(panel.variability_overlay.isChecked())

    def _show_last_variability(self) -> None:
        found = self.session.findings(self.evidence_id, "variability") if self.session and self.evidence_id else []
        m = None
        if found and self.session is not None:
            try:
                m = self.session.variability_map(found[-1])
            except ExaminerError as exc:
                self.show_error(exc.message)
        self.show_variability(m)

    def run_suggestions(self) -> None:
        px = self._need_evidence()
        if px is None:
            return
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
                self.info(f"Symbol checks done: {len(self.proposals)} suggestion(s) to review")

        self._run_step(
            "Symbol checks", symbols_wf.compute_symbol_checks, (px, cmp_px), GENERAL,
            lambda case, evidence_id, results: symbols_wf.record_symbol_checks(case, evidence_id, results, label),
            recorded=recorded,
        )

    def _load_proposals(self) -> None:
        """The suggestions of the latest check runs that are neither accepted nor rejected."""
        self.proposals = []
        if self.session is not None and self.evidence_id is not None:
            try:
                from examiner.analysis.symbols import workflow

                self.proposals = workflow.pending_proposals(self.session.case, self.evidence_id)
            except (ImportError, ExaminerError):
                self.proposals = []  # the state's proposals event redraws them

    def _show_proposals(self) -> None:
        labels = []
        shapes = []
        for i, p in enumerate(self.proposals, start=1):
            x, y, w, h = p.box
            reading = f"'{p.evidence_reading}' vs '{p.comparison_reading}'" if (p.evidence_reading or p.comparison_reading) else ""
            labels.append(f"P{i} {p.check}: {p.category.value}{' Symbol' if p.symbol else ''} {reading} ({p.confidence:.2f})")
            shapes.append(Region(evidence_id=self.evidence_id or 0, kind=ShapeKind.RECT, points=[(x, y), (x + w, y + h)], id=i))
        self.analysis_panel.set_proposals(labels)
        self.layer.set_proposals(shapes)

    def _proposal_action(self, action: str, index: int) -> None:
        """Accept (a region with the suggestion's provenance), accept and edit, or reject."""
        if self.session is None or self.evidence_id is None or not (0 <= index < len(self.proposals)):
            return
        from examiner.analysis.symbols import workflow

        p = self.proposals[index]
        case = self.session.case
        if action == "reject":
            self._guard(workflow.reject_proposal, case, self.evidence_id, p, "rejected by the examiner")
            self._load_proposals()
            self.state.case_changed()
            return
        region = self._guard(workflow.accept_proposal, case, self.evidence_id, p, None, None, None, "", self.comparison_key)
        if region is None:
            return
        self._load_proposals()
        self.state.regions_changed(region.id)
        if action == "edit":
            self.set_tool(TOOL_PAN)
            self.jump_to_region(region.id)


    # ================================================================== codecs
    def _load_codecs(self) -> None:
        try:
            from examiner.codecs.registry import list_codecs

            entries, _problems = list_codecs()
        except ExaminerError as exc:
            self.show_error(exc.message)
            entries = []
        entries = sorted(entries, key=lambda e: (not e.available, e.info.family.value != "neural", e.info.id))
        self.analysis_panel.set_codecs(entries)
