"""Images for the report: region crops and thumbnails, as 8-bit RGB arrays.

Crops are enlarged by pixel replication (an integer zoom) so that a PDF viewer's smoothing cannot
invent detail; large regions are reduced by an integer factor with block averaging instead, and
the report says which. The amplified difference is the shared comparison code's
:func:`~examiner.analysis.compare.abs_difference` (maximum over channels) times a stated gain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from examiner.core.regions import Region, ShapeKind
from examiner.report.model import Figure

# Longest side of a crop after zooming, in pixels: enough for print at ~3 crops per row.
CROP_TARGET_PX = 240
# Context around the region, as a share of its size (at least MIN_CONTEXT_PX pixels).
CONTEXT_SHARE = 0.35
MIN_CONTEXT_PX = 8
MIN_CROP_PX = 24
DIFFERENCE_GAIN = 4.0
THUMB_PX = 240
OVERVIEW_PX = 900


def to_rgb8(img: np.ndarray) -> np.ndarray:
    """8-bit RGB for display; 16-bit data is reduced by rounding."""
    if img.dtype == np.uint16:
        out = ((img.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif img.dtype == np.uint8:
        out = img
    else:
        out = (np.clip(img.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if out.ndim == 2:
        out = np.repeat(out[:, :, None], 3, axis=2)
    elif out.shape[2] == 1:
        out = np.repeat(out, 3, axis=2)
    elif out.shape[2] == 4:
        out = out[:, :, :3]
    return np.ascontiguousarray(out)


def figure(name: str, img: np.ndarray, caption: str = "") -> Figure:
    return Figure(name=name, rgb=to_rgb8(img), caption=caption)


def thumbnail(name: str, img: np.ndarray, max_px: int = THUMB_PX, caption: str = "") -> Figure:
    """A reduced copy for tables (area averaging, integer factor)."""
    rgb = to_rgb8(img)
    k = max(1, int(np.ceil(max(rgb.shape[:2]) / max_px)))
    return figure(name, _reduce(rgb, k), caption)


def _reduce(rgb: np.ndarray, k: int) -> np.ndarray:
    """Reduce by an integer factor, each output pixel the mean of a k x k block."""
    if k <= 1:
        return rgb
    h, w = (rgb.shape[0] // k) * k, (rgb.shape[1] // k) * k
    if h == 0 or w == 0:
        return rgb[:1, :1]
    from PIL import Image

    return np.asarray(Image.fromarray(np.ascontiguousarray(rgb[:h, :w])).reduce(k))


@dataclass
class RegionCrops:
    figures: list[Figure]
    origin: tuple[int, int]
    zoom: int  # > 0: enlarged by zoom; < 0: reduced by -zoom
    gain: float
    outline: list[tuple[float, float]]  # region shape in displayed crop pixels
    closed: bool
    ellipse: bool


def crop_box(region: Region, height: int, width: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the region plus context, clipped to the image."""
    x, y, w, h = region.bbox()
    ctx_x = max(MIN_CONTEXT_PX, int(round(w * CONTEXT_SHARE)))
    ctx_y = max(MIN_CONTEXT_PX, int(round(h * CONTEXT_SHARE)))
    x0, y0 = x - ctx_x, y - ctx_y
    x1, y1 = x + w + ctx_x, y + h + ctx_y
    # Grow tiny boxes so the crop still shows the surroundings.
    if x1 - x0 < MIN_CROP_PX:
        pad = (MIN_CROP_PX - (x1 - x0) + 1) // 2
        x0, x1 = x0 - pad, x1 + pad
    if y1 - y0 < MIN_CROP_PX:
        pad = (MIN_CROP_PX - (y1 - y0) + 1) // 2
        y0, y1 = y0 - pad, y1 + pad
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


def region_crops(
    region: Region, evidence: np.ndarray, comparison: np.ndarray | None, number: int, gain: float = DIFFERENCE_GAIN
) -> RegionCrops:
    """Evidence, comparison and amplified-difference crops at one shared zoom.

    Without a comparison image only the evidence crop is made; a comparison of another size
    raises ``ValueError`` (nothing is rescaled to fit).
    """
    from examiner.analysis.compare import abs_difference

    height, width = evidence.shape[:2]
    x0, y0, x1, y1 = crop_box(region, height, width)
    if x1 <= x0 or y1 <= y0:
        raise ValueError("the region lies outside the image")
    ev = to_rgb8(evidence[y0:y1, x0:x1])
    longest = max(ev.shape[:2])
    if longest <= CROP_TARGET_PX:
        zoom = max(1, CROP_TARGET_PX // longest)
    else:
        zoom = -int(np.ceil(longest / CROP_TARGET_PX))

    def show(rgb: np.ndarray) -> np.ndarray:
        if zoom > 1:
            return np.repeat(np.repeat(rgb, zoom, axis=0), zoom, axis=1)
        if zoom < 0:
            return _reduce(rgb, -zoom)
        return rgb

    figures = [figure(f"region R{number}: evidence crop", show(ev))]
    if comparison is not None:
        if comparison.shape[:2] != evidence.shape[:2]:
            raise ValueError(
                f"the comparison image is {comparison.shape[1]}x{comparison.shape[0]} pixels but the evidence "
                f"is {width}x{height}; crops are only made from images of the same size"
            )
        cmp_crop = comparison[y0:y1, x0:x1]
        diff = abs_difference(evidence[y0:y1, x0:x1], cmp_crop, gain)
        diff8 = (diff * 255.0 + 0.5).astype(np.uint8)
        figures.append(figure(f"region R{number}: comparison crop", show(to_rgb8(cmp_crop))))
        figures.append(figure(f"region R{number}: difference x{gain:g}", show(to_rgb8(diff8))))
    per_px = float(zoom) if zoom > 0 else 1.0 / -zoom
    outline = [((px - x0) * per_px, (py - y0) * per_px) for px, py in region.points]
    ellipse = region.kind is ShapeKind.ELLIPSE
    closed = True
    if region.kind is ShapeKind.RECT and len(outline) >= 2:
        (ax, ay), (bx, by) = outline[0], outline[1]
        outline = [(ax, ay), (bx, ay), (bx, by), (ax, by)]
    return RegionCrops(figures, (x0, y0), zoom, gain, outline, closed, ellipse)
