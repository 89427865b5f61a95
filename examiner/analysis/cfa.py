"""Camera-pipeline evidence: traces of colour-filter-array (Bayer) demosaicking.

A camera sensor records one colour per pixel through a 2x2 Bayer pattern, and demosaicking
interpolates the two missing colours. An interpolated sample is predicted well by its
neighbours; a recorded one is not. So in a demosaicked image the prediction residual of each
colour plane differs between the positions of the 2x2 cell (Popescu & Farid 2005; Kirchner
2010): green on one quincunx lattice against the other (a *diagonal* contrast), red and blue on
one row and one column against the rest (*row* and *column* contrasts). A learned decoder
synthesises all three colours at every pixel from a latent; its stride-2 up-sampling can leave
a 2x2 pattern too, but the same one in every plane, not green's quincunx against red and blue's
rows and columns.

Strong JPEG, resizing and heavy denoising erase these traces, so their absence is neutral, and
only their presence (green's diagonal contrast beside red and blue's row and column contrasts)
speaks for a camera. The features are log contrasts (0 = no difference between positions).
"""

from __future__ import annotations

import numpy as np

# The centre crop the features are measured on: enough cells for stable means, and the cost
# stays flat for large images.
MAX_SIDE = 1024

FEATURES = ("cfa_g_diag", "cfa_g_rowcol", "cfa_rb_rowcol", "cfa_rb_diag", "cfa_bayer")


def _phase_means(plane: np.ndarray) -> np.ndarray:
    """Mean absolute 4-neighbour prediction residual at each of the four 2x2 positions."""
    p = plane
    r = np.abs(p[1:-1, 1:-1] - 0.25 * (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]))
    h, w = (r.shape[0] // 2) * 2, (r.shape[1] // 2) * 2
    cells = r[:h, :w].reshape(h // 2, 2, w // 2, 2)
    return cells.mean(axis=(0, 2)) + 1e-6  # [row phase, column phase]


def _contrasts(m: np.ndarray) -> tuple[float, float, float]:
    diag = abs(float(np.log((m[0, 0] + m[1, 1]) / (m[0, 1] + m[1, 0]))))
    row = abs(float(np.log((m[0, 0] + m[0, 1]) / (m[1, 0] + m[1, 1]))))
    col = abs(float(np.log((m[0, 0] + m[1, 0]) / (m[0, 1] + m[1, 1]))))
    return diag, row, col


def features(pixels: np.ndarray) -> dict[str, float]:
    """CFA contrasts of an RGB image (all zero for greyscale, which has no colour planes)."""
    if pixels.ndim != 3 or pixels.shape[2] < 3:
        return dict.fromkeys(FEATURES, 0.0)
    h, w = pixels.shape[:2]
    ch, cw = min(h, MAX_SIDE), min(w, MAX_SIDE)
    # Even offsets keep the 2x2 phase of the sensor grid.
    y0, x0 = ((h - ch) // 4) * 2, ((w - cw) // 4) * 2
    # The contrasts are ratios, so 8- and 16-bit samples need no rescaling.
    crop = pixels[y0:y0 + ch, x0:x0 + cw, :3].astype(np.float32)
    r_d, r_r, r_c = _contrasts(_phase_means(crop[..., 0]))
    g_d, g_r, g_c = _contrasts(_phase_means(crop[..., 1]))
    b_d, b_r, b_c = _contrasts(_phase_means(crop[..., 2]))
    g_rowcol = 0.5 * (g_r + g_c)
    rb_rowcol = 0.25 * (r_r + r_c + b_r + b_c)
    rb_diag = 0.5 * (r_d + b_d)
    return {
        "cfa_g_diag": g_d, "cfa_g_rowcol": g_rowcol, "cfa_rb_rowcol": rb_rowcol, "cfa_rb_diag": rb_diag,
        # Bayer's signature: green's diagonal and red/blue's row-column contrasts both present,
        # beyond what a pattern common to all planes would give.
        "cfa_bayer": min(g_d - g_rowcol, rb_rowcol - rb_diag),
    }
