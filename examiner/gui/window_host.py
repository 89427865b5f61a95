"""What the menus, the case dialogs and the training and screening controllers need of the main
window, as typed protocols: they reach the window through these and nothing else.

The controllers that work on the image view (:class:`~examiner.gui.guards.Host`) need only
messages and the tool; the parts here also open and create cases, read the settings and start jobs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from examiner.gui.guards import Host

if TYPE_CHECKING:
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QComboBox, QDockWidget, QMainWindow

    from examiner.core.settings import Settings
    from examiner.gui.analysis_controller import AnalysisController
    from examiner.gui.analysis_panel import AnalysisPanel
    from examiner.gui.compare_controller import CompareController
    from examiner.gui.evidence_gate import EvidenceGate
    from examiner.gui.image_view import ImageView
    from examiner.gui.region_controller import RegionController
    from examiner.gui.region_items import RegionLayer
    from examiner.gui.workers import JobManager
    from examiner.workflows.session import CaseSession
    from examiner.workflows.state import ExaminationState


class CaseHost(Host, Protocol):
    """The window as the case dialogs, the training and screening controllers and the dialogs
    they open see it: the examination state, the settings, the jobs and the case actions."""

    state: ExaminationState
    settings: Settings
    jobs: JobManager
    interactive: bool  # False under tests and scripts: nothing modal may be shown

    def widget(self) -> QMainWindow:
        """The window itself, as the parent of dialogs and actions."""
        ...

    def open_case(self, path: str | Path) -> bool: ...

    def set_session(self, session: CaseSession) -> None:
        """Show ``session`` (a case opened or made elsewhere), closing the one open."""
        ...

    def new_case(self, path: str | Path, case_id: str, examiner: str) -> bool: ...

    def save_case_as(self, path: str | Path) -> bool: ...

    def add_evidence(self, path: str | Path, reference: str | Path | None = None) -> bool: ...

    def set_reference(self, path: str | Path) -> bool: ...

    def apply_settings(self, settings: Settings) -> None: ...


class MenuHost(CaseHost, Protocol):
    """The window as its menus and tool bar see it: the parts and actions the entries call."""

    gate: EvidenceGate
    undo_stack: QUndoStack
    view: ImageView
    layer: RegionLayer
    compare: CompareController
    analysis: AnalysisController
    analysis_panel: AnalysisPanel
    regions: RegionController
    display_box: QComboBox

    def docks(self) -> list[QDockWidget]:
        """The dock widgets, in the order the View menu lists them."""
        ...

    def ask_open_image(self) -> None: ...

    def ask_open_case(self) -> None: ...

    def open_demo(self) -> None: ...

    def save_case(self) -> None: ...

    def recheck_integrity(self) -> None: ...

    def reset_layout(self) -> None: ...

    def set_compare_mode(self, mode: str) -> bool: ...

    def set_display(self, key: str) -> None: ...

    def about(self) -> None: ...

    def ask_acting_person(self) -> None: ...
