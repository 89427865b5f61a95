"""The main window's menus, shortcuts and tool bar: wiring only, every action calls the window."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QToolBar

from examiner.gui import case_dialogs, user_guide
from examiner.gui.codecs_dialog import open_codecs_dialog
from examiner.gui.compare_controller import MODE_LABELS, MODES
from examiner.gui.evidence_gate import NEEDS_CASE, NEEDS_EVIDENCE
from examiner.gui.image_view import TOOL_ELLIPSE, TOOL_PAN, TOOL_POLYGON, TOOL_RECT
from examiner.gui.report_dialog import open_report_dialog
from examiner.gui.shortcuts_dialog import ShortcutsDialog


def add_action(w: Any, menu: Any, text: str, slot: Any, shortcut: Any = None, checkable: bool = False, tip: str = "") -> QAction:
    a = QAction(text, w)
    if shortcut is not None:
        a.setShortcut(QKeySequence(shortcut))
    a.setCheckable(checkable)
    if tip:
        a.setStatusTip(tip)
    a.triggered.connect(slot)
    menu.addAction(a)
    return a


def build_menus(w: Any) -> None:
    """The menus, their shortcuts and the tool bar of the main window ``w``."""
    mb = w.menuBar()
    m = mb.addMenu("&File")
    add_action(w, m, "&New case...", lambda: case_dialogs.new_case(w), QKeySequence.StandardKey.New)
    add_action(w, m, "Open &image...", w.ask_open_image, "Ctrl+Shift+O", tip="A new case for an image; the image is only read")
    add_action(w, m, "&Open case...", lambda: case_dialogs.open_case(w), QKeySequence.StandardKey.Open)
    w.recent_menu = m.addMenu("Open &recent")
    from examiner.gui.screening_window import install_screening_menu

    install_screening_menu(w, m)
    gate, case, ev = w.gate, NEEDS_CASE, NEEDS_EVIDENCE
    gate.needs(add_action(w, m, "&Save", w.save_case, QKeySequence.StandardKey.Save), case)
    gate.needs(add_action(w, m, "Save &as...", lambda: case_dialogs.save_as(w), QKeySequence.StandardKey.SaveAs), case)
    m.addSeparator()
    gate.needs(add_action(w, m, "Add &evidence...", lambda: case_dialogs.add_evidence(w), "Ctrl+E"), case)
    gate.needs(add_action(w, m, "Set &reference original...", lambda: case_dialogs.set_reference(w), "Ctrl+Shift+E"), ev)
    m.addSeparator()
    gate.needs(add_action(w, m, "Re&port: summary and conclusion...", lambda: open_report_dialog(w), "Ctrl+Shift+P"), ev)
    gate.needs(add_action(w, m, "E&xport report...", lambda: case_dialogs.export_report(w), "Ctrl+P"), ev)
    gate.needs(add_action(w, m, "Re-check &integrity", w.recheck_integrity, "Ctrl+I"), case)
    m.addSeparator()
    add_action(w, m, "&Quit", w.close, QKeySequence.StandardKey.Quit)

    m = mb.addMenu("&Edit")
    undo = w.undo_stack.createUndoAction(w, "&Undo")
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    redo = w.undo_stack.createRedoAction(w, "&Redo")
    redo.setShortcut(QKeySequence.StandardKey.Redo)
    m.addAction(undo)
    m.addAction(redo)
    m.addSeparator()
    gate.needs(add_action(w, m, "&Delete selected region", lambda: w.regions.delete_region(w.regions.selected_id()), QKeySequence.StandardKey.Delete), ev)
    gate.needs(add_action(w, m, "&Lock selected region as reviewed", lambda: w.regions.lock_region(w.regions.selected_id()), "Ctrl+L"), ev)
    m.addSeparator()
    add_action(w, m, "&Preferences...", lambda: case_dialogs.preferences(w), QKeySequence.StandardKey.Preferences)

    m = mb.addMenu("&View")
    add_action(w, m, "Zoom to &fit", lambda: w.view.fit(), "0")
    add_action(w, m, "&Actual pixels (100%)", lambda: w.view.set_zoom(1.0), "1")
    add_action(w, m, "Zoom &in", lambda: w.view.zoom_by(2.0), QKeySequence.StandardKey.ZoomIn)
    add_action(w, m, "Zoom &out", lambda: w.view.zoom_by(0.5), QKeySequence.StandardKey.ZoomOut)
    w.loupe_action = add_action(w, m, "&Loupe (8x)", lambda _on: None, "L", checkable=True)
    w.regions_action = add_action(w, m, "Show &regions", lambda on: w.layer.set_visible(on), "R", checkable=True)
    w.regions_action.setChecked(True)
    dm = m.addMenu("&Display (display only)")
    group = QActionGroup(w)
    for i, (label, key) in enumerate((("As stored", "none"), ("Contrast stretch", "stretch"), ("Histogram equalisation", "equalize"))):
        a = add_action(w, dm, label, lambda _=False, k=key: w._set_display(k), f"Ctrl+{i + 5}", checkable=True)
        group.addAction(a)
        a.setChecked(key == "none")
    m.addSeparator()
    for dock in (w.evidence_dock, w.analysis_dock, w.regions_dock, w.metadata_dock, w.audit_dock, w.jobs_dock, w.explanation_dock):
        m.addAction(dock.toggleViewAction())
    add_action(w, m, "Reset &layout", w.reset_layout)

    m = mb.addMenu("&Compare")
    group = QActionGroup(w)
    w.mode_actions: dict[str, QAction] = {}
    for i, mode in enumerate(MODES):
        a = add_action(w, m, MODE_LABELS[mode], lambda _=False, md=mode: w.set_compare_mode(md), f"F{i + 1}", checkable=True)
        group.addAction(a)
        w.mode_actions[mode] = a
        if mode != MODES[0]:
            gate.needs(a, ev)
    w.mode_actions[MODES[0]].setChecked(True)
    m.addSeparator()
    gate.needs(add_action(w, m, "Start/stop &flicker", w.compare.toggle_flicker, "F"), ev)
    gate.needs(add_action(w, m, "Swap flicker image &now", w.compare.flicker_step, "Space"), ev)

    m = mb.addMenu("&Tools")
    group = QActionGroup(w)
    w.tool_actions: dict[str, QAction] = {}
    for tool, label, key in (
        (TOOL_PAN, "&Pan / select", "V"),
        (TOOL_RECT, "&Rectangle", "B"),
        (TOOL_POLYGON, "P&olygon (double-click or Enter closes)", "P"),
        (TOOL_ELLIPSE, "&Ellipse", "O"),
    ):
        a = add_action(w, m, label, lambda _=False, t=tool: w.set_tool(t), key, checkable=True)
        group.addAction(a)
        w.tool_actions[tool] = a
        if tool != TOOL_PAN:
            gate.needs(a, ev)
    w.tool_actions[TOOL_PAN].setChecked(True)

    m = mb.addMenu("&Analysis")
    gate.needs(add_action(w, m, "Run trace &detection", lambda: w.analysis.run_detection(), "Ctrl+D"), ev)
    gate.needs(add_action(w, m, "Run &re-compression (panel settings)", w.analysis_panel._request_recompression, "Ctrl+R"), ev)
    gate.needs(add_action(w, m, "&Suggest regions (symbol checks)", lambda: w.analysis.run_suggestions(), "Ctrl+G"), ev)
    add_action(w, m, "&Cancel all jobs", w.jobs.cancel_all, "Ctrl+Shift+X")
    m.addSeparator()
    add_action(w, m, "C&odecs and weight files...", lambda: open_codecs_dialog(w), "Ctrl+Shift+K")

    from examiner.gui.training import install_training_menu

    install_training_menu(w, mb.addMenu("T&raining"))

    m = mb.addMenu("&Help")
    add_action(w, m, "&User guide", lambda: user_guide.open_user_guide(w))
    add_action(w, m, "&Keyboard shortcuts", lambda: ShortcutsDialog(w).open(), "Ctrl+/")
    add_action(w, m, "&About", w.about)
    for top in mb.actions():
        if top.menu() is not None:
            top.menu().setToolTipsVisible(True)  # a disabled entry's tool tip says why

    tb = QToolBar("Tools")
    tb.setObjectName("tools-bar")
    for tool in (TOOL_PAN, TOOL_RECT, TOOL_POLYGON, TOOL_ELLIPSE):
        tb.addAction(w.tool_actions[tool])
    tb.addSeparator()
    tb.addAction(undo)
    tb.addAction(redo)
    tb.addSeparator()
    tb.addWidget(QLabel(" Display: "))
    tb.addWidget(w.display_box)
    tb.addSeparator()
    loupe = tb.addAction("Loupe")
    loupe.setCheckable(True)
    loupe.toggled.connect(w.loupe_action.setChecked)
    w.loupe_action.toggled.connect(loupe.setChecked)
    w.loupe_action.toggled.connect(w.view.set_loupe)
    w.addToolBar(tb)
    w._rebuild_recent()
