"""The main window: docks, menus, status bar, and the wiring between panels and the case.

The window holds no analysis logic. It asks :class:`~examiner.gui.session.CaseSession` for data,
runs core task functions through the :class:`~examiner.gui.workers.JobManager`, and turns
examiner edits into undoable commands.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QGraphicsPixmapItem,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from examiner.analysis import compare
from examiner.core.settings import Settings, config_dir
from examiner.errors import ExaminerError
from examiner.gui import analysis_tasks
from examiner.gui.analysis_actions import AnalysisActions
from examiner.gui.analysis_panel import AnalysisPanel
from examiner.gui.case_panels import AuditPanel, EvidencePanel
from examiner.gui.compare_controller import MODE_LABELS, MODES, CompareController
from examiner.gui.image_view import TOOL_ELLIPSE, TOOL_PAN, TOOL_POLYGON, TOOL_RECT, ImageView
from examiner.gui.jobs_panel import JobsPanel
from examiner.gui.region_actions import RegionActions
from examiner.gui.region_items import RegionLayer
from examiner.gui.regions_panel import RegionsPanel
from examiner.gui.session import CaseSession, ComparisonSource
from examiner.gui.undo import (
    RefBook,
)
from examiner.gui.workers import GENERAL, JobManager

APP_TITLE = "Miscompression Examiner"
# Images above this size are hashed and decoded in a worker, so opening them never freezes the window.
ASYNC_LOAD_PIXELS = 16_000_000
LAYOUT_VERSION = 1


def gui_settings() -> QSettings:
    """Window layout, kept beside the settings file in the project's config directory."""
    path = config_dir() / "gui-layout.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


class MainWindow(RegionActions, AnalysisActions, QMainWindow):
    def __init__(self, interactive: bool = True, settings: Settings | None = None) -> None:
        super().__init__()
        self.interactive = interactive
        try:
            self.settings = settings or Settings.load()
        except ExaminerError as exc:
            self.settings = Settings()
            self._pending_message = exc.message
        self.session: CaseSession | None = None
        self.evidence_id: int | None = None
        self.comparison_key = ""
        self.messages: list[str] = []  # every problem shown to the user, newest last
        self.jobs = JobManager(self)
        self.undo_stack = QUndoStack(self)
        self.refs = RefBook()
        self.proposals: list[Any] = []
        self.detection: analysis_tasks.DetectionOutcome | None = None
        self.setWindowTitle(APP_TITLE)
        self.resize(1500, 950)
        self._build_views()
        self._build_docks()
        self._build_actions()
        self._build_status()
        self.undo_stack.cleanChanged.connect(lambda _: self._update_title())
        self._restore_layout()
        self._load_codecs()
        if getattr(self, "_pending_message", ""):
            self.show_error(self._pending_message)

    # ================================================================== construction
    def _build_views(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.compare_bar = QToolBar("Compare")
        self.compare_bar.setObjectName("compare-bar")
        self.mode_box = QComboBox()
        for m in MODES:
            self.mode_box.addItem(MODE_LABELS[m], m)
        self.mode_box.currentIndexChanged.connect(lambda _: self.set_compare_mode(self.mode_box.currentData()))
        self.compare_bar.addWidget(QLabel(" Compare: "))
        self.compare_bar.addWidget(self.mode_box)
        self.compare_bar.addSeparator()
        self.compare_bar.addWidget(QLabel(" Gain "))
        self.gain_box = QDoubleSpinBox()
        self.gain_box.setRange(1.0, 64.0)
        self.gain_box.setValue(4.0)
        self.gain_box.setSingleStep(1.0)
        self.gain_box.setPrefix("x")
        self.gain_box.setDecimals(1)
        self.gain_box.valueChanged.connect(lambda v: self.compare.set_gain(float(v)))
        self.compare_bar.addWidget(self.gain_box)
        self.compare_bar.addWidget(QLabel(" Map "))
        self.cmap_box = QComboBox()
        self.cmap_box.addItems(list(compare.COLOR_MAPS))
        self.cmap_box.currentTextChanged.connect(lambda t: self.compare.set_colormap(t))
        self.compare_bar.addWidget(self.cmap_box)
        self.compare_bar.addWidget(QLabel(" Flicker "))
        self.rate_box = QDoubleSpinBox()
        self.rate_box.setRange(0.2, 20.0)
        self.rate_box.setValue(2.0)
        self.rate_box.setSuffix(" Hz")
        self.rate_box.valueChanged.connect(lambda v: self.compare.set_flicker_rate(float(v)))
        self.compare_bar.addWidget(self.rate_box)
        self.display_box = QComboBox()
        self.display_box.addItem("as stored", "none")
        self.display_box.addItem("stretch (display only)", "stretch")
        self.display_box.addItem("equalise (display only)", "equalize")
        self.display_box.currentIndexChanged.connect(lambda _: self.compare.set_display_mode(self.display_box.currentData()))
        self.display_box.setToolTip("Contrast changes apply to the screen only, never to the evidence or to analyses")
        layout.addWidget(self.compare_bar)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.view = ImageView()
        self.side_view = ImageView()
        self.side_view.hide()
        split.addWidget(self.view)
        split.addWidget(self.side_view)
        layout.addWidget(split, 1)
        self.setCentralWidget(central)
        self.compare = CompareController(self.view, self.side_view, self._run_map)
        self.compare.message.connect(self.show_error)
        self.compare.mode_changed.connect(self._mode_changed)
        self.layer = RegionLayer(self.view.scene())
        self.layer.geometry_edited.connect(self._geometry_edited)
        self.layer.selected.connect(self._item_selected)
        self.layer.activated.connect(lambda rid, prop: self.jump_to_region(rid) if not prop else None)
        self.view.shape_drawn.connect(self._shape_drawn)
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
        self.evidence_panel.evidence_selected.connect(self.show_evidence)
        self.regions_panel = RegionsPanel(self.settings.texture_category_enabled)
        self.regions_panel.region_selected.connect(self._list_selected)
        self.regions_panel.region_activated.connect(self.jump_to_region)
        ed = self.regions_panel.editor
        ed.edited.connect(self._editor_edited)
        ed.lock_requested.connect(self.lock_region)
        ed.delete_requested.connect(self.delete_region)
        self.analysis_panel = AnalysisPanel()
        self.analysis_panel.device.setCurrentText(self.settings.device)
        ap = self.analysis_panel
        ap.detection_requested.connect(self.run_detection)
        ap.recompression_requested.connect(self.run_recompression)
        ap.comparison_chosen.connect(self.choose_comparison)
        ap.tile_overlay_toggled.connect(self.tile_overlay.setVisible)
        ap.suggest_requested.connect(self.run_suggestions)
        ap.variability_requested.connect(self.run_variability)
        ap.variability_overlay_toggled.connect(self.variability_overlay.setVisible)
        ap.proposal_action.connect(self._proposal_action)
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
        self.tabifyDockWidget(self.audit_dock, self.jobs_dock)
        self.audit_dock.raise_()
        self.resizeDocks([self.evidence_dock, self.regions_dock], [330, 380], Qt.Orientation.Horizontal)
        self.resizeDocks([self.audit_dock], [150], Qt.Orientation.Vertical)
        self._default_state = self.saveState(LAYOUT_VERSION)

    def _act(self, menu: Any, text: str, slot: Any, shortcut: Any = None, checkable: bool = False, tip: str = "") -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        a.setCheckable(checkable)
        if tip:
            a.setStatusTip(tip)
        a.triggered.connect(slot)
        menu.addAction(a)
        return a

    def _build_actions(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        self._act(m, "&New case...", self.new_case_dialog, QKeySequence.StandardKey.New)
        self._act(m, "&Open case...", self.open_case_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = m.addMenu("Open &recent")
        from examiner.gui.screening_window import install_screening_menu

        install_screening_menu(self, m)
        self._act(m, "&Save", self.save_case, QKeySequence.StandardKey.Save)
        self._act(m, "Save &as...", self.save_as_dialog, QKeySequence.StandardKey.SaveAs)
        m.addSeparator()
        self._act(m, "Add &evidence...", self.add_evidence_dialog, "Ctrl+E")
        self._act(m, "Set &reference original...", self.set_reference_dialog, "Ctrl+Shift+E")
        m.addSeparator()
        self._act(m, "E&xport report...", self.export_report_dialog, "Ctrl+P")
        self._act(m, "Re-check &integrity", self.recheck_integrity, "Ctrl+I")
        m.addSeparator()
        self._act(m, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        m = mb.addMenu("&Edit")
        undo = self.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        m.addAction(undo)
        m.addAction(redo)
        m.addSeparator()
        self._act(m, "&Delete selected region", lambda: self.delete_region(self._selected_id()), QKeySequence.StandardKey.Delete)
        self._act(m, "&Lock selected region as reviewed", lambda: self.lock_region(self._selected_id()), "Ctrl+L")
        m.addSeparator()
        self._act(m, "&Preferences...", self.preferences_dialog, QKeySequence.StandardKey.Preferences)

        m = mb.addMenu("&View")
        self._act(m, "Zoom to &fit", lambda: self.view.fit(), "0")
        self._act(m, "&Actual pixels (100%)", lambda: self.view.set_zoom(1.0), "1")
        self._act(m, "Zoom &in", lambda: self.view.zoom_by(2.0), QKeySequence.StandardKey.ZoomIn)
        self._act(m, "Zoom &out", lambda: self.view.zoom_by(0.5), QKeySequence.StandardKey.ZoomOut)
        self.loupe_action = self._act(m, "&Loupe (8x)", lambda _on: None, "L", checkable=True)
        self.regions_action = self._act(m, "Show &regions", lambda on: self.layer.set_visible(on), "R", checkable=True)
        self.regions_action.setChecked(True)
        dm = m.addMenu("&Display (display only)")
        group = QActionGroup(self)
        for i, (label, key) in enumerate((("As stored", "none"), ("Contrast stretch", "stretch"), ("Histogram equalisation", "equalize"))):
            a = self._act(dm, label, lambda _=False, k=key: self._set_display(k), f"Ctrl+{i + 5}", checkable=True)
            group.addAction(a)
            a.setChecked(key == "none")
        m.addSeparator()
        for dock in (self.evidence_dock, self.analysis_dock, self.regions_dock, self.audit_dock, self.jobs_dock):
            m.addAction(dock.toggleViewAction())
        self._act(m, "Reset &layout", self.reset_layout)

        m = mb.addMenu("&Compare")
        group = QActionGroup(self)
        self.mode_actions: dict[str, QAction] = {}
        for i, mode in enumerate(MODES):
            a = self._act(m, MODE_LABELS[mode], lambda _=False, md=mode: self.set_compare_mode(md), f"F{i + 1}", checkable=True)
            group.addAction(a)
            self.mode_actions[mode] = a
        self.mode_actions[MODES[0]].setChecked(True)
        m.addSeparator()
        self._act(m, "Start/stop &flicker", self.compare.toggle_flicker, "F")
        self._act(m, "Swap flicker image &now", self.compare.flicker_step, "Space")

        m = mb.addMenu("&Tools")
        group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        for tool, label, key in (
            (TOOL_PAN, "&Pan / select", "V"),
            (TOOL_RECT, "&Rectangle", "B"),
            (TOOL_POLYGON, "P&olygon (double-click or Enter closes)", "P"),
            (TOOL_ELLIPSE, "&Ellipse", "O"),
        ):
            a = self._act(m, label, lambda _=False, t=tool: self.set_tool(t), key, checkable=True)
            group.addAction(a)
            self.tool_actions[tool] = a
        self.tool_actions[TOOL_PAN].setChecked(True)

        m = mb.addMenu("&Analysis")
        self._act(m, "Run trace &detection", self.run_detection, "Ctrl+D")
        self._act(m, "Run &re-compression (panel settings)", self.analysis_panel._request_recompression, "Ctrl+R")
        self._act(m, "&Suggest regions (symbol checks)", self.run_suggestions, "Ctrl+G")
        self._act(m, "&Cancel all jobs", self.jobs.cancel_all, "Ctrl+Shift+X")

        from examiner.gui.training import install_training_menu

        install_training_menu(self, mb.addMenu("T&raining"))

        m = mb.addMenu("&Help")
        self._act(m, "&About", self.about)

        tb = QToolBar("Tools")
        tb.setObjectName("tools-bar")
        for tool in (TOOL_PAN, TOOL_RECT, TOOL_POLYGON, TOOL_ELLIPSE):
            tb.addAction(self.tool_actions[tool])
        tb.addSeparator()
        tb.addAction(undo)
        tb.addAction(redo)
        tb.addSeparator()
        tb.addWidget(QLabel(" Display: "))
        tb.addWidget(self.display_box)
        tb.addSeparator()
        loupe = tb.addAction("Loupe")
        loupe.setCheckable(True)
        loupe.toggled.connect(self.loupe_action.setChecked)
        self.loupe_action.toggled.connect(loupe.setChecked)
        self.loupe_action.toggled.connect(self.view.set_loupe)
        self.addToolBar(tb)
        self._rebuild_recent()

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

    def _guard(self, fn: Any, *args: Any) -> Any:
        """Run a case operation; a user-facing problem becomes a message, never a crash."""
        try:
            return fn(*args)
        except ExaminerError as exc:
            self.show_error(exc.message)
        return None

    def about(self) -> None:
        from examiner import __version__

        QMessageBox.about(self, APP_TITLE, f"{APP_TITLE} {__version__}\nFinds semantic changes made by neural image codecs.")

    # ================================================================== case handling
    def _update_title(self) -> None:
        if self.session is None:
            self.setWindowTitle(APP_TITLE)
            return
        d = self.session.case.details
        self.setWindowTitle(f"{d.case_id} - {self.session.path.name} - {APP_TITLE}")

    def open_case(self, path: str | Path) -> bool:
        try:
            session = CaseSession.open(path)
        except ExaminerError as exc:
            self.show_error(exc.message)
            return False
        self._set_session(session)
        integrity = session.case.integrity
        if not integrity.ok:
            self.show_error("Integrity problem in this case:\n" + "\n".join(integrity.problems()))
        return True

    def new_case(self, path: str | Path, case_id: str, examiner: str) -> bool:
        try:
            session = CaseSession.create(path, case_id, examiner)
        except ExaminerError as exc:
            self.show_error(exc.message)
            return False
        self._set_session(session)
        return True

    def _set_session(self, session: CaseSession) -> None:
        self.close_case()
        self.session = session
        self.settings.add_recent_case(session.path)
        self._guard(self.settings.save)
        self._rebuild_recent()
        self._update_title()
        self.refresh_case()
        items = session.evidence()
        if items:
            self.show_evidence(items[0].id)

    def close_case(self) -> None:
        if self.session is None:
            return
        # Findings still being committed on the writer thread belong to this case.
        self.jobs.wait_writes()
        self.undo_stack.clear()
        self.refs.clear()
        self.compare.set_evidence(None)
        self.layer.clear()
        self.proposals = []
        self.analysis_panel.set_proposals([])
        with contextlib.suppress(ExaminerError):
            self.session.close()
        self.session = None
        self.evidence_id = None
        self.refresh_case()

    def save_case(self) -> None:
        if self.session is None:
            return
        # Every edit is already its own committed transaction; saving marks the state clean.
        self.undo_stack.setClean()
        self.info(f"Saved {self.session.path} (every edit is written to the case file as it is made)")

    def save_case_as(self, path: str | Path) -> bool:
        if self.session is None:
            return False
        try:
            self.session.save_as(path)
        except (ExaminerError, OSError) as exc:
            self.show_error(f"{path}: could not save the case there ({exc})")
            return False
        self.settings.add_recent_case(self.session.path)
        self._guard(self.settings.save)
        self._rebuild_recent()
        self._update_title()
        self.save_case()
        return True

    def add_evidence(self, path: str | Path, reference: str | Path | None = None) -> bool:
        if self.session is None:
            self.show_error("open or create a case first")
            return False
        item = self._guard(self.session.add_evidence, path, reference)
        if item is None:
            return False
        self.refresh_case()
        self.show_evidence(item.id)
        return True

    def set_reference(self, path: str | Path) -> bool:
        if self.session is None or self.evidence_id is None:
            self.show_error("select an evidence item first")
            return False
        if self._guard(self.session.set_reference, self.evidence_id, path) is None and self.messages and str(path) in self.messages[-1]:
            return False
        self.refresh_case()
        self._refresh_comparisons(select="reference")
        return True

    def recheck_integrity(self) -> None:
        if self.session is None:
            return
        report = self._guard(self.session.case.integrity_check)
        self.refresh_case()
        if report is not None and not report.ok:
            self.show_error("Integrity problem:\n" + "\n".join(report.problems()))

    def refresh_case(self) -> None:
        s = self.session
        if s is None:
            self.evidence_panel.set_case([], None)
            self.audit_panel.set_entries([], None)
            self.regions_panel.set_regions([], 0, 0)
            self._set_integrity_label(None)
            return
        integrity = s.case.integrity
        self.evidence_panel.set_case(s.evidence(), integrity, self.evidence_id)
        self._set_integrity_label(integrity)
        self.refresh_audit(full=True)

    def refresh_audit(self, full: bool = False) -> None:
        if self.session is None:
            return
        chain = self.session.case.integrity.chain
        if full:
            self.audit_panel.set_entries(self.session.audit_entries(), chain)
        else:
            new = self.session.audit_entries(since=self.audit_panel.last_seq)
            self.audit_panel.set_entries(new, chain, append=True)

    def _set_integrity_label(self, integrity: Any | None) -> None:
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

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        for p in self.settings.recent_cases:
            a = QAction(p, self)
            a.triggered.connect(lambda _=False, path=p: self.open_case(path))
            self.recent_menu.addAction(a)
        self.recent_menu.setEnabled(bool(self.settings.recent_cases))

    # -- dialogs (thin: the work is in the methods above) --------------------------------------
    def new_case_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New case", "", "Case files (*.mcase)")
        if not path:
            return
        if not path.endswith(".mcase"):
            path += ".mcase"
        case_id, ok = QInputDialog.getText(self, "New case", "Case id:")
        if not ok or not case_id.strip():
            return
        examiner, ok = QInputDialog.getText(self, "New case", "Examiner:", text=self.settings.examiner_name)
        if ok and examiner.strip():
            self.new_case(path, case_id.strip(), examiner.strip())

    def preferences_dialog(self) -> None:
        from examiner.gui.settings_dialog import SettingsDialog

        dlg = SettingsDialog(self, self.settings)
        dlg.accepted.connect(lambda: self.apply_settings(dlg.apply()))
        dlg.open()

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        self._guard(settings.save)
        self.regions_panel.set_texture_enabled(settings.texture_category_enabled)
        self.analysis_panel.device.setCurrentText(settings.device)

    def open_case_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open case", "", "Case files (*.mcase);;All files (*)")
        if path:
            self.open_case(path)

    def save_as_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save case as", "", "Case files (*.mcase)")
        if path:
            self.save_case_as(path if path.endswith(".mcase") else path + ".mcase")

    def add_evidence_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add evidence (opened read-only)", "", "Images (*.jpg *.jpeg *.png *.tif *.tiff *.webp *.avif *.bmp);;All files (*)")
        if path:
            self.add_evidence(path)

    def set_reference_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Reference original", "", "Images (*.jpg *.jpeg *.png *.tif *.tiff *.webp *.avif *.bmp);;All files (*)")
        if path:
            self.set_reference(path)

    def export_report_dialog(self) -> None:
        if self.session is None:
            self.show_error("open a case first")
            return
        from examiner.gui.export_dialog import ExportDialog

        dlg = ExportDialog(self, self.session, self.jobs)
        dlg.open()

    # ================================================================== evidence and comparisons
    def _is_large(self, evidence_id: int) -> bool:
        if self.session is None:
            return False
        facts = self.session.case.evidence_item(evidence_id).facts
        return int(facts.get("width", 0) or 0) * int(facts.get("height", 0) or 0) > ASYNC_LOAD_PIXELS

    def show_evidence(self, evidence_id: int) -> None:
        """Show an evidence item; a large one is hashed and decoded in a worker first."""
        if self.session is None:
            return
        session = self.session
        if not session.has_pixels(evidence_id) and self._is_large(evidence_id):
            name = session.case.evidence_item(evidence_id).name

            def loaded(pixels: np.ndarray) -> None:
                if self.session is session:
                    session.keep_pixels(evidence_id, pixels)
                    self.show_evidence(evidence_id)

            self.jobs.submit(
                f"Opening {name}",
                lambda ctx: session.case.load_evidence(evidence_id).pixels,
                on_done=loaded,
                on_error=self._evidence_failed,
            )
            self.info(f"Opening {name} (checking its hash and decoding)...")
            return
        try:
            pixels = session.evidence_pixels(evidence_id)
        except ExaminerError as exc:
            self._evidence_failed(exc.message)
            return
        self.evidence_id = evidence_id
        self.evidence_panel.select(evidence_id)
        self.compare.set_evidence(pixels)
        self.comparison_key = ""
        self.detection = None
        self.tile_overlay.setVisible(False)
        self.analysis_panel.clear_detection()
        self._show_last_variability()
        self._show_last_detection()
        self.refresh_regions()
        self._load_proposals()
        self._refresh_comparisons(select="reference")

    def _evidence_failed(self, message: str) -> None:
        self.show_error(message)
        if self.session is not None:
            self.evidence_panel.set_integrity(self.session.case.integrity)

    def _refresh_comparisons(self, select: str = "") -> None:
        if self.session is None or self.evidence_id is None:
            self.analysis_panel.set_comparisons([])
            return
        sources = self._guard(self.session.comparison_sources, self.evidence_id) or []
        keys = [s.key for s in sources]
        key = select if select in keys else (self.comparison_key if self.comparison_key in keys else "")
        self.analysis_panel.set_comparisons(sources, key)
        if key != self.comparison_key or key:
            self.choose_comparison(key)

    def comparison_sources(self) -> list[ComparisonSource]:
        if self.session is None or self.evidence_id is None:
            return []
        return self.session.comparison_sources(self.evidence_id)

    def choose_comparison(self, key: str) -> bool:
        if self.session is None or self.evidence_id is None:
            return False
        if not key:
            self.comparison_key = ""
            self.compare.set_comparison(None)
            return True
        session, evidence_id = self.session, self.evidence_id
        if not session.has_comparison(evidence_id, key) and self._is_large(evidence_id):

            def loaded(px: np.ndarray) -> None:
                if self.session is session and self.evidence_id == evidence_id:
                    session.keep_comparison(evidence_id, key, px)
                    self.choose_comparison(key)

            self.jobs.submit(
                "Opening the comparison image",
                lambda ctx: session.load_comparison(evidence_id, key),
                on_done=loaded,
                on_error=self.show_error,
            )
            return True
        try:
            px = self.session.comparison_pixels(self.evidence_id, key)
        except ExaminerError as exc:
            self.show_error(exc.message)
            return False
        labels = {s.key: s.label for s in self.comparison_sources()}
        ok = self.compare.set_comparison(px, labels.get(key, key))
        self.comparison_key = key if ok else ""
        return ok

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

    def _set_display(self, key: str) -> None:
        i = self.display_box.findData(key)
        if i >= 0:
            self.display_box.setCurrentIndex(i)

    def _run_map(self, title: str, compute: Any, show: Any) -> None:
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

