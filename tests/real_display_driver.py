"""Run by tests/test_gui_real_display.py in its own process, on a real X server (Xvfb).

Opens a case in the main window on Qt's xcb platform, waits for the first paint, grabs the
screen, then drives the window with real X input events (XTest: the X server delivers them to
Qt through xcb, as a user's mouse and keyboard would): F5 for the difference compare mode, B and
a mouse drag for a new rectangle region, Ctrl+Z to undo it. Writes screen grabs and a JSON
report into the output folder and exits 0 when the window closed cleanly.

Usage: python tests/real_display_driver.py CASE OUT_DIR
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF
from PySide6.QtWidgets import QApplication

from examiner.gui.app import application, choose_platform
from examiner.gui.main_window import MainWindow


class XTest:
    """Fake mouse and keyboard input injected into the X server (libXtst)."""

    def __init__(self) -> None:
        x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        xtst = ctypes.CDLL(ctypes.util.find_library("Xtst") or "libXtst.so.6")
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XFlush.argtypes = [ctypes.c_void_p]
        x11.XStringToKeysym.restype = ctypes.c_ulong
        x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
        x11.XKeysymToKeycode.restype = ctypes.c_ubyte
        x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ulong]
        xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        self.x11, self.xtst = x11, xtst
        self.dpy = x11.XOpenDisplay(None)
        if not self.dpy:
            raise RuntimeError("XOpenDisplay failed")

    def move(self, x: int, y: int) -> None:
        self.xtst.XTestFakeMotionEvent(self.dpy, -1, x, y, 0)
        self.x11.XFlush(self.dpy)

    def button(self, down: bool) -> None:
        self.xtst.XTestFakeButtonEvent(self.dpy, 1, int(down), 0)
        self.x11.XFlush(self.dpy)

    def keys(self, *names: str) -> None:
        """Press the keys in order and release them in reverse (a chord such as Control_L z)."""
        codes = [self.x11.XKeysymToKeycode(self.dpy, self.x11.XStringToKeysym(n.encode())) for n in names]
        for c in codes:
            self.xtst.XTestFakeKeyEvent(self.dpy, c, 1, 0)
        for c in reversed(codes):
            self.xtst.XTestFakeKeyEvent(self.dpy, c, 0, 0)
        self.x11.XFlush(self.dpy)


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def pump(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


def wait_for(app: QApplication, what: str, ok: Callable[[], bool], timeout_s: float = 30.0) -> None:
    end = time.monotonic() + timeout_s
    while not ok():
        if time.monotonic() > end:
            raise SystemExit(f"real-display driver: timed out waiting for {what}")
        pump(app, 0.02)


def main(case: str, out_dir: str) -> int:
    out = Path(out_dir)
    choose_platform(headless=False)  # the start-up check the `examiner gui` command makes
    app = application()
    report: dict[str, Any] = {"platform": app.platformName()}
    window = MainWindow(interactive=False)
    window.resize(1200, 800)
    window.move(40, 30)
    window.show()
    window.raise_()
    window.activateWindow()
    view = window.view
    paints = PaintCounter()
    view.viewport().installEventFilter(paints)
    if not window.open_case(case):
        raise SystemExit(f"real-display driver: could not open {case}: {window.messages}")
    wait_for(app, "the case to load", lambda: view.pyramid is not None and not window.jobs.active(), 60)
    first = paints.count
    view.viewport().update()
    wait_for(app, "the first paint of the evidence", lambda: paints.count > first)
    pump(app, 0.5)
    screen = app.primaryScreen()
    screen.grabWindow(0).save(str(out / "screen.png"), "PNG")
    window.grab().save(str(out / "window.png"), "PNG")
    top_left = window.mapToGlobal(QPoint(0, 0))
    vp = view.viewport()
    vp_top_left = vp.mapToGlobal(QPoint(0, 0))
    report.update(
        screen_size=[screen.size().width(), screen.size().height()],
        window_rect=[top_left.x(), top_left.y(), window.width(), window.height()],
        view_rect=[vp_top_left.x(), vp_top_left.y(), vp.width(), vp.height()],
        title=window.windowTitle(),
        region_rows=[window.regions_panel.list.item(i).text() for i in range(window.regions_panel.list.count())],
    )

    x = XTest()
    # Without a window manager X gives the keyboard to the window under the pointer.
    centre = vp.mapToGlobal(QPoint(vp.width() // 2, vp.height() // 2))
    x.move(centre.x(), centre.y())
    pump(app, 0.3)
    report["active_window"] = QApplication.activeWindow() is window

    x.keys("F5")  # Compare > Difference
    wait_for(app, "the difference mode", lambda: window.compare.mode == "difference", 10)
    pump(app, 0.5)
    screen.grabWindow(0).save(str(out / "screen-difference.png"), "PNG")
    report["mode_after_f5"] = window.compare.mode
    x.keys("F1")
    wait_for(app, "the evidence mode", lambda: window.compare.mode == "evidence", 10)

    evidence_id = window.evidence_id
    session = window.session
    assert session is not None and evidence_id is not None
    before = {r.id for r in session.regions(evidence_id)}
    x.keys("b")  # Tools > Rectangle
    wait_for(app, "the rectangle tool", lambda: view.tool == "rect", 10)

    def at(sx: float, sy: float) -> QPoint:
        return vp.mapToGlobal(view.mapFromScene(QPointF(sx, sy)))

    start, end = at(100, 60), at(220, 140)
    x.move(start.x(), start.y())
    pump(app, 0.1)
    x.button(True)
    for i in range(1, 11):
        x.move(start.x() + (end.x() - start.x()) * i // 10, start.y() + (end.y() - start.y()) * i // 10)
        pump(app, 0.03)
    x.button(False)
    wait_for(app, "the drawn region", lambda: len(session.regions(evidence_id)) == len(before) + 1, 10)
    drawn = next(r for r in session.regions(evidence_id) if r.id not in before)
    report["drawn_region"] = {"kind": str(drawn.kind), "points": [list(p) for p in drawn.points]}
    pump(app, 0.3)
    screen.grabWindow(0).save(str(out / "screen-region.png"), "PNG")
    x.keys("Control_L", "z")  # Edit > Undo
    wait_for(app, "the undo", lambda: {r.id for r in session.regions(evidence_id)} == before, 10)
    report["undone"] = True
    report["messages"] = list(window.messages)

    view.viewport().removeEventFilter(paints)
    window.close()
    pump(app, 0.3)
    report["closed"] = not window.isVisible()
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
