"""Small generated test images, valid and hostile. Nothing here is read from disk."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def pattern(height: int = 32, width: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 255 // max(1, width - 1), yy * 255 // max(1, height - 1), (xx + yy) % 256], axis=-1)
    noise = rng.integers(0, 40, size=(height, width, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def encode(arr: np.ndarray, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def jpeg_bytes(arr: np.ndarray | None = None, **kwargs: object) -> bytes:
    return encode(pattern() if arr is None else arr, "JPEG", **kwargs)


def png_chunk(ctype: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", zlib.crc32(ctype + payload))


def png_bomb(width: int = 20000, height: int = 20000, colour_type: int = 2) -> bytes:
    """A PNG whose header claims a huge image but carries almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def tiff_exif_block(
    entries: dict[int, bytes], claimed: dict[int, int] | None = None, thumbnail: bytes | None = None
) -> bytes:
    """A little-endian TIFF header + IFD0 with ASCII/UNDEFINED entries (raw bytes, NULs allowed).

    ``claimed`` overrides the count field of a tag (a hostile length); ``thumbnail`` adds IFD1
    with a JPEG thumbnail, as cameras write it."""
    claimed = claimed or {}
    n = len(entries)
    ifd0_size = 2 + 12 * n + 4
    ifd1_size = 2 + 12 * 2 + 4 if thumbnail is not None else 0
    data_off = 8 + ifd0_size + ifd1_size
    ifd = struct.pack("<H", n)
    blob = b""
    for tag, value in sorted(entries.items()):
        typ = 7 if tag == 0x9286 else 2
        count = claimed.get(tag, len(value))
        if len(value) <= 4:
            ifd += struct.pack("<HHI", tag, typ, count) + value.ljust(4, b"\x00")
        else:
            ifd += struct.pack("<HHII", tag, typ, count, data_off + len(blob))
            blob += value
    ifd1 = b""
    if thumbnail is not None:
        thumb_off = data_off + len(blob)
        blob += thumbnail
        ifd += struct.pack("<I", 8 + ifd0_size)
        ifd1 = struct.pack("<H", 2)
        ifd1 += struct.pack("<HHII", 0x0201, 4, 1, thumb_off) + struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail))
        ifd1 += struct.pack("<I", 0)
    else:
        ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + ifd1 + blob


def with_app1(jpeg: bytes, payload: bytes) -> bytes:
    """Insert an APP1 segment right after SOI."""
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def hostile_jpeg(comment_bytes: int = 1024 * 1024) -> bytes:
    """A valid JPEG whose EXIF holds markup and NUL bytes and a UserComment claiming a megabyte,
    followed by ``comment_bytes`` of COM segments (one holds at most 65533 bytes)."""
    clean = jpeg_bytes()
    markup = b"<script>alert('x')</script><b>bold</b>\x00hidden\x00\x1b[31mred"
    exif = b"Exif\x00\x00" + tiff_exif_block(
        {
            0x010F: markup + b"\x00",
            0x0131: b"Evil\x00Soft<ware>\x00",
            0x010E: b"A" * 5000 + b"\x00",
            0x9286: b"ASCII\x00\x00\x00<html>" + b"\x00" * 32,
        },
        claimed={0x9286: comment_bytes},
    )
    coms = b""
    remaining = comment_bytes
    while remaining > 0:
        size = min(65533, remaining)
        body = (b"<html>\x00" * (size // 7 + 1))[:size]
        coms += b"\xff\xfe" + struct.pack(">H", size + 2) + body
        remaining -= size
    return with_app1(clean, exif)[: 2 + 4 + len(exif)] + coms + clean[2:]
