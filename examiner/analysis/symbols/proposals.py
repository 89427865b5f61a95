"""What an assisted check proposes: a box, the two readings and a suggested category.

A proposal is never a finding on its own. The examiner accepts it (it becomes a
:class:`~examiner.core.regions.Region` with a suggestion provenance), edits it, or rejects it.
Boxes are ``(x, y, w, h)`` in evidence-pixel coordinates.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from examiner.core.regions import Category

Box = tuple[int, int, int, int]

CHECK_OCR = "ocr"
CHECK_OBJECTS = "objects"
ALL_CHECKS: tuple[str, ...] = (CHECK_OCR, CHECK_OBJECTS)


@dataclass
class Proposal:
    box: Box
    check: str  # CHECK_OCR | CHECK_OBJECTS
    evidence_reading: str
    comparison_reading: str
    category: Category
    symbol: bool
    confidence: float  # 0..1: how sure the check is that the two images differ here
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Stable identity, so a rejection is remembered when the same check runs again."""
        ident = {
            "box": list(self.box),
            "check": self.check,
            "evidence_reading": self.evidence_reading,
            "comparison_reading": self.comparison_reading,
            "category": self.category.value,
        }
        blob = json.dumps(ident, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "box": list(self.box),
            "check": self.check,
            "evidence_reading": self.evidence_reading,
            "comparison_reading": self.comparison_reading,
            "category": self.category.value,
            "symbol": self.symbol,
            "confidence": round(float(self.confidence), 3),
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Proposal:
        box = d["box"]
        return cls(
            box=(int(box[0]), int(box[1]), int(box[2]), int(box[3])),
            check=str(d["check"]),
            evidence_reading=str(d.get("evidence_reading", "")),
            comparison_reading=str(d.get("comparison_reading", "")),
            category=Category(d["category"]),
            symbol=bool(d.get("symbol", False)),
            confidence=float(d.get("confidence", 0.0)),
            details=dict(d.get("details", {})),
        )


@dataclass
class CheckResult:
    """One check's outcome. ``available`` is False when its engine is missing; ``message`` then
    says why, and the other checks still ran."""

    check: str
    available: bool
    message: str
    proposals: list[Proposal] = field(default_factory=list)
    method: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "available": self.available,
            "message": self.message,
            "seconds": round(self.seconds, 3),
            "proposals": [p.to_dict() for p in self.proposals],
            "method": self.method,
        }


def union_box(boxes: list[Box]) -> Box:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return 0.0 if union <= 0 else inter / union


def clip_box(box: Box, width: int, height: int) -> Box:
    x0 = max(0, min(width, box[0]))
    y0 = max(0, min(height, box[1]))
    x1 = max(x0, min(width, box[0] + box[2]))
    y1 = max(y0, min(height, box[1] + box[3]))
    return x0, y0, x1 - x0, y1 - y0
