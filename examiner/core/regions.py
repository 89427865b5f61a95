"""Marked regions and the miscompression taxonomy, as plain data.

Regions are stored in evidence-pixel coordinates (no EXIF orientation applied). A region's
shape is a rectangle, an ellipse (its bounding box) or a polygon (a list of vertices).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from examiner.errors import CaseError

CONFIDENCE_LEVELS = ("low", "medium", "high")


class Category(StrEnum):
    AMPLITUDE = "amplitude"
    GEOMETRY = "geometry"
    SHAPE = "shape"
    # Noted in the taxonomy as a possible future type; enabled only by a setting and always
    # reported as provisional.
    TEXTURE = "texture"


CORE_CATEGORIES: tuple[Category, ...] = (Category.AMPLITUDE, Category.GEOMETRY, Category.SHAPE)

CATEGORY_DEFINITIONS: dict[Category, str] = {
    Category.AMPLITUDE: (
        "Changed amplitude of spatial frequencies: brightness, saturation or high-frequency "
        "intensity (lights switched off, eye colour, tattoos, people fading out)."
    ),
    Category.GEOMETRY: (
        "Changed geometry: translation, rotation, scaling, shearing or dissolved contours "
        "(a flag that reads as graffiti, a profile whose nose points elsewhere)."
    ),
    Category.SHAPE: (
        "A different shape: an arrow-shaped traffic light becomes round, one digit becomes another."
    ),
    Category.TEXTURE: "Provisional: changed texture. Not a category of the published taxonomy.",
}

SYMBOL_DEFINITION = (
    "High impact: the object is a symbol (letters, numerals, signs, traffic lights, logos, watch "
    "hands, gestures, jewellery, tattoos, graffiti)."
)


class ShapeKind(StrEnum):
    RECT = "rect"
    ELLIPSE = "ellipse"
    POLYGON = "polygon"


class Provenance(StrEnum):
    HAND = "drawn by hand"
    SUGGESTION_OCR = "accepted from OCR suggestion"
    SUGGESTION_DETECTOR = "accepted from detector suggestion"
    IMPORTED = "imported"


@dataclass
class Region:
    evidence_id: int
    kind: ShapeKind
    # RECT/ELLIPSE: [(x0, y0), (x1, y1)] corners of the bounding box; POLYGON: the vertices.
    points: list[tuple[float, float]]
    categories: list[Category] = field(default_factory=list)
    symbol: bool = False
    evidence_says: str = ""
    comparison_says: str = ""
    confidence: str = "medium"  # low | medium | high
    notes: str = ""
    author: str = ""
    created_utc: str = ""
    provenance: str = Provenance.HAND.value
    comparison: str = ""  # what the region was compared against (reference or a finding id)
    locked: bool = False
    id: int | None = None

    def bbox(self) -> tuple[int, int, int, int]:
        """Integer pixel box (x, y, w, h) enclosing the shape."""
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        x0, y0 = int(np.floor(min(xs))), int(np.floor(min(ys)))
        x1, y1 = int(np.ceil(max(xs))), int(np.ceil(max(ys)))
        return x0, y0, max(0, x1 - x0), max(0, y1 - y0)

    def mask(self, height: int, width: int) -> np.ndarray:
        """Boolean pixel mask; a pixel belongs when its centre lies inside the shape."""
        yy, xx = np.mgrid[0:height, 0:width]
        cx: np.ndarray = xx + 0.5
        cy: np.ndarray = yy + 0.5
        if self.kind is ShapeKind.RECT:
            (ax, ay), (bx, by) = self.points[0], self.points[1]
            x0, x1 = sorted((ax, bx))
            y0, y1 = sorted((ay, by))
            return (cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)
        if self.kind is ShapeKind.ELLIPSE:
            (ax, ay), (bx, by) = self.points[0], self.points[1]
            mx, my = (ax + bx) / 2, (ay + by) / 2
            rx, ry = abs(bx - ax) / 2, abs(by - ay) / 2
            if rx == 0 or ry == 0:
                return np.zeros((height, width), dtype=bool)
            return ((cx - mx) / rx) ** 2 + ((cy - my) / ry) ** 2 <= 1.0
        return _polygon_mask(self.points, cx, cy)

    def area_share(self, height: int, width: int) -> float:
        """Share of the image's pixels covered, in percent."""
        if height * width == 0:
            return 0.0
        return 100.0 * float(self.mask(height, width).sum()) / float(height * width)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "evidence_id": self.evidence_id,
            "kind": self.kind.value,
            "points": [list(p) for p in self.points],
            "categories": [c.value for c in self.categories],
            "symbol": self.symbol,
            "evidence_says": self.evidence_says,
            "comparison_says": self.comparison_says,
            "confidence": self.confidence,
            "notes": self.notes,
            "author": self.author,
            "created_utc": self.created_utc,
            "provenance": self.provenance,
            "comparison": self.comparison,
            "locked": self.locked,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Region:
        return cls(
            id=d.get("id"),
            evidence_id=int(d["evidence_id"]),
            kind=ShapeKind(d["kind"]),
            points=[_coordinate_pair(p) for p in d["points"]],
            categories=[Category(c) for c in d.get("categories", [])],
            symbol=bool(d.get("symbol", False)),
            evidence_says=str(d.get("evidence_says", "")),
            comparison_says=str(d.get("comparison_says", "")),
            confidence=str(d.get("confidence", "medium")),
            notes=str(d.get("notes", "")),
            author=str(d.get("author", "")),
            created_utc=str(d.get("created_utc", "")),
            provenance=str(d.get("provenance", Provenance.HAND.value)),
            comparison=str(d.get("comparison", "")),
            locked=bool(d.get("locked", False)),
        )


def _polygon_mask(points: list[tuple[float, float]], cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """Even-odd rule, vectorised over pixel centres."""
    inside = np.zeros(cx.shape, dtype=bool)
    n = len(points)
    if n < 3:
        return inside
    for i in range(n):
        x0, y0 = points[i]
        x1, y1 = points[(i + 1) % n]
        if y0 == y1:
            continue
        crosses = (cy >= min(y0, y1)) & (cy < max(y0, y1))
        x_at = x0 + (cy - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (cx < x_at)
    return inside


# Coordinates are evidence pixels; anything beyond this is no image's pixel and would overflow
# the integer boxes and masks built from it.
MAX_COORDINATE = 1e9
# Drawing, masking and reporting a polygon take time in proportion to its vertices; an outline
# traced by hand has hundreds, so a bound at intake costs an examiner nothing.
MAX_POLYGON_VERTICES = 10_000


def _coordinate_pair(p: Any) -> tuple[float, float]:
    """One (x, y) point from untrusted data; ValueError for anything but two finite, sane numbers."""
    if isinstance(p, str | bytes) or len(p) != 2:
        raise ValueError(f"a region point must be a pair of numbers, not {str(p)[:60]!r}")
    x, y = float(p[0]), float(p[1])
    if not (math.isfinite(x) and math.isfinite(y)) or abs(x) > MAX_COORDINATE or abs(y) > MAX_COORDINATE:
        raise ValueError(f"region point ({str(p[0])[:30]}, {str(p[1])[:30]}) is not a finite pixel coordinate")
    return x, y


def validate_region(r: Region, evidence_id: int, width: int, height: int) -> None:
    """Refuse a region that is not a well-formed shape inside its evidence item (``width`` and
    ``height`` of 0: the size is unknown and only the shape is checked)."""
    kind = ShapeKind(r.kind)
    if kind in (ShapeKind.RECT, ShapeKind.ELLIPSE) and len(r.points) != 2:
        raise CaseError(f"a {kind.value} region needs exactly two corner points")
    if kind is ShapeKind.POLYGON and len(r.points) < 3:
        raise CaseError("a polygon region needs at least three points")
    if len(r.points) > MAX_POLYGON_VERTICES:
        raise CaseError(
            f"a polygon region may have at most {MAX_POLYGON_VERTICES:,} vertices, not {len(r.points):,} "
            "(simplify the outline)"
        )
    for x, y in r.points:
        if not (np.isfinite(x) and np.isfinite(y)):
            raise CaseError("region points must be finite numbers")
    bx, by, bw, bh = r.bbox()
    if width and height and (bx < 0 or by < 0 or bx + bw > width or by + bh > height):
        raise CaseError(f"region ({bx},{by},{bw}x{bh}) lies outside evidence {evidence_id} ({width} x {height} pixels)")
    if bw == 0 or bh == 0:
        raise CaseError("a region must have a non-zero width and height")
    for c in r.categories:
        Category(c)
    if r.confidence not in CONFIDENCE_LEVELS:
        raise CaseError(f"confidence must be one of {', '.join(CONFIDENCE_LEVELS)}, not {r.confidence!r}")
