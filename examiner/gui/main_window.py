"""The main window: docks, menus, status bar, and the wiring between panels and the case.

The window holds no analysis logic. What is open and shown lives in the Qt-free
:class:`~examiner.workflows.state.ExaminationState`; region marking and the analysis steps are
:class:`~examiner.gui.region_controller.RegionController` and
:class:`~examiner.gui.analysis_controller.AnalysisController`, built here from the widgets they
work with. The window keeps the case and evidence handling and the layout, and wires who follows
which change of the state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QGraphicsPixmapItem,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from examiner.analysis.symbols.proposals import Proposal
from examiner.core.integrity import IntegrityReport
from examiner.core.settings import Settings, config_dir
from examiner.errors import ExaminerError
from examiner.gui import acting_person, start_actions
from examiner.gui.analysis_controller import AnalysisController
from examiner.gui.analysis_panel import AnalysisPanel
from examiner.gui.case_panels import AuditPanel, EvidencePanel
from examiner.gui.compare_bar import CompareBar
from examiner.gui.compare_controller import MODES, CompareController
from examiner.gui.evidence_controller import EvidenceController
from examiner.gui.evidence_gate import EvidenceGate
from examiner.gui.guards import attempt, reported, when_open
from examiner.gui.image_view import ImageView
from examiner.gui.jobs_panel import JobsPanel
from examiner.gui.metadata_panel import MetadataPanel
from examiner.gui.region_controller import RegionController
from examiner.gui.region_items import RegionLayer
from examiner.gui.regions_panel import RegionsPanel
from examiner.gui.welcome_page import WelcomePage
from examiner.gui.window_pages import install_pages
from examiner.gui.workers import GENERAL, JobManager
from examiner.workflows import detect as detect_wf
from examiner.workflows.image_case import cases_dir
from examiner.workflows.region_edits import RefBook
from examiner.workflows.session import CaseSession
from examiner.workflows.state import ExaminationState, NothingOpen

T = TypeVar("T")

APP_TITLE = "Miscompression Examiner"
LAYOUT_VERSION = 2  # 2: the metadata and detection-explanation docks


def gui_settings() -> QSettings:
    """Window layout, kept beside the settings file in the project's config directory."""
    path = config_dir() / "gui-layout.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


def _from_state(name: str) -> Any:  # a property that stands for the attribute annotated with it
    return property(lambda self: getattr(self.state, name), lambda self, value: setattr(self.state, name, value))


class MainWindow(QMainWindow):
    # What is open and shown lives in the Qt-free examination state; these read and write it,
    # and its events (wired in _wire_state) keep the panels in step.
    session: CaseSession | None = _from_state("session")
    evidence_id: int | None = _from_state("evidence_id")
    comparison_key: str = _from_state("comparison_key")
    proposals: list[Proposal] = _from_state("proposals")
    detection: detect_wf.DetectionOutcome | None = _from_state("detection")

    def __init__(self, interactive: bool = True, settings: Settings | None = None) -> None:
        super().__init__()
        self.interactive = interactive
        try:
            self.settings = settings or Settings.load()
        except ExaminerError as exc:
            self.settings = Settings()
            self._pending_message = exc.message
        self.state: ExaminationState = ExaminationState()
        self.messages: list[str] = []  # every problem shown to the user, newest last
        self.jobs = JobManager(self)
        self.undo_stack = QUndoStack(self)
        self.refs = RefBook()
        self.gate = EvidenceGate()
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.resize(1500, 950)
        self._build_views()
        self._build_docks()
        self._build_controllers()
        self._build_actions()
        self._build_status()
        self.undo_stack.cleanChanged.connect(lambda _: self._update_title())
        self._restore_layout()
        self._wire_state()
        self.legend = install_pages(self)
        self.analysis.load_codecs()
        if getattr(self, "_pending_message", ""):
            self.show_error(self._pending_message)

    # ================================================================== construction
    def _build_controllers(self) -> None:
        # Each controller connects the signals of the widgets it is given and subscribes to the
        # state itself. The order built is the order the evidence event reaches them: the regions
        # are redrawn and the analysis overlays restored before the comparison image is chosen.
        self.regions = RegionController(
            self.state, self, self.view, self.layer, self.regions_panel, self.compare, self.undo_stack, self.refs,
            show_evidence=lambda evidence_id: self.evidence.show_evidence(evidence_id),
        )
        self.analysis = AnalysisController(
            self.state, self, self.jobs, self.compare, self.layer, self.analysis_panel,
            self.tile_overlay, self.variability_overlay, self.regions,
            show_comparisons=lambda key: self.evidence.refresh_comparisons(select=key),
            settings=lambda: self.settings,
        )
        self.evidence = EvidenceController(
            self.state, self, self.jobs, self.compare, self.evidence_panel, self.analysis_panel
        )

    def _wire_state(self) -> None:
        """Who follows which change of the examination state, besides the controllers."""
        ev = self.state.events
        ev.session.connect(lambda _session: (self._update_title(), self.refresh_case()))
        ev.recorded.connect(lambda: self.refresh_audit())

    def _build_views(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.compare_bar = CompareBar()
        bar = self.compare_bar
        self.mode_box, self.gain_box, self.cmap_box = bar.mode_box, bar.gain_box, bar.cmap_box
        self.rate_box, self.display_box = bar.rate_box, bar.display_box
        self.mode_box.currentIndexChanged.connect(lambda _: self.set_compare_mode(self.mode_box.currentData()))
        self.gain_box.valueChanged.connect(lambda v: self.compare.set_gain(float(v)))
        self.cmap_box.currentTextChanged.connect(lambda t: self.compare.set_colormap(t))
        self.rate_box.valueChanged.connect(lambda v: self.compare.set_flicker_rate(float(v)))
        self.display_box.currentIndexChanged.connect(lambda _: self.compare.set_display_mode(self.display_box.currentData()))
        layout.addWidget(self.compare_bar)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.view = ImageView()
        self.side_view = ImageView()
        self.side_view.hide()
        split.addWidget(self.view)
        split.addWidget(self.side_view)
        layout.addWidget(split, 1)
        # The welcome page while no case is open, the workbench once one is.
        self.welcome = WelcomePage(self)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(central)
        self.setCentralWidget(self.pages)
        self.compare = CompareController(self.view, self.side_view, self._run_map)
        self.compare.message.connect(self.show_error)
        self.compare.mode_changed.connect(self._mode_changed)
        self.layer = RegionLayer(self.view.scene())
        self.view.cursor_moved.connect(self._cursor_moved)
        self.side_view.cursor_moved.connect(self._cursor_moved)
        self.view.zoom_changed.connect(lambda z: self.zoom_label.setText(f"Zoom {100 * z:.0f}%"))
        self.tile_overlay = QGraphicsPixmapItem()
        self.tile_overlay.setZValue(1)
        self.tile_overlay.setOpacity(0.45)
        self.tile_overlay.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self.tile_overlay.setVisible(False)
        self.view.scene().addItem(self.tile_overlay)
        self.variability_overlay = QGraphicsPixmapItem()
        self.variability_overlay.setZValue(2)
        self.variability_overlay.setOpacity(0.55)
        self.variability_overlay.setVisible(False)
        self.view.scene().addItem(self.variability_overlay)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        self.evidence_panel = EvidencePanel()
        self.regions_panel = RegionsPanel(self.settings.texture_category_enabled)
        self.analysis_panel = AnalysisPanel()
        self.analysis_panel.device.setCurrentText(self.settings.device)
        self.audit_panel = AuditPanel()
        self.jobs_panel = JobsPanel(self.jobs)
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.evidence_dock = self._dock("Evidence", "evidence-dock", self.evidence_panel, left)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.analysis_panel)
        self.analysis_dock = self._dock("Analysis", "analysis-dock", scroll, left)
        self.regions_dock = self._dock("Regions", "regions-dock", self.regions_panel, right)
        self.audit_dock = self._dock("Audit log", "audit-dock", self.audit_panel, bottom)
        self.jobs_dock = self._dock("Jobs", "jobs-dock", self.jobs_panel, bottom)
        self.metadata_panel = MetadataPanel()
        self.metadata_dock = self._dock("Metadata", "metadata-dock", self.metadata_panel, right)
        self.tabifyDockWidget(self.regions_dock, self.metadata_dock)
        self.regions_dock.raise_()
        self.explanation_view = QPlainTextEdit()
        self.explanation_view.setReadOnly(True)
        self.explanation_view.setPlaceholderText("Run trace detection: its full explanation appears here.")
        self.explanation_dock = self._dock("Detection explanation", "explanation-dock", self.explanation_view, bottom)
        self.tabifyDockWidget(self.audit_dock, self.jobs_dock)
        self.tabifyDockWidget(self.audit_dock, self.explanation_dock)
        self.audit_dock.raise_()
        self.resizeDocks([self.evidence_dock, self.regions_dock], [360, 420], Qt.Orientation.Horizontal)
        self.resizeDocks([self.audit_dock, self.evidence_dock], [170, 190], Qt.Orientation.Vertical)
        self._default_state = self.saveState(LAYOUT_VERSION)

    def _build_actions(self) -> None:
        from examiner.gui.menus import build_menus

        built = build_menus(self)
        self.recent_menu, self.loupe_action = built.recent_menu, built.loupe_action
        self.mode_actions, self.tool_actions = built.mode_actions, built.tool_actions
        self.training, self.screening = built.training, built.screening
        self.rebuild_recent()

    # What the menus, dialogs and controllers reach the window by (see window_host.py).
    def widget(self) -> QMainWindow:
        return self

    def ask_acting_person(self) -> None:
        acting_person.ask(self)

    def docks(self) -> list[QDockWidget]:
        return [self.evidence_dock, self.analysis_dock, self.regions_dock, self.metadata_dock, self.audit_dock,
                self.jobs_dock, self.explanation_dock]  # fmt: skip

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.pos_label = QLabel("x -, y -")
        self.value_label = QLabel("")
        self.zoom_label = QLabel("Zoom -")
        self.integrity_label = QLabel("No case")
        self.integrity_label.setMargin(2)
        for w in (self.pos_label, self.value_label):
            sb.addWidget(w)
        sb.addPermanentWidget(self.zoom_label)
        sb.addPermanentWidget(self.integrity_label)
        self.acting_as: str | None = None  # who acts when no one is named: the case's examiner
        self.acting_label = acting_person.install(self)
        acting_person.refresh(self)

    # ================================================================== layout persistence
    def _restore_layout(self) -> None:
        qs = gui_settings()
        geo = qs.value("geometry")
        state = qs.value("state")
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)
        if isinstance(state, QByteArray):
            self.restoreState(state, LAYOUT_VERSION)

    def save_layout(self) -> None:
        qs = gui_settings()
        qs.setValue("geometry", self.saveGeometry())
        qs.setValue("state", self.saveState(LAYOUT_VERSION))
        qs.sync()

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, LAYOUT_VERSION)

    # A file dropped on the window opens as from the welcome page: a case, or an image in a new case.
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if start_actions.dropped_file(event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = start_actions.dropped_file(event.mimeData().urls())
        if path:
            event.acceptProposedAction()
            start_actions.open_dropped(self, path)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self.jobs.cancel_all()
        self.jobs.wait(5000)
        self.close_case()
        super().closeEvent(event)

    # ================================================================== messages
    def show_error(self, message: str) -> None:
        self.messages.append(message)
        self.statusBar().showMessage(message.splitlines()[0], 15000)
        if self.interactive:
            box = QMessageBox(QMessageBox.Icon.Warning, APP_TITLE, message, QMessageBox.StandardButton.Ok, self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    def info(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    def _guard(self, fn: Callable[..., T], *args: Any) -> T | None:
        """Run a case operation; a user-facing problem becomes a message, never a crash."""
        return attempt(self, fn, *args)

    def about(self) -> None:
        from examiner import __version__

        QMessageBox.about(self, APP_TITLE, f"{APP_TITLE} {__version__}\nFinds semantic changes made by neural image codecs.")

    # ================================================================== case handling
    def _update_title(self) -> None:
        self.setWindowTitle(APP_TITLE)
        with contextlib.suppress(NothingOpen):
            session = self.state.require_session()
            self.setWindowTitle(f"{session.case.details.case_id} - {session.path.name} - {APP_TITLE}")

    def open_case(self, path: str | Path) -> bool:
        try:
            session = CaseSession.open(path, self.settings, self.acting_as)
        except ExaminerError as exc:
            self.show_error(exc.message)
            return False
        self.set_session(session)
        integrity = session.case.integrity
        if not integrity.ok:
            self.show_error("Integrity problem in this case:\n" + "\n".join(integrity.problems()))
        return True

    def open_image(self, path: str | Path, examiner: str | None = None) -> bool:
        """A new case for the image in the cases folder, the image taken in (see start_actions)."""
        return start_actions.open_image(self, path, examiner)

    def ask_open_image(self) -> None:
        start_actions.ask_open_image(self)

    def ask_open_case(self) -> None:
        start_actions.ask_open_case(self)

    def open_demo(self) -> None:
        start_actions.open_demo(self)

    def new_case(self, path: str | Path, case_id: str, examiner: str) -> bool:
        try:
            session = CaseSession.create(path, case_id, examiner, settings=self.settings)
        except ExaminerError as exc:
            self.show_error(exc.message)
            return False
        self.set_session(session)
        return True

    def set_session(self, session: CaseSession) -> None:
        self.close_case()
        if self.acting_as and session.acting_as != self.acting_as:
            session.act_as(self.acting_as)  # a case made here: the person named for the window acts
        self.session = session  # the state's session event refreshes the title and the panels
        acting_person.refresh(self)
        self.settings.add_recent_case(session.path)
        self._guard(self.settings.save)
        self.rebuild_recent()
        items = session.evidence()
        if items:
            self.evidence.show_evidence(items[0].id)

    @when_open(None)
    def close_case(self) -> None:
        session = self.state.require_session()
        # Findings still being committed on the writer thread belong to this case.
        self.jobs.wait_writes()
        self.undo_stack.clear()
        self.refs.clear()
        self.compare.set_evidence(None)
        self.layer.clear()
        self.proposals = []
        with contextlib.suppress(ExaminerError):
            session.close()
        self.session = None
        acting_person.refresh(self)

    @when_open(None)
    def save_case(self) -> None:
        session = self.state.require_session()
        # Every edit is already its own committed transaction; saving marks the state clean.
        self.undo_stack.setClean()
        self.info(f"Saved {session.path} (every edit is written to the case file as it is made)")

    @when_open(False)
    def save_case_as(self, path: str | Path) -> bool:
        session = self.state.require_session()
        try:
            session.save_as(path)
        except (ExaminerError, OSError) as exc:
            self.show_error(f"{path}: could not save the case there ({exc})")
            return False
        self.settings.add_recent_case(session.path)
        self._guard(self.settings.save)
        self.rebuild_recent()
        self._update_title()
        self.save_case()
        return True

    @reported(False)
    def add_evidence(self, path: str | Path, reference: str | Path | None = None) -> bool:
        item = self.state.require_session().add_evidence(path, reference)
        self.refresh_case()
        self.evidence.show_evidence(item.id)
        return True

    @reported(False)
    def set_reference(self, path: str | Path) -> bool:
        session, evidence_id = self.state.require_evidence()
        session.set_reference(evidence_id, path)
        self.refresh_case()
        self.evidence.refresh_comparisons(select="reference")
        return True

    @when_open(None)
    def recheck_integrity(self) -> None:
        report = self._guard(self.state.require_session().case.integrity_check)
        self.refresh_case()
        if report is not None and not report.ok:
            self.show_error("Integrity problem:\n" + "\n".join(report.problems()))

    def refresh_case(self) -> None:
        try:
            s = self.state.require_session()
        except NothingOpen:
            self.evidence_panel.set_case([], None)
            self.audit_panel.set_entries([], None)
            self.regions_panel.set_regions([], 0, 0)
            self._set_integrity_label(None)
            return
        integrity = s.case.integrity
        self.evidence_panel.set_case(s.evidence(), integrity, self.evidence_id)
        self._set_integrity_label(integrity)
        self.refresh_audit(full=True)

    @when_open(None)
    def refresh_audit(self, full: bool = False) -> None:
        session = self.state.require_session()
        chain = session.case.integrity.chain
        if full:
            self.audit_panel.set_entries(session.audit_entries(), chain)
        else:
            new = session.audit_entries(since=self.audit_panel.last_seq)
            self.audit_panel.set_entries(new, chain, append=True)

    def _set_integrity_label(self, integrity: IntegrityReport | None) -> None:
        if integrity is None:
            self.integrity_label.setText("No case")
            self.integrity_label.setStyleSheet("")
        elif integrity.ok:
            self.integrity_label.setText("  Integrity OK  ")
            self.integrity_label.setStyleSheet("background: #2e7d46; color: white; font-weight: bold;")
        else:
            self.integrity_label.setText("  INTEGRITY PROBLEM  ")
            self.integrity_label.setStyleSheet("background: #c62828; color: white; font-weight: bold;")
            self.integrity_label.setToolTip("\n".join(integrity.problems()))

    def rebuild_recent(self) -> None:
        self.recent_menu.clear()
        if hasattr(self, "welcome"):
            self.welcome.refresh(self.settings.recent_cases, cases_dir(), self.settings.examiner_name)
        for p in self.settings.recent_cases:
            a = QAction(p, self)
            a.triggered.connect(lambda _=False, path=p: self.open_case(path))
            self.recent_menu.addAction(a)
        self.recent_menu.setEnabled(bool(self.settings.recent_cases))

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        self._guard(settings.save)
        if self.session is not None:
            self.session.apply_settings(settings)
        self.regions_panel.set_texture_enabled(settings.texture_category_enabled)
        self.analysis_panel.device.setCurrentText(settings.device)
        self.analysis.load_codecs()  # the extra codec folders may have changed

    # ================================================================== tools and compare modes
    def set_tool(self, tool: str) -> None:
        self.view.set_tool(tool)
        self.tool_actions[tool].setChecked(True)

    def set_compare_mode(self, mode: str) -> bool:
        try:
            return self.compare.set_mode(mode)
        except ExaminerError as exc:
            self.show_error(exc.message)
            return False

    def _mode_changed(self, mode: str) -> None:
        a = self.mode_actions.get(mode)
        if a is not None:
            a.setChecked(True)
        self.mode_box.blockSignals(True)
        self.mode_box.setCurrentIndex(MODES.index(mode))
        self.mode_box.blockSignals(False)

    def set_display(self, key: str) -> None:
        i = self.display_box.findData(key)
        if i >= 0:
            self.display_box.setCurrentIndex(i)

    def _run_map(self, title: str, compute: Callable[[], np.ndarray], show: Callable[[np.ndarray], None]) -> None:
        self.jobs.submit(f"{title} map", lambda ctx: compute(), queue=GENERAL, on_done=show, on_error=self.show_error)

    # ================================================================== status bar
    def _cursor_moved(self, x: int, y: int) -> None:
        if x < 0 or self.compare.evidence is None:
            self.pos_label.setText("x -, y -")
            self.value_label.setText("")
            return
        ev = self.compare.evidence
        if y >= ev.shape[0] or x >= ev.shape[1]:
            return
        self.pos_label.setText(f"x {x}, y {y}")
        text = "evidence " + _value_text(ev[y, x], ev.dtype)
        other = self.compare.comparison_value(x, y)
        if other is not None and self.compare.comparison is not None:
            text += "   |   comparison " + _value_text(other, self.compare.comparison.dtype)
        self.value_label.setText(text)

    # ================================================================== screenshots
    def grab_png(self, path: str | Path) -> None:
        pm = self.grab()
        if not pm.save(str(path), "PNG"):
            raise ExaminerError(f"{path}: could not write the screenshot")


def _value_text(v: Any, dtype: Any) -> str:
    arr = np.atleast_1d(np.asarray(v))
    if dtype == np.uint16:
        eight = ", ".join(str((int(c) + 128) // 257) for c in arr)
        return f"16-bit ({', '.join(str(int(c)) for c in arr)})  8-bit ({eight})"
    if arr.size == 1:
        return f"grey {int(arr[0])}"
    return "RGB (" + ", ".join(str(int(c)) for c in arr[:3]) + ")"

