"""Object-detection difference: faces, people and licence plates found in one image and not the
other (Amplitude), or found in both but moved or resized (Geometry).

The detectors are the boosted Haar cascades that ship with OpenCV (frontal face, full body,
Russian licence plate) and OpenCV's default HOG people detector, which finds upright people
the full-body cascade misses. All run offline from files inside the opencv package.

Cascades are brittle near their decision threshold: the same face may be found in a JPEG re-save
and missed in the original. So an object found in one image only is looked for again in the other
image, around the same place, with a relaxed setting; only if that also fails is it proposed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from examiner.analysis.symbols.imaging import check_same_size, to_gray_u8
from examiner.analysis.symbols.proposals import (
    CHECK_OBJECTS,
    Box,
    CheckResult,
    Proposal,
    clip_box,
    iou,
    union_box,
)
from examiner.core.regions import Category
from examiner.core.tasks import TaskContext
from examiner.errors import ToolMissingError

# Longest image side the detectors see; larger images are scaled down first (speed).
MAX_SIDE = 1600
# Two detections are the same object when their boxes overlap at least this much.
MATCH_IOU = 0.3
# A matched object counts as moved when its centre shifts by more than this share of its size,
# and as resized when its area changes by more than this factor.
SHIFT_TOLERANCE = 0.3
SCALE_TOLERANCE = 1.8
# An object is proposed as appeared or vanished only when its detection is firm: at least this
# many times the cascade's neighbour threshold, or this HOG margin. Detections just above the
# threshold come and go between a photograph and its JPEG re-save.
FIRM_NEIGHBOUR_FACTOR = 2
FIRM_HOG_MARGIN = 0.8
# Beyond the overlap rule, a detection in the other image is taken as the same object moved when
# its centre lies within this share of the object's size and its area differs by less than this.
MATCH_SHIFT = 1.0
MATCH_RATIO = 2.5


@dataclass(frozen=True)
class Detector:
    label: str
    kind: str  # cascade | hog
    cascade_file: str
    min_size: tuple[int, int]
    scale_factor: float
    min_neighbors: int
    symbol: bool = True


DETECTORS: tuple[Detector, ...] = (
    Detector("face", "cascade", "haarcascade_frontalface_alt2.xml", (24, 24), 1.1, 4),
    Detector("person", "cascade", "haarcascade_fullbody.xml", (28, 56), 1.05, 3),
    Detector("licence plate", "cascade", "haarcascade_russian_plate_number.xml", (40, 12), 1.1, 4),
    Detector("person", "hog", "", (64, 128), 1.05, 0),
)

METHOD: dict[str, Any] = {
    "name": "Object-detection difference (OpenCV cascades and HOG people detector)",
    "check": CHECK_OBJECTS,
    "description": (
        "Faces, people and licence plates are detected in the evidence and in the comparison image "
        "with the boosted cascades of Haar-like features shipped with OpenCV (frontal face, full "
        "body, Russian licence plate) and with OpenCV's default histogram-of-oriented-gradients "
        "people detector. Detections of the same kind are matched by box overlap (intersection "
        f"over union at least {MATCH_IOU}, or a centre within {MATCH_SHIFT:.0%} of the object's size "
        f"and an area within a factor {MATCH_RATIO}). An object found in one image only is searched for again "
        f"around the same place in the other image (if it is firm: at least {FIRM_NEIGHBOUR_FACTOR} times the "
        f"cascade's neighbour threshold, or a HOG margin of {FIRM_HOG_MARGIN}) with a relaxed setting (every raw cascade window on "
        "a finer scale grid, or HOG windows above a lowered threshold); only if none is found there is "
        "it proposed as Amplitude (something appeared or vanished). Matched objects whose "
        f"centre moved by more than {SHIFT_TOLERANCE:.0%} of their size, or whose area changed by "
        f"more than a factor {SCALE_TOLERANCE}, are proposed as Geometry. Faces, people and plates "
        "carry the Symbol flag. Images with a side longer than "
        f"{MAX_SIDE} pixels are scaled down for detection."
    ),
    "parameters": {
        "detectors": [
            {
                "label": d.label,
                "model": d.cascade_file or "HOGDescriptor_getDefaultPeopleDetector",
                "min_size": list(d.min_size),
                "scale_factor": d.scale_factor,
                "min_neighbors": d.min_neighbors,
            }
            for d in DETECTORS
        ],
        "match_iou": MATCH_IOU,
        "shift_tolerance": SHIFT_TOLERANCE,
        "firm_neighbour_factor": FIRM_NEIGHBOUR_FACTOR,
        "firm_hog_margin": FIRM_HOG_MARGIN,
        "scale_tolerance": SCALE_TOLERANCE,
        "max_side": MAX_SIDE,
    },
    "limitations": (
        "The detectors miss objects: small faces (under about 24 pixels), faces in profile or "
        "turned away, partly hidden people, people sitting or lying, and plates of other designs "
        "than the Russian one the plate cascade was trained on. They also fire on things that are "
        "not faces or people. Detector boxes jitter by a few pixels between similar images, so "
        "small moves are not reported. A proposal is a place to look, not a finding."
    ),
    "citations": ["viola2001rapid", "lienhart2002extended", "dalal2005histograms"],
    "version": "1",
}


def cascade_dir() -> Path:
    return Path(cv2.data.haarcascades)


@lru_cache(maxsize=8)
def _cascade(filename: str) -> cv2.CascadeClassifier:
    path = cascade_dir() / filename
    clf = cv2.CascadeClassifier(str(path))
    if clf.empty():
        raise ToolMissingError(f"{path}: OpenCV cascade model is missing or unreadable")
    return clf


@lru_cache(maxsize=1)
def _hog() -> cv2.HOGDescriptor:
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return hog


@dataclass(frozen=True)
class Detection:
    label: str
    detector: str  # the model file, or "hog"
    box: Box
    score: float  # 0..1: detector support (neighbours or SVM margin), not a probability
    support: float = 0.0  # raw support: cascade neighbours, or the HOG SVM margin


def _suppress_nested(dets: list[Detection]) -> list[Detection]:
    """Keep one of two boxes of the same kind that mostly cover each other (the stronger)."""
    dets = sorted(dets, key=lambda d: d.score, reverse=True)
    kept: list[Detection] = []
    for d in dets:
        duplicate = False
        for k in kept:
            x0, y0 = max(d.box[0], k.box[0]), max(d.box[1], k.box[1])
            x1 = min(d.box[0] + d.box[2], k.box[0] + k.box[2])
            y1 = min(d.box[1] + d.box[3], k.box[1] + k.box[3])
            inter = max(0, x1 - x0) * max(0, y1 - y0)
            smaller = min(d.box[2] * d.box[3], k.box[2] * k.box[3])
            if smaller > 0 and inter / smaller > 0.6:
                duplicate = True
                break
        if not duplicate:
            kept.append(d)
    return kept


def _detect_one(gray: np.ndarray, det: Detector, relaxed: bool = False) -> list[Detection]:
    h, w = gray.shape
    out: list[Detection] = []
    if det.kind == "hog":
        rgb = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
        pad_y, pad_x = max(0, 136 - h), max(0, 72 - w)
        if pad_y or pad_x:
            rgb = cv2.copyMakeBorder(rgb, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
        rects, weights = _hog().detectMultiScale(
            rgb, hitThreshold=-0.5 if relaxed else 0.3, winStride=(8, 8), padding=(8, 8), scale=det.scale_factor
        )
        for (x, y, bw, bh), wt in zip(rects, np.ravel(weights) if len(rects) else [], strict=False):
            box = (int(x), int(y), int(bw), int(bh))
            out.append(Detection(det.label, "hog", box, float(min(1.0, 0.5 + wt / 4)), float(wt)))
        return out
    if h < det.min_size[1] or w < det.min_size[0]:
        return []
    clf = _cascade(det.cascade_file)
    # Relaxed: every raw window the cascade accepts, on a finer scale grid (no grouping).
    rects, neighbours = clf.detectMultiScale2(
        gray,
        scaleFactor=1.03 if relaxed else det.scale_factor,
        minNeighbors=0 if relaxed else det.min_neighbors,
        minSize=det.min_size,
    )
    for (x, y, bw, bh), n in zip(rects, np.ravel(neighbours) if len(rects) else [], strict=False):
        score = float(min(1.0, 0.5 + 0.5 * n / 20.0))
        out.append(Detection(det.label, det.cascade_file, (int(x), int(y), int(bw), int(bh)), score, float(n)))
    return out


def detect(gray: np.ndarray, det: Detector) -> list[Detection]:
    """Detections of one detector on a whole image, in its pixel coordinates."""
    h, w = gray.shape
    scale = min(1.0, MAX_SIDE / max(h, w))
    small = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = _detect_one(small, det)
    if scale != 1.0:
        found = [
            Detection(d.label, d.detector, tuple(int(round(v / scale)) for v in d.box), d.score, d.support)  # type: ignore[arg-type]
            for d in found
        ]
    return _suppress_nested(found)


def _look_again(gray: np.ndarray, det: Detector, target: Detection) -> Detection | None:
    """Relaxed search around ``target.box`` in the other image."""
    h, w = gray.shape
    x, y, bw, bh = target.box
    pad_x, pad_y = max(bw // 2, 8), max(bh // 2, 8)
    cx, cy, cw, ch = clip_box((x - pad_x, y - pad_y, bw + 2 * pad_x, bh + 2 * pad_y), w, h)
    crop = gray[cy : cy + ch, cx : cx + cw]
    # Scale the crop so the object has the size the detector saw in the first image.
    scale = min(1.0, MAX_SIDE / max(h, w))
    if scale != 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    best: Detection | None = None
    for d in _detect_one(crop, det, relaxed=True):
        bx = tuple(int(round(v / scale)) for v in d.box)
        box = (bx[0] + cx, bx[1] + cy, bx[2], bx[3])
        cand = Detection(d.label, d.detector, box, d.score)
        if _same_object(box, target.box) and (best is None or iou(box, target.box) > iou(best.box, target.box)):
            best = cand
    return best


def _firm(d: Detection, det: Detector) -> bool:
    """Strong enough that its absence from the other image means something."""
    if det.kind == "hog":
        return d.support >= FIRM_HOG_MARGIN
    return d.support >= FIRM_NEIGHBOUR_FACTOR * det.min_neighbors


def _describe(d: Detection) -> str:
    return f"{d.label} ({d.box[2]}x{d.box[3]} px)"


def _geometry_change(a: Box, b: Box) -> tuple[float, float]:
    """(centre shift relative to the mean size, area ratio >= 1)."""
    acx, acy = a[0] + a[2] / 2, a[1] + a[3] / 2
    bcx, bcy = b[0] + b[2] / 2, b[1] + b[3] / 2
    size = max(1.0, (a[2] + a[3] + b[2] + b[3]) / 4)
    shift = float(np.hypot(acx - bcx, acy - bcy)) / size
    area_a, area_b = max(1, a[2] * a[3]), max(1, b[2] * b[3])
    return shift, max(area_a, area_b) / min(area_a, area_b)


def _same_object(a: Box, b: Box) -> bool:
    """Overlapping boxes, or a nearby box of similar size (a moved object overlaps little)."""
    if iou(a, b) >= MATCH_IOU:
        return True
    shift, ratio = _geometry_change(a, b)
    return shift <= MATCH_SHIFT and ratio <= MATCH_RATIO


def _match(ev: list[Detection], cp: list[Detection]) -> tuple[list[tuple[Detection, Detection]], list[Detection], list[Detection]]:
    pairs: list[tuple[Detection, Detection]] = []
    left = list(cp)
    lonely_ev: list[Detection] = []
    for d in sorted(ev, key=lambda d: d.score, reverse=True):
        best = min(left, key=lambda c: _geometry_change(c.box, d.box)[0], default=None)
        if best is not None and _same_object(best.box, d.box):
            pairs.append((d, best))
            left.remove(best)
        else:
            lonely_ev.append(d)
    return pairs, lonely_ev, left


def compare_detections(
    ev_gray: np.ndarray, cp_gray: np.ndarray, det: Detector
) -> list[Proposal]:
    ev = detect(ev_gray, det)
    cp = detect(cp_gray, det)
    pairs, only_ev, only_cp = _match(ev, cp)
    proposals: list[Proposal] = []
    for side, lonely, other_gray in (("evidence", only_ev, cp_gray), ("comparison", only_cp, ev_gray)):
        for d in lonely:
            if not _firm(d, det):
                continue  # too weak a detection to say that the other image lacks it
            again = _look_again(other_gray, det, d)
            if again is not None:
                pairs.append((d, again) if side == "evidence" else (again, d))
                continue
            details = {
                "detector": d.detector,
                "difference": f"{det.label} detected in the {side} only",
                "evidence_box": list(d.box) if side == "evidence" else None,
                "comparison_box": list(d.box) if side == "comparison" else None,
            }
            reading = _describe(d)
            ev_read, cp_read = (reading, "not detected") if side == "evidence" else ("not detected", reading)
            proposals.append(
                Proposal(d.box, CHECK_OBJECTS, ev_read, cp_read, Category.AMPLITUDE, det.symbol, d.score, details)
            )
    for a, b in pairs:
        shift, ratio = _geometry_change(a.box, b.box)
        if shift <= SHIFT_TOLERANCE and ratio <= SCALE_TOLERANCE:
            continue
        details = {
            "detector": a.detector,
            "difference": f"{det.label} moved or resized",
            "evidence_box": list(a.box),
            "comparison_box": list(b.box),
            "centre_shift_relative": round(shift, 3),
            "area_ratio": round(ratio, 3),
        }
        conf = min(a.score, b.score)
        proposals.append(
            Proposal(
                union_box([a.box, b.box]), CHECK_OBJECTS, _describe(a), _describe(b), Category.GEOMETRY, det.symbol, conf, details
            )
        )
    return proposals


def _dedupe(proposals: list[Proposal]) -> list[Proposal]:
    """Two detectors of the same kind (full-body cascade and HOG) can report the same person."""
    kept: list[Proposal] = []
    for p in sorted(proposals, key=lambda p: p.confidence, reverse=True):
        if any(k.category == p.category and iou(k.box, p.box) >= 0.5 for k in kept):
            continue
        kept.append(p)
    return kept


def object_check(evidence: np.ndarray, comparison: np.ndarray, ctx: TaskContext | None = None) -> CheckResult:
    ctx = ctx or TaskContext()
    started = time.monotonic()
    check_same_size(evidence, comparison)
    ev, cp = to_gray_u8(evidence), to_gray_u8(comparison)
    method = dict(METHOD)
    method["engine"] = f"OpenCV {cv2.__version__}"
    proposals: list[Proposal] = []
    for i, det in enumerate(DETECTORS):
        ctx.progress(i, len(DETECTORS), f"detecting: {det.label}")
        proposals.extend(compare_detections(ev, cp, det))
    ctx.progress(len(DETECTORS), len(DETECTORS), "detection done")
    proposals = _dedupe(proposals)
    msg = f"OpenCV {cv2.__version__}: {len(DETECTORS)} detectors"
    return CheckResult(CHECK_OBJECTS, True, msg, proposals, method, time.monotonic() - started)
