"""Where HEIF and JPEG XL files keep their EXIF, for the metadata reader.

exifread's own HEIF reader fails on files libheif writes, and for JPEG XL the EXIF sits in an
``Exif`` box (a 4-byte offset, then a TIFF structure) that exifread does not know; in both cases
the TIFF structure is found here and handed over. For HEIF it is taken from libheif's metadata
list as stored: pillow-heif's ``info["exif"]`` copy has its orientation rewritten to 1.
"""

from __future__ import annotations

from examiner.core.isobmff import BoxError, iter_boxes


def exif_source(data: bytes, fmt: str) -> bytes:
    """The bytes exifread should be given for a file of format ``fmt``."""
    if fmt == "heif":
        return _heif_exif(data)
    if fmt != "jxl":
        return data
    if not data.startswith(b"\x00\x00\x00\x0cJXL "):
        return b""  # a bare codestream has no boxes, so no EXIF
    try:
        for box in iter_boxes(data):
            if box.type == b"Exif" and box.end - box.body > 4:
                offset = int.from_bytes(data[box.body : box.body + 4], "big")
                start = box.body + 4 + offset
                return data[start : box.end] if start < box.end else b""
    except BoxError:
        return b""
    return b""


def tiff_part(raw: bytes) -> bytes:
    for magic in (b"MM\x00*", b"II*\x00"):
        at = raw.find(magic, 0, 16)
        if at >= 0:
            return raw[at:]
    return b""


def _heif_exif(data: bytes) -> bytes:
    import io

    import pillow_heif

    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)
        image = heif[heif.primary_index]
        stored = [m for m in getattr(getattr(image, "_c_image", None), "metadata", None) or [] if m]
        raw = next((bytes(m["data"]) for m in stored if m.get("type") == "Exif"), None)
        if raw is None:
            exif = image.info.get("exif")
            raw = bytes(exif) if isinstance(exif, (bytes, bytearray)) else b""
    except Exception:  # noqa: BLE001 - intake reports a broken file; metadata just has none
        return b""
    return tiff_part(raw)
