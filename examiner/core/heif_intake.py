"""HEIF/HEIC intake: the box structure checked, the item list recorded, the primary image decoded.

pillow-heif (libheif) decodes; everything it would otherwise do silently is either checked first
or recorded. The top-level boxes must fill the file exactly (libheif decodes a file whose tail is
cut off as long as the primary image's bytes survive). The primary image's size is checked
against the pixel limit from the header before any pixel is decoded. Only HEVC-coded images (and
grids or identity-derived images of them) are examined; other item types a HEIF can hold are
refused by name. Thumbnails, depth maps and other auxiliary images are counted, never decoded as
evidence. 10-bit and 12-bit samples are kept in ``uint16``, scaled to the 16-bit range the way
libheif delivers them (shifted left, exactly: the low bits are zero), and the true depth is
recorded.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from examiner.core.isobmff import BoxError, find, ftyp_brands, heif_items, top_level
from examiner.core.text_safety import safe_text
from examiner.errors import EvidenceError

# Brands that say "HEIF still image(s) coded with HEVC" (or the generic HEIF structure brands).
HEIF_BRANDS = frozenset({"heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs", "mif1", "mif2", "msf1"})
# Item types whose pixels the tool examines: HEVC images and images derived from them without
# resampling (grids tile them, "iden" applies the transformative properties).
EXAMINABLE_ITEM_TYPES = frozenset({"hvc1", "grid", "iden"})
_CODING_NAMES = {
    "av01": "AV1 (an AVIF image in a non-AVIF file)",
    "avc1": "H.264/AVC",
    "jpeg": "JPEG",
    "j2k1": "JPEG 2000",
    "unci": "uncompressed (ISO/IEC 23001-17)",
    "vvc1": "H.266/VVC",
    "evc1": "MPEG-5 EVC",
    "iovl": "an overlay (composited) image",
    "tmap": "a tone-mapped (gain map) derived image",
    "mski": "a mask",
}


def is_heif(head: bytes) -> bool:
    if head[4:8] != b"ftyp":
        return False
    box_len = int.from_bytes(head[0:4], "big")
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(box_len, len(head), 64), 4)}
    return any(b.decode("latin-1") in HEIF_BRANDS for b in brands)


def decode_heif(p: Path, data: bytes, limit: int, facts: Any, check_limit: Any) -> np.ndarray:
    """Decode the primary image of a HEIF file into ``facts`` (an EvidenceFacts) and pixels."""
    import pillow_heif

    details = _structure(p, data)
    facts.format_facts = details
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)
    except Exception as exc:  # noqa: BLE001 - libheif raises several types on hostile input
        raise EvidenceError(p, f"corrupt or unsupported HEIF data ({safe_text(' '.join(str(exc).split()), 200)})") from None
    primary_index = int(heif.primary_index)
    images = [heif[i] for i in range(len(heif))]
    primary = images[primary_index]
    # The header (ispe) gives the size; nothing has been decoded yet.
    check_limit(p, primary.size, limit)
    details["image_count"] = len(images)
    details["primary_index"] = primary_index
    details["images"] = [_image_facts(i, img) for i, img in enumerate(images)]
    details["thumbnails"] = sum(_count(img.info.get("thumbnails")) for img in images)
    details["depth_images"] = sum(_count(img.info.get("depth_images")) for img in images)
    details["auxiliary_images"] = sum(
        _count(ids) for img in images for ids in _mapping(img.info.get("aux")).values()
    )
    details["colour_profile"] = _colour_profile(primary.info)
    facts.width, facts.height = primary.size
    bit_depth = primary.info.get("bit_depth")
    facts.bit_depth = bit_depth if isinstance(bit_depth, int) and bit_depth else 8
    facts.icc_profile = bool(primary.info.get("icc_profile"))
    orientation = _stored_orientation(primary)
    facts.exif_orientation = orientation if orientation is not None and 1 <= orientation <= 8 else None
    facts.frames = len(images)
    if len(images) > 1:
        facts.conversions.append(
            f"multi-image HEIF ({len(images)} top-level images): primary image (index {primary_index}) decoded"
        )
    if details["transformations"]:
        facts.conversions.append(
            "HEIF transformative properties (" + ", ".join(details["transformations"]) + ") applied by libheif: "
            "they are part of the image's definition in HEIF; the EXIF orientation is recorded, not applied"
        )
    pixels = _pixels(p, primary, facts)
    facts.mode = primary.mode
    return pixels


def _structure(p: Path, data: bytes) -> dict[str, Any]:
    try:
        boxes = top_level(data)
        ftyp = find(boxes, b"ftyp")
        meta = find(boxes, b"meta")
        if ftyp is None or boxes[0].type != b"ftyp":
            raise BoxError("the file does not start with an ftyp box")
        if meta is None:
            raise EvidenceError(p, "HEIF holds no still image (no meta box; an image sequence is not examined)")
        major, compatible = ftyp_brands(data, ftyp)
        items = heif_items(data, meta)
    except BoxError as exc:
        raise EvidenceError(p, f"HEIF structure is broken: {exc}") from None
    by_id = {int(str(it["id"])): it for it in items.items}
    if items.primary_id is None or items.primary_id not in by_id:
        raise EvidenceError(p, "HEIF names no primary image (no pitm box, or it points at no item)")
    ptype = str(by_id[items.primary_id]["type"])
    if ptype not in EXAMINABLE_ITEM_TYPES:
        coding = _CODING_NAMES.get(ptype, f"item type {safe_text(ptype, 8)!r}")
        raise EvidenceError(
            p, f"the HEIF primary image is {coding}, which the tool cannot examine (it examines HEVC-coded HEIF images)"
        )
    counts: dict[str, int] = {}
    for it in items.items:
        counts[safe_text(it["type"], 8)] = counts.get(safe_text(it["type"], 8), 0) + 1
    return {
        "container": "HEIF",
        "major_brand": safe_text(major, 8),
        "compatible_brands": [safe_text(b, 8) for b in compatible],
        "primary_item_id": items.primary_id,
        "primary_item_type": ptype,
        "item_types": counts,
        "item_references": items.references,
        "transformations": [t for t in ("irot", "imir", "clap") if t in items.properties],
        "top_level_boxes": [b.name for b in boxes][:64],
    }


def _image_facts(index: int, img: Any) -> dict[str, Any]:
    return {
        "index": index,
        "primary": bool(img.info.get("primary")),
        "width": int(img.size[0]),
        "height": int(img.size[1]),
        "mode": str(img.mode),
        "bit_depth": int(img.info.get("bit_depth") or 8),
        "thumbnails": len(img.info.get("thumbnails") or []),
        "depth_images": len(img.info.get("depth_images") or []),
        "auxiliary": {safe_text(k, 80): len(v) for k, v in (img.info.get("aux") or {}).items()},
        "has_alpha": bool(img.has_alpha),
    }


def _colour_profile(info: dict[str, Any]) -> dict[str, Any] | None:
    if info.get("icc_profile"):
        return {"type": safe_text(info.get("icc_profile_type") or "icc", 8), "icc_bytes": len(info["icc_profile"])}
    nclx = info.get("nclx_profile")
    if nclx:
        return {"type": "nclx", **{safe_text(k, 40): safe_text(v, 40) for k, v in dict(nclx).items()}}
    return None


def _pixels(p: Path, img: Any, facts: Any) -> np.ndarray:
    mode = str(img.mode)
    base, _, depth = mode.partition(";")
    dtype = np.uint16 if depth else np.uint8
    channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}.get(base)
    if channels is None:
        raise EvidenceError(p, f"HEIF pixel mode {safe_text(mode, 20)!r} is not supported by the decode policy")
    w, h = img.size
    raw = img.data  # decodes the primary image here
    stride = int(img.stride)
    itemsize = np.dtype(dtype).itemsize
    if stride < w * channels * itemsize or len(raw) < stride * h:
        raise EvidenceError(p, "HEIF image could not be decoded completely")
    rows = np.frombuffer(raw, dtype=np.uint8, count=stride * h).reshape(h, stride)
    # libheif hands over samples in the machine's byte order.
    arr = rows[:, : w * channels * itemsize].copy().view(dtype).reshape(h, w, channels)
    facts.channels = channels
    if facts.bit_depth > 8 and dtype == np.uint16:
        shift = 16 - facts.bit_depth
        facts.conversions.append(
            f"{facts.bit_depth}-bit samples kept in uint16, scaled to the 16-bit range by libheif "
            f"(x{1 << shift}, exact: divide by {1 << shift} for the stored values)"
        )
    if channels in (2, 4):
        facts.conversions.append(("greyscale+alpha -> greyscale" if channels == 2 else "RGBA -> RGB") + " (alpha channel discarded)")
        arr = arr[..., : channels - 1]
    if arr.shape[2] == 1:
        arr = arr[..., 0]
    return np.ascontiguousarray(arr)


def _stored_orientation(img: Any) -> int | None:
    """The EXIF orientation as stored (pillow-heif rewrites its own copy to 1)."""
    from PIL import Image

    from examiner.core.container_metadata import tiff_part

    stored = [m for m in getattr(getattr(img, "_c_image", None), "metadata", None) or [] if m]
    raw = next((bytes(m["data"]) for m in stored if m.get("type") == "Exif"), b"")
    tiff = tiff_part(raw)
    if tiff:
        try:
            value = Image.Exif()
            value.load(tiff)
            found = value.get(0x0112)
            return int(found) if isinstance(found, int) else None
        except Exception:  # noqa: BLE001 - a broken EXIF block is reported by the metadata reader
            return None
    fallback = img.info.get("original_orientation")
    return int(fallback) if isinstance(fallback, int) else None


# pillow_heif types `info` as one union of every value it may hold; these read the ones counted here.
def _count(value: object) -> int:
    return len(value) if isinstance(value, (list, tuple, dict)) else 0


def _mapping(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}
