"""Where HEIF and JPEG XL files keep their EXIF, for the metadata reader.

exifread reads HEIF itself, from the file's own bytes; for JPEG XL the EXIF sits in an ``Exif``
box (a 4-byte offset, then a TIFF structure) that exifread does not know, so the TIFF part is
handed over. pillow-heif's own EXIF copy is not used: it rewrites the orientation to 1 in memory.
"""

from __future__ import annotations

from examiner.core.isobmff import BoxError, iter_boxes


def exif_source(data: bytes, fmt: str) -> bytes:
    """The bytes exifread should be given for a file of format ``fmt``."""
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
