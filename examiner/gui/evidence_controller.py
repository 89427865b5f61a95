"""Which evidence item and which comparison image are shown, and loading them.

Showing an item puts its pixels in the compare controller and then announces it on the
examination state, whose followers (the regions, the analysis overlays, the evidence list and
the comparison list) redraw; nothing here refreshes them by hand. Large images are hashed and
decoded in a worker so opening them never freezes the window.
"""

from __future__ import annotations

import contextlib

import numpy as np

from examiner.errors import ExaminerError
from examiner.gui.analysis_panel import AnalysisPanel
from examiner.gui.case_panels import EvidencePanel
from examiner.gui.compare_controller import CompareController
from examiner.gui.guards import Controller, Host, attempt, reported, when_open
from examiner.gui.workers import JobManager
from examiner.workflows.session import CaseSession, ComparisonSource
from examiner.workflows.state import ExaminationState, NothingOpen

# Images above this size are hashed and decoded in a worker, so opening them never freezes the window.
ASYNC_LOAD_PIXELS = 16_000_000


class EvidenceController(Controller):
    """Evidence and comparison display; every method runs on the GUI thread."""

    def __init__(
        self,
        state: ExaminationState,
        host: Host,
        jobs: JobManager,
        compare: CompareController,
        evidence_panel: EvidencePanel,
        analysis_panel: AnalysisPanel,
    ) -> None:
        super().__init__(state, host)
        self.jobs = jobs
        self.compare = compare
        self.evidence_panel = evidence_panel
        self.analysis_panel = analysis_panel
        evidence_panel.evidence_selected.connect(self.show_evidence)
        analysis_panel.comparison_chosen.connect(self.choose_comparison)
        state.events.evidence.connect(self._evidence_shown)

    def _is_large(self, session: CaseSession, evidence_id: int) -> bool:
        facts = session.case.evidence_item(evidence_id).facts
        return int(facts.get("width", 0) or 0) * int(facts.get("height", 0) or 0) > ASYNC_LOAD_PIXELS

    @when_open(None)
    def show_evidence(self, evidence_id: int) -> None:
        """Show an evidence item; a large one is hashed and decoded in a worker first."""
        session = self.state.require_session()
        if not session.has_pixels(evidence_id) and self._is_large(session, evidence_id):
            name = session.case.evidence_item(evidence_id).name

            def loaded(pixels: np.ndarray) -> None:
                if self.state.session is session:
                    session.keep_pixels(evidence_id, pixels)
                    self.show_evidence(evidence_id)

            self.jobs.submit(
                f"Opening {name}",
                lambda ctx: session.case.load_evidence(evidence_id).pixels,
                on_done=loaded,
                on_error=self._evidence_failed,
            )
            self.host.info(f"Opening {name} (checking its hash and decoding)...")
            return
        try:
            pixels = session.evidence_pixels(evidence_id)
        except ExaminerError as exc:
            self._evidence_failed(exc.message)
            return
        # The pixels go in first: the evidence event's followers (regions, overlays, the last
        # detection) size what they draw by them.
        self.compare.set_evidence(pixels)
        self.state.comparison_key = ""
        self.state.show_evidence(evidence_id)

    def _evidence_shown(self, evidence_id: int | None) -> None:
        if evidence_id is not None:
            self.evidence_panel.select(evidence_id)
        self.refresh_comparisons(select="reference")

    def _evidence_failed(self, message: str) -> None:
        self.show_error(message)
        # The failure may be a hash mismatch the case has just found: show it in the list too.
        with contextlib.suppress(NothingOpen):
            self.evidence_panel.set_integrity(self.state.require_session().case.integrity)

    def refresh_comparisons(self, select: str = "") -> None:
        try:
            session, evidence_id = self.state.require_evidence()
        except NothingOpen:
            self.analysis_panel.set_comparisons([])
            return
        sources = attempt(self, session.comparison_sources, evidence_id) or []
        keys = [s.key for s in sources]
        key = select if select in keys else (self.state.comparison_key if self.state.comparison_key in keys else "")
        self.analysis_panel.set_comparisons(sources, key)
        if key != self.state.comparison_key or key:
            self.choose_comparison(key)

    def comparison_sources(self) -> list[ComparisonSource]:
        try:
            session, evidence_id = self.state.require_evidence()
        except NothingOpen:
            return []
        return session.comparison_sources(evidence_id)

    @reported(False)
    @when_open(False)
    def choose_comparison(self, key: str) -> bool:
        session, evidence_id = self.state.require_evidence()
        if not key:
            self.state.comparison_key = ""
            self.compare.set_comparison(None)
            return True
        if not session.has_comparison(evidence_id, key) and self._is_large(session, evidence_id):

            def loaded(px: np.ndarray) -> None:
                if self.state.session is session and self.state.evidence_id == evidence_id:
                    session.keep_comparison(evidence_id, key, px)
                    self.choose_comparison(key)

            self.jobs.submit(
                "Opening the comparison image",
                lambda ctx: session.load_comparison(evidence_id, key),
                on_done=loaded,
                on_error=self.show_error,
            )
            return True
        px = session.comparison_pixels(evidence_id, key)
        labels = {s.key: s.label for s in self.comparison_sources()}
        ok = self.compare.set_comparison(px, labels.get(key, key))
        self.state.comparison_key = key if ok else ""
        return ok
