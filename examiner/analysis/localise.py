"""Where in an image the decoder trace is: a map for neural content pasted into a camera image.

A learned decoder's up-sampling pattern repeats with one phase over the whole of its output, so
the 16x16 cells of a region that came out of a decoder add up in phase at the decoder grid
frequencies (the same statistic as :func:`spectral.coherence_features`, here in a sliding window
of ``WINDOW`` x ``WINDOW`` cells). Camera content, noise and JPEG blocks add up with random
phases: the statistic is about 1 there.

A window that lies a fraction f inside a decoded region has a coherent part of about f^2 times
that of a window wholly inside it, so the region is taken as the window centres whose coherent
excess (statistic minus 1) is at least a quarter of the largest one: the centres of windows at
least half inside. Nothing is flagged unless the largest statistic passes ``threshold``, which
is set on untouched images (``bench/bench_localisation.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import fft as sfft

from examiner.analysis import spectral

CELL = spectral.COHERENCE_CELL
WINDOW = 12  # cells: 192 pixels
GROUPS = ("y_coh4_diag", "y_coh8_diag", "y_coh16_diag")


@dataclass
class Localisation:
    coherence: np.ndarray  # float32, log of the statistic per window centre (one value per cell)
    mask: np.ndarray  # bool, cells judged to be decoder output
    cell: int
    threshold: float
    flagged: bool

    def bbox(self) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1) in pixels of the flagged cells, None when nothing is flagged."""
        if not self.mask.any():
            return None
        ys, xs = np.nonzero(self.mask)
        return int(xs.min() * self.cell), int(ys.min() * self.cell), int((xs.max() + 1) * self.cell), int((ys.max() + 1) * self.cell)

    def pixel_mask(self, shape: tuple[int, int]) -> np.ndarray:
        m = np.kron(self.mask, np.ones((self.cell, self.cell), bool))
        out = np.zeros(shape, bool)
        h, w = min(shape[0], m.shape[0]), min(shape[1], m.shape[1])
        out[:h, :w] = m[:h, :w]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"flagged": self.flagged, "bbox": self.bbox(), "cells_flagged": int(self.mask.sum()),
                "cell": self.cell, "window_cells": WINDOW, "threshold": self.threshold,
                "max_log_coherence": round(float(self.coherence.max()), 3) if self.coherence.size else None}


def _box_sum(a: np.ndarray, win: int) -> np.ndarray:
    """Sums over every win x win block of the first two axes ('valid' positions)."""
    c = np.pad(a, ((1, 0), (1, 0)) + ((0, 0),) * (a.ndim - 2)).cumsum(0).cumsum(1)
    return c[win:, win:] - c[:-win, win:] - c[win:, :-win] + c[:-win, :-win]


def coherence_map(pixels: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Log coherence statistic of every window, placed at the cell of its centre (same grid as
    the cells; border cells without a full window get the nearest window's value)."""
    res = spectral.residual(spectral.luma(pixels))
    rows, cols = res.shape[0] // CELL, res.shape[1] // CELL
    if rows < window or cols < window:
        return np.zeros((max(rows, 0), max(cols, 0)), np.float32)
    cells = np.ascontiguousarray(res[: rows * CELL, : cols * CELL].reshape(rows, CELL, cols, CELL).transpose(0, 2, 1, 3))
    f = sfft.rfft2(cells, axes=(-2, -1), workers=-1)
    best = None
    for g in GROUPS:
        pts = spectral._COHERENCE_POINTS[g]
        coef = np.stack([f[..., u, v] for u, v in pts], axis=-1)
        power = _box_sum((coef.real**2 + coef.imag**2).astype(np.float64), window)
        coherent = _box_sum(coef.real.astype(np.float64), window) ** 2 + _box_sum(coef.imag.astype(np.float64), window) ** 2
        z = np.log((coherent / (power + 1e-12)).mean(axis=-1) + 1e-12)
        best = z if best is None else np.maximum(best, z)
    assert best is not None
    lo = window // 2
    pad = ((lo, rows - best.shape[0] - lo), (lo, cols - best.shape[1] - lo))
    return np.pad(best, pad, mode="edge").astype(np.float32)


def localise(pixels: np.ndarray, threshold: float, window: int = WINDOW) -> Localisation:
    z = coherence_map(pixels, window)
    if z.size == 0 or float(z.max()) < threshold:
        return Localisation(z, np.zeros(z.shape, bool), CELL, threshold, False)
    excess = np.exp(z) - 1.0
    mask = excess >= 0.25 * float(excess.max())
    return Localisation(z, mask, CELL, threshold, True)
