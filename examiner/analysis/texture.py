"""Residual statistics that do not depend on a periodic trace.

At high rates a learned codec leaves little periodic structure, but it still behaves unlike a
camera or a classical codec in what it keeps of the finest detail: it denoises (sensor noise and
film grain go, flat areas become flatter than any camera's) while edges stay sharp and free of
block or ringing artefacts. These few numbers describe that, phase- and grid-free, so crops do
not change them:

* ``t_flat``: fraction of 8x8 cells whose high-pass residual has a standard deviation under
  0.5 grey levels (a camera's noise floor is above it almost everywhere);
* ``t_kurt``: log of the residual's kurtosis (denoised images keep only edges, which makes the
  residual's distribution heavy-tailed);
* ``t_band``: log ratio of the finest band's energy (pixel minus its 3x3 mean) to the next band's
  (3x3 mean minus 7x7 mean): how much of the detail a codec kept at the shortest scale;
* ``t_rms``: the residual's RMS in grey levels (used to tell a flat image, not as evidence).

Large images are sampled in bands of rows and columns, which bounds the cost.
"""

from __future__ import annotations

import cv2
import numpy as np

FEATURES = ("t_flat", "t_kurt", "t_band", "t_rms")
# Images up to this size (every image the model was fitted on) are analysed whole; larger ones in
# WINDOWS windows of WINDOW x WINDOW pixels spread over the image, each analysed as an image of
# its own, which bounds the cost (12 MP: about 0.1 s) without joining unrelated rows.
WHOLE_MAX_PIXELS = 2_500_000
WINDOW = 512
WINDOWS = 4


def _windows(y: np.ndarray) -> list[np.ndarray]:
    h, w = y.shape
    if h * w <= WHOLE_MAX_PIXELS or min(h, w) < WINDOW:
        return [y]
    ys = np.linspace(0, h - WINDOW, 2).astype(int)
    xs = np.linspace(0, w - WINDOW, WINDOWS // 2).astype(int)
    return [y[a : a + WINDOW, b : b + WINDOW] for a in ys for b in xs]


def features(luma: np.ndarray) -> dict[str, float]:
    y_all = np.ascontiguousarray(luma, dtype=np.float32)
    if min(y_all.shape) < 16:
        return {name: 0.0 for name in FEATURES}
    s2 = s4 = m2 = 0.0
    n = flat = cells_n = 0
    for y in _windows(y_all):
        y = np.ascontiguousarray(y)
        m3 = cv2.blur(y, (3, 3), borderType=cv2.BORDER_REFLECT)
        m7 = cv2.blur(y, (7, 7), borderType=cv2.BORDER_REFLECT)
        fine = (y - m3)[2:-2, 2:-2].astype(np.float64)
        mid = (m3 - m7)[2:-2, 2:-2].astype(np.float64)
        h, w = (fine.shape[0] // 8) * 8, (fine.shape[1] // 8) * 8
        cells = fine[:h, :w].reshape(h // 8, 8, w // 8, 8).std(axis=(1, 3))
        f2 = fine * fine
        s2 += float(f2.sum())
        s4 += float((f2 * f2).sum())
        m2 += float((mid * mid).sum())
        n += fine.size
        flat += int((cells < 0.5).sum())
        cells_n += cells.size
    var = s2 / n + 1e-9
    return {
        "t_flat": flat / max(1, cells_n),
        "t_kurt": float(np.log((s4 / n) / var**2 + 1e-9)),
        "t_band": float(np.log(var / (m2 / n + 1e-9))),
        # Not a model feature: the domain check's flatness test.
        "t_rms": float(np.sqrt(var)),
    }
