"""Pixel-exact comparison maps between the evidence and a comparison image.

The GUI's compare modes and the report draw on the same functions, so a difference or SSIM map
shown on screen is the one a reader can recompute. Everything here is numpy on arrays as the
intake delivers them (``H x W`` or ``H x W x 3``, ``uint8`` or ``uint16``); nothing resamples,
because a one-pixel shift would itself look like a change. Images of different sizes are refused
with a message rather than silently cropped or scaled.

Display helpers (contrast stretch, histogram equalisation, 16-to-8-bit) change only what is shown
on screen, never the data that analyses or reports read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from examiner.errors import ExaminerError

# SSIM constants from Wang et al. (2004): K1 = 0.01, K2 = 0.03, Gaussian window sigma 1.5.
SSIM_K1 = 0.01
SSIM_K2 = 0.03
SSIM_SIGMA = 1.5

# Maps are computed in row strips of about this many pixels, so a 100-megapixel pair never needs
# several full-size float copies at once.
STRIP_PIXELS = 2_000_000

COLOR_MAPS: tuple[str, ...] = ("heat", "grey", "viridis", "diverging")
DISPLAY_MODES: tuple[str, ...] = ("none", "stretch", "equalize")

METHOD = {
    "name": "Local comparison maps",
    "description": (
        "Absolute per-pixel difference (maximum over colour channels, scaled by a display gain) and "
        "a local structural-similarity (SSIM) map on luma with an 11-tap Gaussian window "
        "(sigma 1.5, K1 = 0.01, K2 = 0.03), computed on the images exactly as stored, without "
        "resampling or alignment search."
    ),
    "parameters": {"ssim_sigma": SSIM_SIGMA, "ssim_k1": SSIM_K1, "ssim_k2": SSIM_K2},
    "limitations": (
        "Both images must have identical dimensions; a shifted or rescaled comparison shows as "
        "change everywhere. SSIM is a perceptual proxy: a low value marks structure worth looking "
        "at, not a semantic change."
    ),
    "citations": ["wang2004ssim"],
}


def describe_size(img: np.ndarray) -> str:
    h, w = img.shape[:2]
    ch = 1 if img.ndim == 2 else img.shape[2]
    return f"{w}x{h} ({ch} channel{'s' if ch != 1 else ''}, {img.dtype})"


def check_aligned(a: np.ndarray, b: np.ndarray, a_name: str = "evidence", b_name: str = "comparison") -> None:
    """Refuse to compare images whose pixel grids differ."""
    if a.shape[:2] != b.shape[:2]:
        raise ExaminerError(
            f"cannot compare {a_name} ({describe_size(a)}) with {b_name} ({describe_size(b)}): "
            "compare modes need images of the same width and height, because alignment is "
            "pixel-exact and nothing is rescaled or cropped"
        )


def to_unit_rgb(img: np.ndarray) -> np.ndarray:
    """``float32`` RGB in [0, 1]; grey is repeated into three channels, 16-bit scaled by 65535."""
    if img.dtype == np.uint16:
        f = img.astype(np.float32) / 65535.0
    elif img.dtype == np.uint8:
        f = img.astype(np.float32) / 255.0
    elif np.issubdtype(img.dtype, np.floating):
        f = np.clip(img.astype(np.float32), 0.0, 1.0)
    else:
        raise ExaminerError(f"unsupported pixel type {img.dtype} for comparison")
    if f.ndim == 2:
        f = np.repeat(f[:, :, None], 3, axis=2)
    elif f.ndim == 3 and f.shape[2] == 4:
        f = f[:, :, :3]
    elif f.ndim == 3 and f.shape[2] == 1:
        f = np.repeat(f, 3, axis=2)
    return f


def luma(img: np.ndarray) -> np.ndarray:
    """Rec. 601 luma in [0, 1] as ``float32``."""
    f = to_unit_rgb(img)
    return (0.299 * f[:, :, 0] + 0.587 * f[:, :, 1] + 0.114 * f[:, :, 2]).astype(np.float32)


def to_display_uint8(img: np.ndarray) -> np.ndarray:
    """8-bit RGB for the screen; 16-bit data is reduced by rounding, never by clipping."""
    if img.dtype == np.uint8:
        out = img
    elif img.dtype == np.uint16:
        out = ((img.astype(np.uint32) + 128) // 257).astype(np.uint8)
    else:
        out = (np.clip(img.astype(np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)
    if out.ndim == 2:
        out = np.repeat(out[:, :, None], 3, axis=2)
    elif out.shape[2] == 4:
        out = out[:, :, :3]
    return np.ascontiguousarray(out)


def abs_difference(a: np.ndarray, b: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """Per-pixel absolute difference, maximum over channels, times ``gain``, clipped to [0, 1]."""
    check_aligned(a, b)
    out = np.zeros(a.shape[:2], dtype=np.float32)
    # Row strips keep the float working set small for 100-megapixel images.
    step = max(1, 2 * STRIP_PIXELS // max(1, a.shape[1]))
    for y in range(0, a.shape[0], step):
        fa = to_unit_rgb(a[y : y + step])
        fb = to_unit_rgb(b[y : y + step])
        out[y : y + step] = np.abs(fa - fb).max(axis=2)
    if gain != 1.0:
        out *= np.float32(gain)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def difference_stats(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Summary figures for the difference: max and mean absolute difference in 8-bit units, PSNR."""
    d = abs_difference(a, b)
    mse = 0.0
    step = max(1, 2 * STRIP_PIXELS // max(1, a.shape[1]))
    for y in range(0, a.shape[0], step):
        diff = to_unit_rgb(a[y : y + step]) - to_unit_rgb(b[y : y + step])
        mse += float(np.square(diff, dtype=np.float64).sum())
    mse /= float(a.shape[0] * a.shape[1] * 3)
    psnr = float("inf") if mse == 0 else float(10.0 * np.log10(1.0 / mse))
    return {
        "max_abs_diff": float(d.max()) * 255.0,
        "mean_abs_diff": float(d.mean()) * 255.0,
        "changed_share_percent": 100.0 * float((d > 0).mean()),
        "psnr_db": psnr,
    }


def ssim_map(a: np.ndarray, b: np.ndarray, sigma: float = SSIM_SIGMA) -> np.ndarray:
    """Local SSIM on luma (Gaussian window), same size as the inputs, values in [-1, 1]."""
    check_aligned(a, b)
    h, w = a.shape[:2]
    out = np.empty((h, w), dtype=np.float32)
    halo = int(np.ceil(4 * sigma)) + 1
    step = max(16, STRIP_PIXELS // max(1, w))
    c1 = (SSIM_K1 * 1.0) ** 2
    c2 = (SSIM_K2 * 1.0) ** 2
    for y0 in range(0, h, step):
        y1 = min(h, y0 + step)
        s0, s1 = max(0, y0 - halo), min(h, y1 + halo)
        x = luma(a[s0:s1]).astype(np.float64)
        z = luma(b[s0:s1]).astype(np.float64)

        def blur(v: np.ndarray) -> np.ndarray:
            return ndimage.gaussian_filter(v, sigma, mode="reflect", truncate=3.5)

        mx, mz = blur(x), blur(z)
        vx = blur(x * x) - mx * mx
        vz = blur(z * z) - mz * mz
        cxz = blur(x * z) - mx * mz
        s = ((2 * mx * mz + c1) * (2 * cxz + c2)) / ((mx * mx + mz * mz + c1) * (vx + vz + c2))
        out[y0:y1] = s[y0 - s0 : y0 - s0 + (y1 - y0)].astype(np.float32)
    return out


def mean_ssim(a: np.ndarray, b: np.ndarray) -> float:
    return float(ssim_map(a, b).mean())


_MAP_STOPS: dict[str, Sequence[tuple[float, tuple[int, int, int]]]] = {
    "grey": ((0.0, (0, 0, 0)), (1.0, (255, 255, 255))),
    "heat": (
        (0.0, (0, 0, 0)),
        (0.35, (160, 20, 10)),
        (0.7, (250, 170, 20)),
        (1.0, (255, 255, 230)),
    ),
    # Approximates matplotlib's viridis with five stops; perceptually ordered, colour-blind safe.
    "viridis": (
        (0.0, (68, 1, 84)),
        (0.25, (59, 82, 139)),
        (0.5, (33, 145, 140)),
        (0.75, (94, 201, 98)),
        (1.0, (253, 231, 37)),
    ),
    "diverging": ((0.0, (40, 70, 160)), (0.5, (245, 245, 245)), (1.0, (180, 30, 40))),
}


def color_lut(name: str) -> np.ndarray:
    """A 256 x 3 ``uint8`` lookup table for a colour map."""
    if name not in _MAP_STOPS:
        raise ExaminerError(f"unknown colour map {name!r}; choose one of {', '.join(COLOR_MAPS)}")
    stops = _MAP_STOPS[name]
    xs = np.array([s[0] for s in stops])
    grid = np.linspace(0.0, 1.0, 256)
    lut = np.stack([np.interp(grid, xs, [s[1][c] for s in stops]) for c in range(3)], axis=1)
    return np.round(lut).astype(np.uint8)


def apply_colormap(values: np.ndarray, name: str = "heat") -> np.ndarray:
    """Map values in [0, 1] to an ``H x W x 3`` ``uint8`` image."""
    idx = np.clip(values * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return color_lut(name)[idx]


def difference_image(a: np.ndarray, b: np.ndarray, gain: float = 4.0, colormap: str = "heat") -> np.ndarray:
    return apply_colormap(abs_difference(a, b, gain), colormap)


def ssim_image(a: np.ndarray, b: np.ndarray, colormap: str = "heat") -> np.ndarray:
    """Dissimilarity shown bright: SSIM 1 maps to the bottom of the colour map, SSIM 0 or below to
    the top."""
    s = ssim_map(a, b)
    return apply_colormap(np.clip(1.0 - s, 0.0, 1.0), colormap)


def display_lut(img8: np.ndarray, mode: str) -> np.ndarray | None:
    """Display-only contrast as a 256 x 3 lookup table (``None`` for no change).

    ``stretch`` maps the 0.5-99.5 percentiles of each channel to the full range; ``equalize``
    equalises the luma histogram and applies the same curve to every channel. A table rather than
    a new image, so the screen can apply it tile by tile on 100-megapixel images.
    """
    if mode == "none":
        return None
    if mode not in DISPLAY_MODES:
        raise ExaminerError(f"unknown display mode {mode!r}; choose one of {', '.join(DISPLAY_MODES)}")
    rgb = img8 if img8.ndim == 3 else img8[:, :, None].repeat(3, axis=2)
    # Percentiles and histograms come from a subsample: the result is a display mapping, and a
    # full pass over 100 megapixels would stall the screen for no visible gain.
    stride = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / 1_000_000)))
    sample = to_display_uint8(rgb[::stride, ::stride])
    ramp = np.arange(256, dtype=np.float64)
    if mode == "stretch":
        lut = np.empty((256, 3), dtype=np.uint8)
        for c in range(3):
            lo, hi = np.percentile(sample[:, :, c], (0.5, 99.5))
            lut[:, c] = ramp if hi <= lo else np.clip((ramp - lo) * 255.0 / (hi - lo), 0, 255)
        return lut
    y = (0.299 * sample[:, :, 0] + 0.587 * sample[:, :, 1] + 0.114 * sample[:, :, 2]).astype(np.uint8)
    cdf = np.cumsum(np.bincount(y.ravel(), minlength=256).astype(np.float64))
    first = cdf[cdf > 0][0]
    curve = np.clip((cdf - first) / max(1.0, cdf[-1] - first) * 255.0, 0, 255)
    return np.repeat(curve[:, None], 3, axis=1).astype(np.uint8)


def apply_lut(img8: np.ndarray, lut: np.ndarray | None) -> np.ndarray:
    if lut is None:
        return img8
    out = np.empty_like(img8)
    for c in range(3):
        out[..., c] = lut[img8[..., c], c]
    return out


def display_adjust(img: np.ndarray, mode: str) -> np.ndarray:
    """The whole image with the display-only contrast of :func:`display_lut` applied."""
    rgb = to_display_uint8(img)
    return apply_lut(rgb, display_lut(rgb, mode))


def region_crop_box(box: tuple[int, int, int, int], shape: tuple[int, ...], margin: int = 8) -> tuple[int, int, int, int]:
    """A region's pixel box grown by ``margin`` and clipped to the image: (x0, y0, x1, y1)."""
    x, y, w, h = box
    H, W = shape[:2]
    return max(0, x - margin), max(0, y - margin), min(W, x + w + margin), min(H, y + h + margin)
