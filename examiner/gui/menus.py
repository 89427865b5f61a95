"""The main window's menus, shortcuts and tool bar: wiring only, every action calls the window."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QToolBar

from examiner.gui import case_dialogs, user_guide
from examiner.gui.codecs_dialog import open_codecs_dialog
from examiner.gui.compare_controller import MODE_LABELS, MODES
from examiner.gui.evidence_gate import NEEDS_CASE, NEEDS_EVIDENCE
from examiner.gui.image_view import TOOL_ELLIPSE, TOOL_PAN, TOOL_POLYGON, TOOL_RECT
from examiner.gui.menu_action import add_action
from examiner.gui.report_dialog import open_report_dialog
from examiner.gui.screening_window import ScreeningController, install_screening_menu
from examiner.gui.shortcuts_dialog import ShortcutsDialog
from examiner.gui.training import TrainingController, install_training_menu
from examiner.gui.window_host import MenuHost


@dataclass
class WindowActions:
    """What the window keeps of its menus: the entries it checks or fills later, and the
    controllers of the menus other modules install."""

    recent_menu: QMenu
    loupe_action: QAction
    regions_action: QAction
    mode_actions: dict[str, QAction]
    tool_actions: dict[str, QAction]
    training: TrainingController
    screening: ScreeningController


def build_menus(w: MenuHost) -> WindowActions:
    """The menus, their shortcuts and the tool bar of the main window ``w``."""
    win = w.widget()
    mb = win.menuBar()
    m = mb.addMenu("&File")
    add_action(win, m, "&New case...", lambda: case_dialogs.new_case(w), QKeySequence.StandardKey.New)
    add_action(win, m, "Open &image...", w.ask_open_image, "Ctrl+Shift+O", tip="A new case for an image; the image is only read")
    add_action(win, m, "&Open case...", lambda: case_dialogs.open_case(w), QKeySequence.StandardKey.Open)
    recent_menu = m.addMenu("Open &recent")
    screening = install_screening_menu(w, m)
    gate, case, ev = w.gate, NEEDS_CASE, NEEDS_EVIDENCE
    gate.needs(add_action(win, m, "&Save", w.save_case, QKeySequence.StandardKey.Save), case)
    gate.needs(add_action(win, m, "Save &as...", lambda: case_dialogs.save_as(w), QKeySequence.StandardKey.SaveAs), case)
    m.addSeparator()
    gate.needs(add_action(win, m, "Add &evidence...", lambda: case_dialogs.add_evidence(w), "Ctrl+E"), case)
    gate.needs(add_action(win, m, "Set &reference original...", lambda: case_dialogs.set_reference(w), "Ctrl+Shift+E"), ev)
    m.addSeparator()
    gate.needs(add_action(win, m, "Re&port: summary and conclusion...", lambda: open_report_dialog(w), "Ctrl+Shift+P"), ev)
    gate.needs(add_action(win, m, "E&xport report...", lambda: case_dialogs.export_report(w), "Ctrl+P"), ev)
    gate.needs(add_action(win, m, "Re-check &integrity", w.recheck_integrity, "Ctrl+I"), case)
    m.addSeparator()
    add_action(win, m, "&Quit", win.close, QKeySequence.StandardKey.Quit)

    m = mb.addMenu("&Edit")
    undo = w.undo_stack.createUndoAction(win, "&Undo")
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    redo = w.undo_stack.createRedoAction(win, "&Redo")
    redo.setShortcut(QKeySequence.StandardKey.Redo)
    m.addAction(undo)
    m.addAction(redo)
    m.addSeparator()
    gate.needs(add_action(win, m, "&Delete selected region", lambda: w.regions.delete_region(w.regions.selected_id()), QKeySequence.StandardKey.Delete), ev)
    gate.needs(add_action(win, m, "&Lock selected region as reviewed", lambda: w.regions.lock_region(w.regions.selected_id()), "Ctrl+L"), ev)
    m.addSeparator()
    add_action(win, m, "&Preferences...", lambda: case_dialogs.preferences(w), QKeySequence.StandardKey.Preferences)
    add_action(win, m, "Acting &person...", w.ask_acting_person,
               tip="Who your work is credited to: the case's examiner unless you name someone")  # fmt: skip

    m = mb.addMenu("&View")
    add_action(win, m, "Zoom to &fit", lambda: w.view.fit(), "0")
    add_action(win, m, "&Actual pixels (100%)", lambda: w.view.set_zoom(1.0), "1")
    add_action(win, m, "Zoom &in", lambda: w.view.zoom_by(2.0), QKeySequence.StandardKey.ZoomIn)
    add_action(win, m, "Zoom &out", lambda: w.view.zoom_by(0.5), QKeySequence.StandardKey.ZoomOut)
    loupe_action = add_action(win, m, "&Loupe (8x)", lambda _on: None, "L", checkable=True)
    regions_action = add_action(win, m, "Show &regions", lambda on: w.layer.set_visible(on), "R", checkable=True)
    regions_action.setChecked(True)
    dm = m.addMenu("&Display (display only)")
    group = QActionGroup(win)
    for i, (label, key) in enumerate((("As stored", "none"), ("Contrast stretch", "stretch"), ("Histogram equalisation", "equalize"))):
        a = add_action(win, dm, label, lambda _=False, k=key: w.set_display(k), f"Ctrl+{i + 5}", checkable=True)
        group.addAction(a)
        a.setChecked(key == "none")
    m.addSeparator()
    for dock in w.docks():
        m.addAction(dock.toggleViewAction())
    add_action(win, m, "Reset &layout", w.reset_layout)

    m = mb.addMenu("&Compare")
    group = QActionGroup(win)
    mode_actions: dict[str, QAction] = {}
    for i, mode in enumerate(MODES):
        a = add_action(win, m, MODE_LABELS[mode], lambda _=False, md=mode: w.set_compare_mode(md), f"F{i + 1}", checkable=True)
        group.addAction(a)
        mode_actions[mode] = a
        if mode != MODES[0]:
            gate.needs(a, ev)
    mode_actions[MODES[0]].setChecked(True)
    m.addSeparator()
    gate.needs(add_action(win, m, "Start/stop &flicker", w.compare.toggle_flicker, "F"), ev)
    gate.needs(add_action(win, m, "Swap flicker image &now", w.compare.flicker_step, "Space"), ev)

    m = mb.addMenu("&Tools")
    group = QActionGroup(win)
    tool_actions: dict[str, QAction] = {}
    for tool, label, key in (
        (TOOL_PAN, "&Pan / select", "V"),
        (TOOL_RECT, "&Rectangle", "B"),
        (TOOL_POLYGON, "P&olygon (double-click or Enter closes)", "P"),
        (TOOL_ELLIPSE, "&Ellipse", "O"),
    ):
        a = add_action(win, m, label, lambda _=False, t=tool: w.set_tool(t), key, checkable=True)
        group.addAction(a)
        tool_actions[tool] = a
        if tool != TOOL_PAN:
            gate.needs(a, ev)
    tool_actions[TOOL_PAN].setChecked(True)

    m = mb.addMenu("&Analysis")
    gate.needs(add_action(win, m, "Run trace &detection", lambda: w.analysis.run_detection(), "Ctrl+D"), ev)
    gate.needs(add_action(win, m, "Run &re-compression (panel settings)", w.analysis_panel.request_recompression, "Ctrl+R"), ev)
    gate.needs(add_action(win, m, "&Suggest regions (symbol checks)", lambda: w.analysis.run_suggestions(), "Ctrl+G"), ev)
    add_action(win, m, "&Cancel all jobs", w.jobs.cancel_all, "Ctrl+Shift+X")
    m.addSeparator()
    add_action(win, m, "C&odecs and weight files...", lambda: open_codecs_dialog(w), "Ctrl+Shift+K")

    training = install_training_menu(w, mb.addMenu("T&raining"))

    m = mb.addMenu("&Help")
    add_action(win, m, "&User guide", lambda: user_guide.open_user_guide(win))
    add_action(win, m, "&Keyboard shortcuts", lambda: ShortcutsDialog(win).open(), "Ctrl+/")
    add_action(win, m, "&About", w.about)
    for top in mb.actions():
        if top.menu() is not None:
            top.menu().setToolTipsVisible(True)  # a disabled entry's tool tip says why

    tb = QToolBar("Tools")
    tb.setObjectName("tools-bar")
    for tool in (TOOL_PAN, TOOL_RECT, TOOL_POLYGON, TOOL_ELLIPSE):
        tb.addAction(tool_actions[tool])
    tb.addSeparator()
    tb.addAction(undo)
    tb.addAction(redo)
    tb.addSeparator()
    tb.addWidget(QLabel(" Display: "))
    tb.addWidget(w.display_box)
    tb.addSeparator()
    loupe = tb.addAction("Loupe")
    loupe.setCheckable(True)
    loupe.toggled.connect(loupe_action.setChecked)
    loupe_action.toggled.connect(loupe.setChecked)
    loupe_action.toggled.connect(w.view.set_loupe)
    win.addToolBar(tb)
    return WindowActions(recent_menu, loupe_action, regions_action, mode_actions, tool_actions, training, screening)
