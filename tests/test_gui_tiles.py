"""The tiled view shows the evidence pixels exactly, at every zoom, on both pyramid paths."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage, QPainter

import examiner.gui.tiles as tiles
from examiner.gui.image_view import ImageView
from examiner.gui.tiles import ImagePyramid, numpy_to_qimage


def _render(view: ImageView) -> QImage:
    target = QImage(view.viewport().size(), QImage.Format.Format_RGB32)
    target.fill(0)
    p = QPainter(target)
    view.render(p)
    p.end()
    return target


@pytest.mark.parametrize("background", [False, True])
def test_pixels_are_exact_above_100_percent(qtbot: object, monkeypatch: pytest.MonkeyPatch, background: bool) -> None:
    if background:
        monkeypatch.setattr(tiles, "SYNC_BUILD_PIXELS", 0)
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (700, 1100, 3), dtype=np.uint8)
    view = ImageView()
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    view.resize(400, 300)
    view.show()
    view.set_pyramid(ImagePyramid(img))
    for zoom, centre in ((1.0, (550.5, 350.5)), (8.0, (1000.5, 600.5)), (32.0, (3.5, 4.5))):
        view.set_zoom(zoom)
        view.centerOn(QPointF(*centre))
        shot = _render(view)
        for vx, vy in ((200, 150), (10, 10), (390, 290)):
            sp = view.mapToScene(vx, vy)
            x, y = int(sp.x()), int(sp.y())
            if 0 <= x < 1100 and 0 <= y < 700:
                c = shot.pixelColor(vx, vy)
                assert (c.red(), c.green(), c.blue()) == tuple(int(v) for v in img[y, x]), (zoom, vx, vy)
    # Zoomed out: the whole image is drawn from a reduced level, without gaps.
    view.fit()
    shot = _render(view)
    c = view.mapFromScene(QPointF(550, 350))
    assert shot.pixelColor(c.x(), c.y()).rgb() != 0xFF000000


def test_pyramid_levels_and_background_build(monkeypatch: pytest.MonkeyPatch, qtbot: object) -> None:
    monkeypatch.setattr(tiles, "SYNC_BUILD_PIXELS", 0)
    img = np.full((2048, 3000, 3), 100, np.uint8)
    img[::2, ::2] = 200  # a 2 x 2 pattern averages to 125 exactly
    pyr = ImagePyramid(img)
    assert pyr.level_for_scale(1.0) == 0 and pyr.level_for_scale(0.5) == 1 and pyr.level_for_scale(0.3) == 1
    assert pyr.level_shape(1) == (1024, 1500)
    pm = pyr.tile(2, 0, 0)  # not built yet: a preview tile, and the builder starts
    assert pm.width() == 512
    qtbot.waitUntil(lambda: len(pyr.levels) == pyr.max_level() + 1, timeout=10_000)  # type: ignore[attr-defined]
    assert pyr.levels[1].shape == (1024, 1500, 3)
    assert int(pyr.levels[1][10, 10, 0]) == 125


def test_numpy_to_qimage_copies_rows_with_padding() -> None:
    arr = np.arange(3 * 5 * 3, dtype=np.uint8).reshape(3, 5, 3)  # 15 bytes a row: Qt pads to 16
    img = numpy_to_qimage(arr)
    assert (img.width(), img.height()) == (5, 3)
    c = img.pixelColor(4, 2)
    assert (c.red(), c.green(), c.blue()) == tuple(int(v) for v in arr[2, 4])
