"""The window passes its settings to what it runs, and shows where a detection found the trace."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from detection_images import natural

from examiner.analysis import localise
from examiner.codecs import engine
from examiner.core.case import Case
from examiner.core.settings import Settings
from examiner.gui.main_window import MainWindow


def _window(qtbot: object, settings: Settings) -> MainWindow:
    w = MainWindow(interactive=False, settings=settings)
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    w.resize(1200, 800)
    w.show()
    return w


def _case_with(tmp_path: Path, image: np.ndarray) -> Path:
    img = tmp_path / "evidence.png"
    cv2.imwrite(str(img), np.ascontiguousarray(image[..., ::-1]))
    path = tmp_path / "case.mcase"
    with Case.create(path, "G1", "A. Examiner") as case:
        case.add_evidence(img)
    return path


def test_the_case_opens_under_the_windows_pixel_limit_and_examiner(qtbot: object, tmp_path: Path) -> None:
    path = _case_with(tmp_path, natural(64, 64, seed=2))
    w = _window(qtbot, Settings(max_pixels=1000, examiner_name="C. Window"))
    assert w.open_case(path)
    # The settings' name makes new cases; work in this one is credited to its examiner.
    assert w.session is not None and w.session.case.max_pixels == 1000 and w.session.case.actor == "A. Examiner"
    assert any("over the limit of 1,000" in m for m in w.messages), w.messages
    # New settings from the dialog reach the open case at once.
    w.apply_settings(Settings(max_pixels=5000))
    assert w.session.case.max_pixels == 5000


def test_the_flagged_area_is_drawn_over_the_tile_map(qtbot: object, tmp_path: Path) -> None:
    original = natural(768, 768, seed=0)
    decoded = engine.run("examiner-demo-mbt2018-mean-gan", original, 1).pixels
    spliced = original.copy()
    spliced[256:512, 320:576] = decoded[256:512, 320:576]
    w = _window(qtbot, Settings())
    assert w.open_case(_case_with(tmp_path, spliced))
    w.analysis.run_detection()
    qtbot.waitUntil(lambda: not w.jobs.active(), timeout=120_000)  # type: ignore[attr-defined]
    assert w.detection is not None, w.messages
    boxes = w.analysis._localised
    assert boxes and all(b.parentItem() is w.tile_overlay for b in boxes)
    # In image pixels the drawn box lies over the pasted one.
    r = w.tile_overlay.mapRectToScene(boxes[0].rect())
    assert 250 <= r.x() <= 330 and 200 <= r.y() <= 260 and r.width() >= 192
    # The heat map's strongest cell lies over the pasted box too (the map is placed by its cells).
    tm = w.detection.tile_map
    r_, c_ = np.unravel_index(int(np.nanargmax(tm)), tm.shape)
    centre = w.tile_overlay.mapToScene(c_ + 0.5, r_ + 0.5)
    assert 320 - 64 <= centre.x() <= 576 + 64 and 256 - 64 <= centre.y() <= 512 + 64
    # The full explanation, with the localisation paragraph, is in its own widenable panel.
    assert f"Localisation (model {localise.LOCAL_MODEL_VERSION}" in w.explanation_view.toPlainText()
    w.close()
    assert not w.analysis._localised


def test_map_cells_are_placed_over_the_tiles_they_average() -> None:
    from examiner.analysis import spectral
    from examiner.analysis.tile_grid import map_cell_placement

    # Half-overlapping tiles (stride 64): a cell averages tiles at 0 and 64, which span 0-192,
    # so its 128-pixel square is drawn from 32; full tiles (stride 128) need no offset.
    assert map_cell_placement(128) == (32.0, 128.0)
    assert map_cell_placement(256) == (0.0, 256.0)
    assert spectral.TILE == 128 and spectral.MAP_CELL_TILES == 2
