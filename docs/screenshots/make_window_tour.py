"""Remake the screenshots of docs/guide/window-tour.md (headless, about two minutes on two cores).

    EXAMINER_DATA_DIR=/tmp/tour/data EXAMINER_CONFIG_DIR=/tmp/tour/config \
        python docs/screenshots/make_window_tour.py IMAGE.jpg docs/screenshots

IMAGE.jpg: the image opened in the tour (the guide's pictures use Kodak kodim23 saved as a JPEG
with a few EXIF tags). Use throw-away data and config folders: the script makes cases there and
sets the examiner's name. Pictures are 1600x1000 windows, scaled and palette-reduced to stay small.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    from PIL import Image
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPixmap
    from PySide6.QtWidgets import QGroupBox, QWidget

    from examiner.core.settings import Settings
    from examiner.gui.app import application, settle
    from examiner.gui.codecs_dialog import CodecsDialog
    from examiner.gui.main_window import MainWindow
    from examiner.gui.report_dialog import ReportDialog
    from examiner.gui.shortcuts_dialog import ShortcutsDialog
    from examiner.report.model import CONCLUSION_SCALE

    image, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    app = application()
    s = Settings.load()
    s.examiner_name = "Dr. A. Example"
    s.save()
    w = MainWindow(interactive=False)
    w.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    w.resize(1600, 1000)
    w.show()

    def save(pm: QPixmap, name: str, width: int = 1400, colors: int = 128) -> None:
        tmp = out / f".{name}.tmp.png"
        pm.save(str(tmp), "PNG")
        im = Image.open(tmp).convert("RGB")
        if im.width > width:
            im = im.resize((width, round(im.height * width / im.width)), Image.Resampling.LANCZOS)
        im.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out / f"{name}.png", optimize=True)
        tmp.unlink()
        print(name, (out / f"{name}.png").stat().st_size, "bytes", flush=True)

    def shot(name: str, colors: int = 128) -> None:
        settle(app, w)
        save(w.grab(), name, colors=colors)

    def dialog(d: QWidget, name: str) -> None:
        d.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        d.show()
        settle(app, w)
        save(d.grab(), name, width=d.width())
        d.close()

    assert w.open_image(image), w.messages
    settle(app, w, 300)
    case_path = w.session.path  # type: ignore[union-attr]
    w.close_case()
    shot("window-welcome")
    assert w.open_case(case_path)
    w.metadata_dock.raise_()
    shot("window-metadata")
    w.analysis.run_detection()
    settle(app, w, 600)
    w.analysis_panel.tile_overlay.setChecked(True)
    w.regions_dock.raise_()
    shot("window-detection-legend")
    w.explanation_dock.raise_()
    shot("window-explanation")
    w.analysis_panel.tile_overlay.setChecked(False)
    w.analysis_panel.request_recompression()
    settle(app, w, 600)
    w.set_compare_mode("difference")
    shot("window-difference-legend", colors=64)  # a noisy map: fewer colours keep the file small
    w.set_compare_mode("evidence")
    recompression = next(b for b in w.analysis_panel.findChildren(QGroupBox) if b.title() == "Re-compression")
    save(recompression.grab(), "window-codec-chooser", width=recompression.width())
    for _ in range(3):
        w.close_case()
        w.open_case(case_path)
        settle(app, w)
    w.audit_dock.raise_()
    w.resizeDocks([w.audit_dock], [250], Qt.Orientation.Vertical)
    w.audit_panel.table.selectRow(0)
    w.audit_panel.raw_button.setChecked(True)
    shot("window-audit")
    report = ReportDialog(w)
    report.summary.setPlainText("No trace of a neural codec was found; the image shows JPEG compression at quality 88.")
    report.level.setCurrentIndex(report.level.findData(CONCLUSION_SCALE[len(CONCLUSION_SCALE) // 2][0]))
    report.limitations.setPlainText("Only the file supplied was examined; no camera or original was available.")
    dialog(report, "window-report-dialog")
    dialog(CodecsDialog(w), "window-codecs-dialog")
    dialog(ShortcutsDialog(w), "window-shortcuts")
    for m in w.messages:
        print("message:", m)
    w.close()


if __name__ == "__main__":
    main()
