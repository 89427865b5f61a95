"""Where text may be: candidate boxes from local contrast, shared by both images.

Tesseract's own page layout analysis is made for documents and often finds nothing in a photo
(a plate on a car, a sign on a wall). So the OCR check first looks for compact clusters of
strong edges, the way text looks at any size, and reads each cluster on its own. Candidates
come from both images together, so text that vanished from one image is still read there.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from examiner.analysis.symbols.proposals import Box, clip_box

# Edge strength (morphological gradient, 0..255) below which nothing counts as a stroke edge,
# whatever Otsu says: keeps flat, noisy areas from turning into candidates.
MIN_EDGE = 40


@dataclass(frozen=True)
class TextRegion:
    box: Box
    char_height: float  # median height of the stroke components inside, in pixels
    vertical: bool  # taller than wide and made of stacked components: try 90-degree turns


def _edge_mask(gray: np.ndarray) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, kernel)
    otsu, _ = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    _, bw = cv2.threshold(grad, max(float(otsu), MIN_EDGE), 255, cv2.THRESH_BINARY)
    return bw


def _components(mask: np.ndarray) -> np.ndarray:
    """Rows (x, y, w, h, area) of the mask's 8-connected components."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return stats[1:].astype(np.int64)


def _merge(boxes: list[Box], shape: tuple[int, int]) -> list[Box]:
    """Merge touching or overlapping boxes until none do (painted on a mask: fast for thousands)."""
    current = list(boxes)
    while True:
        mask = np.zeros(shape, np.uint8)
        for x, y, w, h in current:
            mask[y : y + h, x : x + w] = 255
        merged = [(int(c[0]), int(c[1]), int(c[2]), int(c[3])) for c in _components(mask)]
        if len(merged) == len(current):
            return merged
        current = merged


def find_text_regions(grays: list[np.ndarray], max_regions: int = 40, min_char_px: int = 5) -> list[TextRegion]:
    """Candidate text boxes over the union of the images' stroke edges, largest first."""
    height, width = grays[0].shape[:2]
    edges = np.zeros((height, width), np.uint8)
    for g in grays:
        edges |= _edge_mask(g)
    strokes = _components(edges)
    strokes = strokes[(strokes[:, 3] >= min_char_px) & (strokes[:, 2] >= 2)]
    if len(strokes) == 0:
        return []
    heights = strokes[:, 3].astype(np.float64)
    # Join strokes into words and lines with a gap that scales with the typical stroke height.
    typical = float(np.median(heights))
    gap = int(max(3, min(40, round(0.6 * typical))))
    grouped: list[Box] = []
    for kernel in ((gap, 1), (1, gap)):
        closed = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        for x, y, w, h, area in _components(closed).tolist():
            if h < min_char_px or w < min_char_px or area < 12:
                continue
            if h > 0.9 * height and w > 0.9 * width:
                continue
            grouped.append((x, y, w, h))
    padded: list[Box] = []
    for box in _merge(grouped, (height, width)):
        inside = _strokes_inside(strokes, box)
        if len(inside) == 0:
            continue
        char_h = float(np.median(inside[:, 3]))
        pad = int(max(4, round(0.4 * char_h)))
        x, y, w, h = box
        padded.append(clip_box((x - pad, y - pad, w + 2 * pad, h + 2 * pad), width, height))
    regions: list[TextRegion] = []
    # Padding can make neighbours overlap; merged again so no text is read twice.
    for box in _merge(padded, (height, width)):
        inside = _strokes_inside(strokes, box)
        if len(inside) == 0:
            continue
        char_h = float(np.median(inside[:, 3]))
        vertical = box[3] > 1.6 * box[2] and len(inside) >= 2
        if vertical:
            # Stacked glyphs of turned text: their height along the line is their width here.
            char_h = float(np.median(inside[:, 2]))
        regions.append(TextRegion(box, char_h, vertical))
    regions.sort(key=lambda r: r.box[2] * r.box[3], reverse=True)
    return regions[:max_regions]


def _strokes_inside(strokes: np.ndarray, box: Box) -> np.ndarray:
    """Rows of ``strokes`` (x, y, w, h, area) lying wholly inside ``box``."""
    x, y, w, h = box
    inside = (
        (strokes[:, 0] >= x)
        & (strokes[:, 1] >= y)
        & (strokes[:, 0] + strokes[:, 2] <= x + w)
        & (strokes[:, 1] + strokes[:, 3] <= y + h)
    )
    return strokes[inside]
