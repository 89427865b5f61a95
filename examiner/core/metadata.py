"""Image metadata as untrusted text: EXIF, GPS and maker tags (via exifread), XMP, PNG text.

Everything read from a file is attacker-controlled. Values come back as bounded strings with NUL
and control characters escaped (markup is kept as literal text; renderers escape it), so a
hostile tag can neither break JSON, a terminal nor a report. Reading metadata never fails
intake: a broken block is reported under ``errors``.
"""

from __future__ import annotations

import hashlib
import io
import logging
from typing import Any

from examiner.core.png_text import read_png_text
from examiner.core.text_safety import MAX_XMP_CHARS, safe_text, text_notices

MAX_TAGS = 2000
MAX_NOTICES = 50

# exifread logs parse problems of hostile files at WARNING/ERROR; they are reported in
# ``errors`` instead of cluttering stderr.
logging.getLogger("exifread").setLevel(logging.CRITICAL)


def read_exif(data: bytes) -> dict[str, Any]:
    """EXIF, GPS and maker-note tags as ``tag name -> string``, plus the embedded thumbnail."""
    import exifread

    result: dict[str, Any] = {"tags": {}, "thumbnail": None, "errors": [], "notices": []}
    try:
        tags = exifread.process_file(io.BytesIO(data), details=True, extract_thumbnail=True)
    except Exception as exc:  # noqa: BLE001 - hostile EXIF must not stop intake
        result["errors"].append(f"EXIF unreadable: {safe_text(exc, 200)}")
        return result
    out: dict[str, str] = {}
    for name, value in tags.items():
        if name in ("JPEGThumbnail", "TIFFThumbnail"):
            if isinstance(value, bytes | bytearray) and value:
                result["thumbnail"] = {
                    "kind": "JPEG" if name == "JPEGThumbnail" else "TIFF",
                    "length": len(value),
                    "sha256": hashlib.sha256(bytes(value)).hexdigest(),
                }
            continue
        if len(out) >= MAX_TAGS:
            result["errors"].append(f"more than {MAX_TAGS} tags; the rest were not listed")
            break
        try:
            printable = getattr(value, "printable", value)
        except Exception:  # noqa: BLE001
            printable = "<unprintable>"
        out[safe_text(name, 120)] = safe_text(printable)
        if len(result["notices"]) < MAX_NOTICES:
            result["notices"].extend(text_notices(f"EXIF {safe_text(name, 120)}", printable))
    result["tags"] = out
    return result


def read_metadata(data: bytes, fmt: str) -> dict[str, Any]:
    """Metadata of an image file's bytes: EXIF tags, GPS, software, XMP, PNG text chunks, and
    for JPEG the full marker structure (see :mod:`examiner.core.jpeg_structure`)."""
    from examiner.core.container_metadata import exif_source
    from examiner.core.jpeg_structure import JpegStructureError, parse_jpeg

    exif = read_exif(exif_source(data, fmt))
    tags: dict[str, str] = exif["tags"]
    meta: dict[str, Any] = {
        "exif": tags,
        "gps": {k: v for k, v in tags.items() if k.startswith("GPS ")},
        "maker_note_tags": sum(1 for k in tags if k.startswith("MakerNote ")),
        "software": tags.get("Image Software"),
        "camera": " ".join(v for v in (tags.get("Image Make"), tags.get("Image Model")) if v) or None,
        "datetime_original": tags.get("EXIF DateTimeOriginal"),
        "thumbnail": exif["thumbnail"],
        "xmp": None,
        "text_chunks": {},
        "jpeg": None,
        "errors": list(exif["errors"]),
        "notices": list(exif["notices"]),
    }
    if fmt == "jpeg":
        try:
            jpeg = parse_jpeg(data)
        except JpegStructureError as exc:
            meta["errors"].append(f"JPEG structure: {exc}")
        else:
            meta["jpeg"] = jpeg
            meta["xmp"] = jpeg.get("xmp")
            meta["notices"].extend(_jpeg_notices(data, jpeg))
    elif fmt in ("heif", "jxl"):
        from examiner.core.xmp import find_packet

        packet = find_packet(data, fmt)
        if packet:
            meta["xmp"] = {"length": len(packet), "text": safe_text(packet, MAX_XMP_CHARS)}
    elif fmt == "png":
        # Every text chunk, also after the image data, compressed ones inflated only up to a
        # bound (see png_text): Pillow stops at the pixels and gives up on a zTXt bomb.
        text = read_png_text(data)
        meta.update({"text_chunks": text.chunks, "xmp": text.xmp})
        meta["notices"].extend(text.notices)
        meta["errors"].extend(text.errors)
    else:
        meta.update(_pillow_metadata(data, fmt, meta["errors"]))
    if isinstance(meta["xmp"], dict):
        meta["notices"].extend(meta["xmp"].pop("notices", []))
    return meta


def _jpeg_notices(data: bytes, jpeg: dict[str, Any]) -> list[str]:
    from examiner.core.jpeg_structure import scan_segments

    total = jpeg["comment_bytes"]
    flagged: dict[str, int] = {}
    for seg in scan_segments(data).segments:
        if seg.marker != 0xFE:
            continue
        body = data[seg.payload_start : seg.payload_start + seg.length - 2]
        for n in text_notices("", body, 512):
            if "bytes long" not in n:
                flagged[n.split(": ", 1)[1]] = flagged.get(n.split(": ", 1)[1], 0) + 1
    notices = [f"JPEG comments ({count} segment(s)): {why}" for why, count in flagged.items()]
    if total > 65536:
        notices.append(f"JPEG comments total {total} bytes in {jpeg['comment_count']} segment(s)")
    if jpeg.get("trailing_bytes"):
        notices.append(f"{jpeg['trailing_bytes']} bytes follow the EOI marker (appended data)")
    return notices


def _pillow_metadata(data: bytes, fmt: str, errors: list[str]) -> dict[str, Any]:
    from PIL import Image

    from examiner.core.formats import PIL_FORMATS

    found: dict[str, Any] = {}
    try:
        with Image.open(io.BytesIO(data), formats=[PIL_FORMATS[fmt]]) as img:
            info = dict(img.info)
            if fmt == "tiff":
                xmp_raw = getattr(img, "tag_v2", {}).get(700)
                if xmp_raw:
                    info["xmp"] = xmp_raw
    except Exception as exc:  # noqa: BLE001 - metadata is best effort; pixels are checked elsewhere
        errors.append(f"metadata unreadable: {safe_text(exc, 200)}")
        return found
    xmp_raw = info.pop("xmp", None) or info.pop("XML:com.adobe.xmp", None)
    if xmp_raw:
        raw = xmp_raw if isinstance(xmp_raw, bytes) else str(xmp_raw).encode("utf-8", "replace")
        found["xmp"] = {"length": len(raw), "text": safe_text(raw, MAX_XMP_CHARS), "notices": text_notices("XMP", raw, MAX_XMP_CHARS)}
    text_chunks: dict[str, str] = {}
    for key, value in info.items():
        if key in ("icc_profile", "exif", "dpi", "transparency", "gamma", "compression", "resolution"):
            continue
        if isinstance(value, str | bytes) and len(text_chunks) < 100:
            text_chunks[safe_text(key, 80)] = safe_text(value)
    found["text_chunks"] = text_chunks
    return found
