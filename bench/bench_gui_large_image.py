"""Frame times of the image view on a 100-megapixel image (offscreen).

Renders the view's viewport at fit-to-window, 100% and 32x, and while panning at 100%, and prints
the time per frame. The first fit-to-window frame builds the level-of-detail pyramid and is
reported apart. Usage: ``python bench/bench_gui_large_image.py [--megapixels 100]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from examiner.gui.image_view import ImageView  # noqa: E402
from examiner.gui.main_thread_gc import MainThreadCollector  # noqa: E402
from examiner.gui.tiles import ImagePyramid  # noqa: E402


def frame(view: ImageView, target: QImage) -> float:
    t = time.perf_counter()
    p = QPainter(target)
    view.render(p)
    p.end()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--megapixels", type=float, default=100.0)
    args = ap.parse_args()
    app = QApplication([])
    MainThreadCollector(app)  # as the application runs: cycles are collected on this thread
    side = int(np.sqrt(args.megapixels * 1e6 / 1.5))
    h, w = side, int(side * 1.5)
    t = time.perf_counter()
    rng = np.random.default_rng(0)
    # A textured image with structure at every scale, generated row block by row block.
    img = np.empty((h, w, 3), np.uint8)
    xs = np.arange(w, dtype=np.float32)
    for y0 in range(0, h, 1024):
        ys = np.arange(y0, min(h, y0 + 1024), dtype=np.float32)[:, None]
        base = 128 + 60 * np.sin(xs / 37.0) * np.cos(ys / 53.0)
        img[y0 : y0 + len(ys)] = np.clip(base[:, :, None] + rng.integers(-20, 20, (len(ys), w, 3)), 0, 255)
    print(f"image: {w} x {h} = {w * h / 1e6:.1f} MP ({img.nbytes / 2**20:.0f} MiB), generated in {time.perf_counter() - t:.1f} s")
    view = ImageView()
    view.resize(1600, 1000)
    view.show()
    app.processEvents()
    target = QImage(view.viewport().size(), QImage.Format.Format_RGB32)
    pyr = ImagePyramid(img)
    view.set_pyramid(pyr)
    t_first = frame(view, target)
    print(f"first fit-to-window frame (builds the pyramid): {1000 * t_first:.0f} ms")
    fit = [frame(view, target) for _ in range(10)]
    print(f"fit-to-window frame: median {1000 * statistics.median(fit):.1f} ms, max {1000 * max(fit):.1f} ms")
    results = {}
    for zoom in (0.25, 1.0, 32.0):
        view.set_zoom(zoom)
        view.centerOn(QPointF(w / 2, h / 2))
        frame(view, target)  # tiles of this level into the cache
        times = []
        for i in range(30):
            # Pan by a third of the viewport per frame: new tiles come in every few frames.
            view.centerOn(QPointF(w / 2 + i * 530 / zoom, h / 2 + i * 330 / zoom))
            times.append(frame(view, target))
        results[zoom] = times
        print(
            f"panning at {100 * zoom:.0f}%: median {1000 * statistics.median(times):.1f} ms, "
            f"max {1000 * max(times):.1f} ms per frame"
        )
    zoom_times = []
    for z in (0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 8, 1, 0.1):
        view.set_zoom(z)
        zoom_times.append(frame(view, target))
    print(f"zoom steps fit..32x..fit: median {1000 * statistics.median(zoom_times):.1f} ms, max {1000 * max(zoom_times):.1f} ms per frame")
    worst = max(max(v) for v in results.values())
    print(f"worst frame after the pyramid is built: {1000 * max(worst, max(zoom_times), max(fit)):.1f} ms")
    view.close()
    app.quit()


if __name__ == "__main__":
    main()
