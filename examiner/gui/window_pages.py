"""Wiring of the window's start-up and reading aids: the welcome page, what is enabled when,
the metadata panel, the detection-explanation dock and the map legends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from examiner.core.text_safety import safe_text
from examiner.gui.colour_legend import ColourLegend
from examiner.gui.evidence_gate import NEEDS_EVIDENCE
from examiner.gui.map_legends import install_legends
from examiner.gui.workers import GENERAL
from examiner.workflows.metadata_view import Section, evidence_metadata

if TYPE_CHECKING:
    from PySide6.QtWidgets import QGroupBox, QWidget

    # These pages are part of the window, wired with it from its own widgets.
    from examiner.gui.main_window import MainWindow

WELCOME, WORKBENCH = 0, 1


def install_pages(w: MainWindow) -> ColourLegend:
    """Wire the pages and reading aids; returns the map legend for the window to keep."""
    legend = install_legends(w)
    p = w.analysis_panel
    for box in (p.detect_button, *_group_boxes(p)):
        w.gate.needs(box, NEEDS_EVIDENCE)
    p.explanation_changed.connect(w.explanation_view.setPlainText)
    p.explanation_requested.connect(lambda: (w.explanation_dock.show(), w.explanation_dock.raise_()))
    ev = w.state.events
    ev.session.connect(lambda _s: _case_state(w))
    ev.evidence.connect(lambda _e: _case_state(w))
    ev.recorded.connect(lambda: _case_state(w))
    ev.evidence.connect(lambda evidence_id: _load_metadata(w, evidence_id))
    ev.session.connect(lambda s: w.metadata_panel.clear() if s is None else None)
    w.rebuild_recent()
    _case_state(w)
    return legend


def _group_boxes(panel: QWidget) -> list[QGroupBox]:
    from PySide6.QtWidgets import QGroupBox

    return [b for b in panel.findChildren(QGroupBox) if b.parent() is panel]


def _case_state(w: MainWindow) -> None:
    session = w.state.session
    has_evidence = session is not None and w.state.evidence_id is not None
    w.gate.update(session is not None, has_evidence)
    w.pages.setCurrentIndex(WORKBENCH if session is not None else WELCOME)


def _load_metadata(w: MainWindow, evidence_id: int | None) -> None:
    session = w.state.session
    if session is None or evidence_id is None:
        w.metadata_panel.clear()
        return
    try:
        item = session.case.evidence_item(evidence_id)
    except Exception as exc:  # noqa: BLE001 - a damaged row is shown as such, never raised into Qt
        w.metadata_panel.clear(safe_text(exc, 300))
        return
    w.metadata_panel.clear(f"Reading the metadata of E{item.id} {safe_text(item.name, 120)}...")

    def shown(sections: list[Section]) -> None:
        if w.state.evidence_id == evidence_id and w.state.session is session:
            w.metadata_panel.set_sections(f"E{item.id} {safe_text(item.name, 120)} (read-only; the file's bytes, hash-checked)", sections)

    def failed(message: str) -> None:
        if w.state.evidence_id == evidence_id:
            w.metadata_panel.clear(message)

    w.jobs.submit(f"Metadata of E{item.id}", lambda ctx: evidence_metadata(item), queue=GENERAL, on_done=shown, on_error=failed)
