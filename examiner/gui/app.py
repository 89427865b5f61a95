"""Starting the GUI: the application object, its style, and the headless screenshot mode."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from examiner.errors import ExaminerError
from examiner.gui.compare_controller import MODES
from examiner.gui.main_thread_gc import MainThreadCollector
from examiner.gui.main_window import APP_TITLE, MainWindow
from examiner.gui.platform_check import check_display_platform


def choose_platform(headless: bool) -> None:
    """Screenshots need no display; a window does, and Qt would abort without a clear word."""
    if QApplication.instance() is not None:
        return
    chosen = os.environ.get("QT_QPA_PLATFORM")
    if headless:
        if not chosen:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return
    if not chosen and sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise ExaminerError(
            "no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); run it in a "
            "desktop session, or use --screenshot PATH for a headless picture"
        )
    # Qt's own abort on a missing system library names the wrong package; name the right ones.
    for note in check_display_platform():
        print(f"examiner gui: {note}", file=sys.stderr)


def application() -> QApplication:
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName("miscompression-examiner")
        QCoreApplication.setApplicationName(APP_TITLE)
        app = QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    apply_style(app)
    return app


def apply_style(app: QApplication) -> None:
    """A dark, neutral theme: image colours are judged against grey, not against white chrome."""
    app.setStyle("Fusion")
    p = QPalette()
    base, window, text = QColor(30, 32, 36), QColor(45, 48, 53), QColor(225, 227, 230)
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor(38, 41, 46))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor(60, 63, 68))
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, window)
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.Highlight, QColor(42, 110, 190))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(130, 134, 140))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 123, 128))
    app.setPalette(p)
    app.setStyleSheet(
        "QDockWidget::title { background: #3a3e44; padding: 4px; font-weight: bold; }"
        "QGroupBox { font-weight: bold; border: 1px solid #4a4e55; border-radius: 4px; margin-top: 10px; padding-top: 6px; }"
        "QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 3px; }"
        "QStatusBar QLabel { padding: 0 6px; }"
    )


def settle(app: QApplication, window: MainWindow, timeout_s: float = 120.0) -> None:
    """Process events until background jobs are done and their results are shown."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app.processEvents()
        if not window.jobs.active():
            break
        time.sleep(0.01)
    for _ in range(5):
        app.processEvents()
        time.sleep(0.01)


def run_gui(
    case: str | None = None,
    image: str | None = None,
    examiner: str | None = None,
    actor: str | None = None,
    demo: bool = False,
    screenshot: str | None = None,
    compare: str | None = None,
    select_region: int | None = None,
    size: tuple[int, int] = (1600, 1000),
    jump: bool = False,
    tool: str | None = None,
    detect: bool = False,
    overlay: bool = False,
) -> int:
    if compare is not None and compare not in MODES:
        raise ExaminerError(f"unknown compare mode {compare!r}; choose one of {', '.join(MODES)}")
    headless = screenshot is not None
    choose_platform(headless)
    app = application()
    collector = MainThreadCollector(app)
    try:
        return _show_window(
            app, headless, case=case, image=image, examiner=examiner, actor=actor, demo=demo, screenshot=screenshot, compare=compare, select_region=select_region,
            size=size, jump=jump, tool=tool, detect=detect, overlay=overlay,
        )
    finally:
        collector.uninstall()
        collector.deleteLater()


def _show_window(
    app: QApplication,
    headless: bool,
    *,
    case: str | None,
    image: str | None,
    examiner: str | None,
    actor: str | None,
    demo: bool,
    screenshot: str | None,
    compare: str | None,
    select_region: int | None,
    size: tuple[int, int],
    jump: bool,
    tool: str | None,
    detect: bool,
    overlay: bool,
) -> int:
    window = MainWindow(interactive=not headless)
    if headless:
        window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    window.resize(*size)
    if actor:
        from examiner.gui.acting_person import set_acting_person

        set_acting_person(window, actor)
    window.show()
    if not headless:
        from examiner.gui.workers import prewarm_workers

        # Worker processes import torch and the analysis code now, at low priority, so the
        # first detection or re-compression starts at once and never competes with the window.
        prewarm_workers()
    case_path = case
    if demo and case_path is None:
        from examiner.demo import ensure_demo_case

        if headless:
            case_path = str(ensure_demo_case())
        else:
            # The first run builds the demo (a neural codec run): keep the window alive meanwhile.
            from examiner.gui.analysis_tasks import build_demo

            window.jobs.submit_process(
                "Building the demo case", build_demo, on_done=lambda p: window.open_case(p), on_error=window.show_error
            )
    if case_path is not None and not window.open_case(case_path) and headless:
        raise ExaminerError(window.messages[-1] if window.messages else f"{case_path}: could not be opened")
    if image is not None:
        started = window.open_image(image, examiner)
        if headless:
            settle(app, window, timeout_s=600)
            if not started or window.session is None:
                raise ExaminerError(window.messages[-1] if window.messages else f"{image}: could not be opened")
    if compare is not None and compare != "evidence":
        if not window.comparison_key:
            sources = window.evidence.comparison_sources()
            if sources:
                window.analysis_panel.select_comparison(sources[0].key)
        window.set_compare_mode(compare)
    if select_region is not None:
        if jump:
            window.regions.jump_to_region(select_region)
        else:
            window.regions.select_region(select_region)
    if tool is not None:
        window.set_tool(tool)
    if detect:
        window.analysis.run_detection()
        if headless:
            settle(app, window, timeout_s=600)
    if overlay:
        window.analysis_panel.tile_overlay.setChecked(True)
    if not headless:
        return app.exec()
    settle(app, window)
    if compare == "swipe" and window.view.swipe_x is not None and window.view.pyramid is not None:
        window.view.viewport().update()
    settle(app, window)
    out = Path(screenshot)  # type: ignore[arg-type]
    window.grab_png(out)
    for m in window.messages:
        print(f"examiner gui: {m}", file=sys.stderr)
    window.close()
    return 0
