"""Research export: all marked regions of one or many cases as a COCO-style dataset, and back.

``export_dataset(cases, out)`` writes into ``out``:

* ``annotations.json``: COCO object-detection layout (``info``, ``licenses``, ``images``,
  ``annotations``, ``categories``). Each evidence file is one image (``file_name``, ``width``,
  ``height``, and ``sha256`` as taken in at intake); each region one annotation with ``bbox``
  ``[x, y, w, h]``, a ``segmentation`` polygon (ellipses as 64-gons), ``area`` (its pixel count,
  pixel centres inside the shape) and ``iscrowd`` 0. COCO gives an annotation one category: it is
  the region's first taxonomy category, ``unclassified`` when it has none; ``attributes`` holds
  all of them, the Symbol flag, the codec, quality and bpp of the reconstruction the region was
  judged on (see :mod:`examiner.training.provenance`), the descriptions, and where it came from.
* ``images/``: byte-for-byte copies of the evidence files (and ``references/`` of their reference
  originals), unless ``copy_images`` is off; copies, so the dataset never points into evidence
  storage, and never re-encoded, so their SHA-256 equals the intake hash.
* ``crops/<annotation id>.png``: each region's bounding-box crop of the evidence pixels.
* ``prevalence.csv``: regions per category, per codec and per bpp band (a region with two
  categories counts once under each).

``import_dataset(folder, out_case)`` reads such a folder back into a new case: the copied images
are taken in as evidence (with their references) and every annotation becomes a region again.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from examiner.core.regions import CORE_CATEGORIES, Category, Region, ShapeKind
from examiner.core.tasks import TaskContext
from examiner.errors import ExaminerError

DATASET_FORMAT = "miscompression-examiner-coco"
DATASET_VERSION = 1
ANNOTATIONS_NAME = "annotations.json"
PREVALENCE_NAME = "prevalence.csv"
UNCLASSIFIED = "unclassified"
ELLIPSE_VERTICES = 64
# Bit-rate bands (bits per pixel), upper bounds exclusive; learned codecs synthesise most below 0.25.
BPP_BANDS: tuple[tuple[float, float], ...] = ((0.0, 0.125), (0.125, 0.25), (0.25, 0.5), (0.5, 1.0), (1.0, 2.0), (2.0, math.inf))
COCO_CATEGORIES: list[dict[str, Any]] = [
    {"id": 1, "name": Category.AMPLITUDE.value, "supercategory": "miscompression"},
    {"id": 2, "name": Category.GEOMETRY.value, "supercategory": "miscompression"},
    {"id": 3, "name": Category.SHAPE.value, "supercategory": "miscompression"},
    {"id": 4, "name": Category.TEXTURE.value, "supercategory": "miscompression (provisional)"},
    {"id": 5, "name": UNCLASSIFIED, "supercategory": "miscompression"},
]
_CAT_ID = {c["name"]: c["id"] for c in COCO_CATEGORIES}


def bpp_band(bpp: float | None) -> str:
    if bpp is None or not isinstance(bpp, int | float) or not math.isfinite(bpp):
        return "unknown"
    for lo, hi in BPP_BANDS:
        if lo <= bpp < hi:
            return f"{lo:g}-{hi:g}" if math.isfinite(hi) else f">={lo:g}"
    return "unknown"


def segmentation(r: Region) -> list[float]:
    """The region's outline as a flat COCO polygon ``[x1, y1, x2, y2, ...]``."""
    if r.kind is ShapeKind.POLYGON:
        pts = r.points
    elif r.kind is ShapeKind.RECT:
        (ax, ay), (bx, by) = r.points
        x0, x1 = sorted((ax, bx))
        y0, y1 = sorted((ay, by))
        pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    else:
        (ax, ay), (bx, by) = r.points
        mx, my, rx, ry = (ax + bx) / 2, (ay + by) / 2, abs(bx - ax) / 2, abs(by - ay) / 2
        pts = [(mx + rx * math.cos(2 * math.pi * k / ELLIPSE_VERTICES), my + ry * math.sin(2 * math.pi * k / ELLIPSE_VERTICES))
               for k in range(ELLIPSE_VERTICES)]  # fmt: skip
    return [round(float(v), 3) for p in pts for v in p]


def region_area(r: Region) -> int:
    """Pixels whose centre lies inside the shape (the same rule as the region's mask)."""
    x, y, w, h = r.bbox()
    moved = Region.from_dict({**r.to_dict(), "points": [(px - x, py - y) for px, py in r.points]})
    return int(np.count_nonzero(moved.mask(h, w)))


@dataclass
class ExportResult:
    out: Path
    cases: int
    images: int
    annotations: int
    crops: int
    prevalence_rows: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "annotations_file": str(self.out / ANNOTATIONS_NAME),
            "prevalence_file": str(self.out / PREVALENCE_NAME),
            "cases": self.cases,
            "images": self.images,
            "annotations": self.annotations,
            "crops": self.crops,
            "prevalence_rows": self.prevalence_rows,
            "notes": self.notes,
        }


def _crop_png(pixels: np.ndarray, box: tuple[int, int, int, int]) -> bytes | None:
    from examiner.core.png import encode_png

    x, y, w, h = box
    hh, ww = pixels.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(ww, x + w), min(hh, y + h)
    if x1 <= x0 or y1 <= y0:
        return None
    crop = pixels[y0:y1, x0:x1]
    if crop.dtype != np.uint8:
        from examiner.codecs.engine import to_8bit

        crop = to_8bit(crop)
    return encode_png(crop)


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return keep[-80:] or "image"


def export_dataset(
    cases: list[str | Path], out: str | Path, copy_images: bool = True, ctx: TaskContext | None = None
) -> ExportResult:
    """Export every region of ``cases`` into the folder ``out`` (created; must be empty if it exists)."""
    ctx = ctx or TaskContext()
    if not cases:
        raise ExaminerError("export-dataset needs at least one case file")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExaminerError(f"{out}: exists and is not an empty folder; choose another --out")
    paths = [Path(c) for c in cases]
    for p in paths:
        if not p.is_file():
            raise ExaminerError(f"{p}: no such case file")
    created = not out.exists()
    try:
        return _export_into(paths, out, copy_images, ctx)
    except BaseException:
        # A failed or cancelled export leaves nothing half-written behind.
        if created:
            shutil.rmtree(out, ignore_errors=True)
        elif out.is_dir():
            for child in out.iterdir():
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        raise


def _export_into(paths: list[Path], out: Path, copy_images: bool, ctx: TaskContext) -> ExportResult:
    from examiner import __version__
    from examiner.core.audit import utc_now
    from examiner.core.case import Case
    from examiner.training.provenance import region_reconstruction

    out.mkdir(parents=True, exist_ok=True)
    (out / "crops").mkdir()
    if copy_images:
        (out / "images").mkdir()
        (out / "references").mkdir()
    images: list[dict[str, Any]] = []
    image_by_sha: dict[str, dict[str, Any]] = {}
    annotations: list[dict[str, Any]] = []
    notes: list[str] = []
    prevalence: Counter[tuple[str, str, str, str]] = Counter()
    symbol_prevalence: Counter[tuple[str, str, str, str]] = Counter()
    crops = 0
    for n, path in enumerate(paths):
        ctx.progress(n, len(paths), f"case {path.name}")
        with Case.open(path, read_only=True) as case:
            details = case.details
            if not case.integrity.ok:
                notes.append(f"{path}: integrity problems: {'; '.join(case.integrity.problems())}")
            for item in case.evidence():
                regions = case.regions(item.id)
                image = image_by_sha.get(item.sha256)
                if image is None:
                    image = {
                        "id": len(images) + 1,
                        "file_name": item.name,
                        "width": int(item.facts.get("width", 0)),
                        "height": int(item.facts.get("height", 0)),
                        "sha256": item.sha256,
                        "size": item.size,
                        "format": item.facts.get("format"),
                        "reference_sha256": item.reference_sha256,
                        "reference_file_name": None,
                        "source_path": item.path,
                    }
                    if copy_images:
                        image["file_name"] = f"images/{item.sha256[:16]}-{_safe_name(item.name)}"
                        _copy_verified(Path(item.path), out / image["file_name"], item.sha256)
                        if item.reference_path and item.reference_sha256:
                            ref_name = f"references/{item.reference_sha256[:16]}-{_safe_name(Path(item.reference_path).name)}"
                            _copy_verified(Path(item.reference_path), out / ref_name, item.reference_sha256)
                            image["reference_file_name"] = ref_name
                    images.append(image)
                    image_by_sha[item.sha256] = image
                if not regions:
                    continue
                pixels = case.load_evidence(item.id).pixels
                for r in regions:
                    ann_id = len(annotations) + 1
                    cats = [c.value for c in r.categories]
                    rec = region_reconstruction(case, item.id, r.comparison)
                    crop = _crop_png(pixels, r.bbox())
                    if crop is not None:
                        from examiner.training.derived_xmp import annotate_png

                        # The crop shows the evidence's own pixels; a codec made them only when the
                        # case records the evidence itself as a codec's output.
                        made_by = rec if rec.get("source") == "evidence" and rec.get("codec") else None
                        crop = annotate_png(crop, "dataset crop", item.sha256, made_by)
                    crop_name = None
                    if crop is not None:
                        crop_name = f"crops/{ann_id:06d}.png"
                        (out / crop_name).write_bytes(crop)
                        crops += 1
                    annotations.append({
                        "id": ann_id,
                        "image_id": image["id"],
                        "category_id": _CAT_ID[cats[0] if cats else UNCLASSIFIED],
                        "bbox": [float(v) for v in r.bbox()],
                        "segmentation": [segmentation(r)],
                        "area": float(region_area(r)),
                        "iscrowd": 0,
                        "attributes": {
                            "categories": cats,
                            "symbol": bool(r.symbol),
                            "codec": rec["codec"],
                            "quality": rec["quality"],
                            "bpp": rec["bpp"],
                            "bpp_band": bpp_band(rec["bpp"]),
                            "reconstruction_source": rec["source"],
                            "shape": r.kind.value,
                            "points": [list(p) for p in r.points],
                            "evidence_says": r.evidence_says,
                            "comparison_says": r.comparison_says,
                            "comparison": r.comparison,
                            "confidence": r.confidence,
                            "notes": r.notes,
                            "author": r.author,
                            "created_utc": r.created_utc,
                            "provenance": r.provenance,
                            "case_id": details.case_id,
                            "case_file": path.name,
                            "region_id": r.id,
                            "crop_file": crop_name,
                        },
                    })  # fmt: skip
                    codec = str(rec["codec"] or "unknown")
                    quality = "" if rec["quality"] is None else str(rec["quality"])
                    for cat in cats or [UNCLASSIFIED]:
                        prevalence[(cat, codec, quality, bpp_band(rec["bpp"]))] += 1
                        if r.symbol:
                            symbol_prevalence[(cat, codec, quality, bpp_band(rec["bpp"]))] += 1
    doc = {
        "info": {
            "description": "Miscompression regions marked with the Miscompression Examiner",
            "version": str(DATASET_VERSION),
            "year": int(utc_now()[:4]),
            "contributor": ", ".join(sorted({a["attributes"]["author"] for a in annotations if a["attributes"]["author"]})),
            "date_created": utc_now(),
            "format": DATASET_FORMAT,
            "program_version": __version__,
            "taxonomy": "Hofer and Boehme, arXiv:2409.05490: amplitude, geometry, shape; Symbol flag",
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": COCO_CATEGORIES,
    }
    (out / ANNOTATIONS_NAME).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    rows = _write_prevalence(out / PREVALENCE_NAME, prevalence, symbol_prevalence)
    if not copy_images:
        for d in ("images", "references"):
            if (out / d).is_dir() and not any((out / d).iterdir()):
                (out / d).rmdir()
    ctx.progress(len(paths), len(paths), "dataset written")
    return ExportResult(out, len(paths), len(images), len(annotations), crops, rows, notes)


def _copy_verified(src: Path, dst: Path, sha256: str) -> None:
    """Copy an evidence file byte for byte and check the copy against the intake hash."""
    from examiner.core.evidence import hash_file
    from examiner.core.safe_files import require_regular

    if dst.exists():
        return
    require_regular(src)  # shutil would copy /dev/zero until the disk is full
    try:
        shutil.copyfile(src, dst)
    except OSError as exc:
        raise ExaminerError(f"{src}: cannot copy into the dataset ({exc.strerror or exc})") from None
    actual, _ = hash_file(dst)
    if actual != sha256:
        dst.unlink(missing_ok=True)
        raise ExaminerError(f"{src}: SHA-256 changed since intake (was {sha256}, now {actual}); not exported")


def _write_prevalence(path: Path, counts: Counter[tuple[str, str, str, str]],
                      symbols: Counter[tuple[str, str, str, str]]) -> int:  # fmt: skip
    """Long-format table: one row per category, codec, quality and bpp band, then the totals per
    category and per codec (``all`` in the other columns)."""
    cat_order = {c: i for i, c in enumerate([*(c.value for c in CORE_CATEGORIES), Category.TEXTURE.value, UNCLASSIFIED])}
    rows: list[tuple[str, str, str, str, int, int]] = []
    for key in sorted(counts, key=lambda k: (cat_order.get(k[0], 99), k[1], k[2], k[3])):
        rows.append((*key, counts[key], symbols[key]))
    by_cat: Counter[str] = Counter()
    by_cat_sym: Counter[str] = Counter()
    by_codec: Counter[tuple[str, str]] = Counter()
    by_codec_sym: Counter[tuple[str, str]] = Counter()
    for (cat, codec, _q, band), v in counts.items():
        by_cat[cat] += v
        by_cat_sym[cat] += symbols[(cat, codec, _q, band)]
        by_codec[(codec, band)] += v
        by_codec_sym[(codec, band)] += symbols[(cat, codec, _q, band)]
    for cat in sorted(by_cat, key=lambda c: cat_order.get(c, 99)):
        rows.append((cat, "all", "all", "all", by_cat[cat], by_cat_sym[cat]))
    for codec, band in sorted(by_codec):
        rows.append(("all", codec, "all", band, by_codec[(codec, band)], by_codec_sym[(codec, band)]))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["category", "codec", "quality", "bpp_band", "regions", "symbol_regions"])
        w.writerows(rows)
    return len(rows)


# ---------------------------------------------------------------------------- back into a case


def load_coco(folder: str | Path) -> dict[str, Any]:
    p = Path(folder) / ANNOTATIONS_NAME
    if not p.is_file():
        raise ExaminerError(f"{folder}: no {ANNOTATIONS_NAME} (not an exported dataset)")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ExaminerError(f"{p}: not readable as JSON ({str(exc)[:200]})") from None
    for key in ("images", "annotations", "categories"):
        if not isinstance(doc.get(key), list):
            raise ExaminerError(f"{p}: not a COCO file (no {key} list)")
    return doc


def _region_from_annotation(a: dict[str, Any], evidence_id: int, names: dict[int, str]) -> Region:
    attrs = a.get("attributes") or {}
    cats = attrs.get("categories")
    if cats is None:
        name = names.get(int(a["category_id"]))
        cats = [] if name in (None, UNCLASSIFIED) else [name]
    points = attrs.get("points")
    kind = attrs.get("shape")
    if not points or kind not in {k.value for k in ShapeKind}:
        seg = a["segmentation"][0]
        points = [(seg[i], seg[i + 1]) for i in range(0, len(seg) - 1, 2)]
        kind = ShapeKind.POLYGON.value
    return Region.from_dict({
        "evidence_id": evidence_id,
        "kind": kind,
        "points": points,
        "categories": cats,
        "symbol": attrs.get("symbol", False),
        "evidence_says": attrs.get("evidence_says", ""),
        "comparison_says": attrs.get("comparison_says", ""),
        "comparison": attrs.get("comparison", ""),
        "confidence": attrs.get("confidence", "medium"),
        "notes": attrs.get("notes", ""),
        "author": attrs.get("author", ""),
        "created_utc": attrs.get("created_utc", ""),
        "provenance": attrs.get("provenance") or "imported",
    })  # fmt: skip


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _dataset_file(folder: Path, name: Any) -> Path:
    """A file named in annotations.json: a relative path that stays inside the dataset folder."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ExaminerError(f"{folder / ANNOTATIONS_NAME}: an image has no usable file_name ({str(name)[:80]!r})")
    pp = PurePosixPath(name)
    base = folder.resolve()
    target = (folder / name).resolve()
    if pp.is_absolute() or ".." in pp.parts or "\\" in name or not target.is_relative_to(base) or target == base:
        raise ExaminerError(f"{folder / ANNOTATIONS_NAME}: refused: file name {name[:200]!r} points outside the dataset folder")
    return target


def _dataset_sha256(path: Path, value: Any) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ExaminerError(f"{path}: the dataset gives no valid SHA-256 for this file ({str(value)[:80]!r}); refused")
    return value


def import_dataset(folder: str | Path, out_case: str | Path, examiner: str = "", case_id: str = "",
                   ctx: TaskContext | None = None) -> Path:  # fmt: skip
    """A new case from an exported dataset folder (with its copied images)."""
    from examiner.core.case import Case

    ctx = ctx or TaskContext()
    folder = Path(folder)
    doc = load_coco(folder)
    out_case = Path(out_case)
    if out_case.exists():
        raise ExaminerError(f"{out_case}: already exists; choose another case file name")
    try:
        names = {int(c["id"]): str(c["name"]) for c in doc["categories"]}
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ExaminerError(f"{folder / ANNOTATIONS_NAME}: the categories are malformed ({str(exc)[:200]})") from None
    authors = sorted({
        attrs["author"] for a in doc["annotations"]
        if isinstance(a, dict) and isinstance(attrs := a.get("attributes"), dict) and isinstance(attrs.get("author"), str)
    } - {""})  # fmt: skip
    try:
        with Case.create(out_case, case_id=case_id or f"IMPORTED {folder.name}"[:200],
                         examiner=examiner or (", ".join(authors) or "imported dataset"),
                         title=f"Imported from the dataset {folder.name}") as case:  # fmt: skip
            evidence_of: dict[int, int] = {}
            for n, img in enumerate(doc["images"]):
                if not isinstance(img, dict) or not isinstance(img.get("id"), int):
                    raise ExaminerError(f"{folder / ANNOTATIONS_NAME}: image entry {n + 1} has no integer id")
                ctx.progress(n, len(doc["images"]), f"image {img.get('file_name')}")
                f = _dataset_file(folder, img.get("file_name"))
                if not f.is_file():
                    raise ExaminerError(f"{f}: image file of the dataset is missing (export with images to round-trip)")
                ref_name = img.get("reference_file_name")
                ref = _dataset_file(folder, ref_name) if ref_name else None
                want = _dataset_sha256(f, img.get("sha256"))
                want_ref = _dataset_sha256(ref, img.get("reference_sha256")) if ref is not None else None
                item = case.add_evidence(f, reference=ref)
                if item.sha256 != want:
                    raise ExaminerError(f"{f}: SHA-256 {item.sha256} differs from the dataset's {want}")
                if ref is not None and item.reference_sha256 != want_ref:
                    raise ExaminerError(f"{ref}: SHA-256 {item.reference_sha256} differs from the dataset's {want_ref}")
                evidence_of[int(img["id"])] = item.id
            origins = {}
            for a in doc["annotations"]:
                if not isinstance(a, dict):
                    raise ExaminerError(f"{folder / ANNOTATIONS_NAME}: an annotation is not an object")
                ev = evidence_of.get(a.get("image_id")) if isinstance(a.get("image_id"), int) else None
                if ev is None:
                    raise ExaminerError(f"annotation {a.get('id')} refers to image {a.get('image_id')}, which is not in the dataset")
                try:
                    region = _region_from_annotation(a, ev, names)
                except (KeyError, TypeError, ValueError, IndexError, OverflowError, AttributeError) as exc:
                    raise ExaminerError(f"{folder / ANNOTATIONS_NAME}: annotation {str(a.get('id'))[:40]} is malformed "
                                        f"({str(exc)[:200]})") from None  # fmt: skip
                case.add_region(region)
                attrs = a.get("attributes") or {}
                if attrs.get("reconstruction_source") == "evidence" and attrs.get("codec"):
                    origins[case.evidence_item(ev).sha256] = {k: attrs.get(k) for k in ("codec", "quality", "bpp")}
            if origins:
                from examiner.training.provenance import EVIDENCE_ORIGIN_META_KEY

                case.set_meta(EVIDENCE_ORIGIN_META_KEY, origins)
    except BaseException:
        out_case.unlink(missing_ok=True)
        raise
    return out_case
