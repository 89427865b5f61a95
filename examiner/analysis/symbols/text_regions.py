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


def _components(mask: np.ndarray) -> list[tuple[int, int, int, int, int]]:
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return [tuple(int(v) for v in stats[i]) for i in range(1, n)]  # type: ignore[misc]


def _merge(boxes: list[Box]) -> list[Box]:
    """Merge overlapping boxes until none overlap."""
    out = list(boxes)
    changed = True
    while changed:
        changed = False
        merged: list[Box] = []
        for b in out:
            for i, m in enumerate(merged):
                if b[0] < m[0] + m[2] and m[0] < b[0] + b[2] and b[1] < m[1] + m[3] and m[1] < b[1] + b[3]:
                    x0, y0 = min(b[0], m[0]), min(b[1], m[1])
                    x1, y1 = max(b[0] + b[2], m[0] + m[2]), max(b[1] + b[3], m[1] + m[3])
                    merged[i] = (x0, y0, x1 - x0, y1 - y0)
                    changed = True
                    break
            else:
                merged.append(b)
        out = merged
    return out


def find_text_regions(grays: list[np.ndarray], max_regions: int = 40, min_char_px: int = 5) -> list[TextRegion]:
    """Candidate text boxes over the union of the images' stroke edges, largest first."""
    height, width = grays[0].shape[:2]
    edges = np.zeros((height, width), np.uint8)
    for g in grays:
        edges |= _edge_mask(g)
    strokes = [c for c in _components(edges) if c[3] >= min_char_px and c[2] >= 2]
    if not strokes:
        return []
    heights = np.array([c[3] for c in strokes], dtype=np.float64)
    # Join strokes into words and lines with a gap that scales with the typical stroke height.
    typical = float(np.median(heights))
    gap = int(max(3, min(40, round(0.6 * typical))))
    grouped: list[Box] = []
    for kernel in ((gap, 1), (1, gap)):
        closed = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        for x, y, w, h, area in _components(closed):
            if h < min_char_px or w < min_char_px or area < 12:
                continue
            if h > 0.9 * height and w > 0.9 * width:
                continue
            grouped.append((x, y, w, h))
    padded: list[Box] = []
    for box in _merge(grouped):
        inside = _strokes_inside(strokes, box)
        if not inside:
            continue
        char_h = float(np.median([c[3] for c in inside]))
        pad = int(max(4, round(0.4 * char_h)))
        x, y, w, h = box
        padded.append(clip_box((x - pad, y - pad, w + 2 * pad, h + 2 * pad), width, height))
    regions: list[TextRegion] = []
    # Padding can make neighbours overlap; merged again so no text is read twice.
    for box in _merge(padded):
        inside = _strokes_inside(strokes, box)
        if not inside:
            continue
        char_h = float(np.median([c[3] for c in inside]))
        vertical = box[3] > 1.6 * box[2] and len(inside) >= 2
        if vertical:
            # Stacked glyphs of turned text: their height along the line is their width here.
            char_h = float(np.median([c[2] for c in inside]))
        regions.append(TextRegion(box, char_h, vertical))
    regions.sort(key=lambda r: r.box[2] * r.box[3], reverse=True)
    return regions[:max_regions]


def _strokes_inside(strokes: list[tuple[int, int, int, int, int]], box: Box) -> list[tuple[int, int, int, int, int]]:
    x, y, w, h = box
    return [c for c in strokes if c[0] >= x and c[1] >= y and c[0] + c[2] <= x + w and c[1] + c[3] <= y + h]
