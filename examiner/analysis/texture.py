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

Rows are sampled in bands for large images, which bounds the cost (a 12 MP image: ~30 ms).
"""

from __future__ import annotations

import cv2
import numpy as np

FEATURES = ("t_flat", "t_kurt", "t_band", "t_rms")
_BAND_ROWS = 64
_MAX_ROWS = 1024  # rows analysed at most, in bands spread over the image


def _sample_rows(y: np.ndarray) -> np.ndarray:
    h = y.shape[0]
    if h <= _MAX_ROWS:
        return y
    starts = np.linspace(0, h - _BAND_ROWS, _MAX_ROWS // _BAND_ROWS).astype(int)
    return np.concatenate([y[s : s + _BAND_ROWS] for s in starts], axis=0)


def features(luma: np.ndarray) -> dict[str, float]:
    y = _sample_rows(np.ascontiguousarray(luma, dtype=np.float32))
    if min(y.shape) < 16:
        return {name: 0.0 for name in FEATURES}
    m3 = cv2.blur(y, (3, 3), borderType=cv2.BORDER_REFLECT)
    m7 = cv2.blur(y, (7, 7), borderType=cv2.BORDER_REFLECT)
    fine = (y - m3)[2:-2, 2:-2]
    mid = (m3 - m7)[2:-2, 2:-2]
    h, w = (fine.shape[0] // 8) * 8, (fine.shape[1] // 8) * 8
    cells = fine[:h, :w].reshape(h // 8, 8, w // 8, 8).std(axis=(1, 3))
    var = float(np.mean(fine.astype(np.float64) ** 2)) + 1e-9
    kurt = float(np.mean(fine.astype(np.float64) ** 4)) / var**2
    return {
        "t_flat": float(np.mean(cells < 0.5)),
        "t_kurt": float(np.log(kurt)),
        "t_band": float(np.log(var / (float(np.mean(mid.astype(np.float64) ** 2)) + 1e-9))),
        # Not a model feature: the domain check's flatness test.
        "t_rms": float(np.sqrt(var)),
    }
