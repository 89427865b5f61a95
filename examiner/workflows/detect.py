"""Trace detection as an examination step."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from examiner.core.case import Case
from examiner.core.json_values import finding_json
from examiner.core.png import encode_png
from examiner.core.settings import Settings
from examiner.core.tasks import TaskContext, silent
from examiner.errors import ExaminerError
from examiner.findings import artefacts as names
from examiner.findings.records import DetectionRecord
from examiner.findings.schema import TypedFinding, add_record


@dataclass
class DetectionOutcome:
    record: DetectionRecord
    spectrum: np.ndarray | None = None
    tile_map: np.ndarray | None = None  # per-tile score, rows x cols

    @property
    def verdict(self) -> str:
        return self.record.verdict

    @property
    def score(self) -> float:
        return float(self.record.score or 0.0)

    @property
    def explanation(self) -> str:
        return self.record.explanation


def compute_detection(
    ctx: TaskContext,
    pixels: np.ndarray,
    path: str | None = None,
    model: Any = None,
    codecs: Any = "none",
    settings: Settings | None = None,
) -> DetectionOutcome:
    """Detection on decoded pixels; ``path`` (read only) lets the detector read JPEG tables."""
    try:
        from examiner.analysis import detector
    except ImportError as exc:
        raise ExaminerError(f"trace detection is not available in this installation ({exc})") from None
    result = detector.detect_pixels(pixels, path, model=model, codecs=codecs, ctx=ctx, settings=settings)
    spec = result.spectral
    payload = finding_json(result.to_dict())
    payload["tile_map_cell"] = int(spec.map_cell)
    record = DetectionRecord.from_payload(payload)
    return DetectionOutcome(record, np.asarray(spec.spectrum_image), np.asarray(spec.tile_map, dtype=np.float32))


def detection_artefacts(outcome: DetectionOutcome) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    if outcome.spectrum is not None:
        out[names.SPECTRUM] = encode_png(outcome.spectrum)
    if outcome.tile_map is not None:
        out[names.TILE_MAP] = json.dumps(np.round(outcome.tile_map.astype(float), 4).tolist()).encode("utf-8")
    return out


def record_detection(case: Case, evidence_id: int, outcome: DetectionOutcome) -> TypedFinding:
    return add_record(case, evidence_id, outcome.record, detection_artefacts(outcome) or None)


def stored_tile_map(data: bytes) -> np.ndarray | None:
    try:
        return np.asarray(json.loads(data), dtype=np.float32)
    except ValueError:
        return None


def detect(
    case: Case,
    evidence_id: int,
    ctx: TaskContext | None = None,
    model: Any = None,
    codecs: Any = "none",
    settings: Settings | None = None,
) -> TypedFinding:
    """Detect on the case's (hash-checked) evidence and record the finding."""
    ctx = ctx or silent()
    item = case.evidence_item(evidence_id)
    pixels = case.load_evidence(evidence_id).pixels
    return record_detection(case, evidence_id, compute_detection(ctx, pixels, item.path, model, codecs, settings))
