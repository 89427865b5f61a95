"""Mutations of valid image files for fuzzing intake (used by the test and by the benchmark).

Every mutation is driven by an integer seed so a failing case can be replayed exactly.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from imagegen import encode, jpeg_bytes, pattern, tiff_exif_block, with_app1
from PIL import Image

from examiner.core.evidence import open_evidence
from examiner.errors import ExaminerError

# Small enough that a mutated header cannot make a test allocate much memory.
FUZZ_MAX_PIXELS = 4_000_000


def seed_files() -> dict[str, bytes]:
    """Valid files of every fuzzed format and the layouts that take different decoder paths."""
    rgb = pattern(24, 28, seed=11)
    grey = rgb[..., 1]
    out = {
        "jpeg-baseline": jpeg_bytes(rgb, quality=80),
        "jpeg-progressive": jpeg_bytes(rgb, progressive=True),
        "jpeg-restart": jpeg_bytes(rgb, restart_marker_blocks=1),
        "jpeg-exif": with_app1(jpeg_bytes(rgb), b"Exif\x00\x00" + tiff_exif_block({0x0131: b"Soft\x00"}, thumbnail=jpeg_bytes(rgb[:8, :8]))),
        "jpeg-grey": encode(grey, "JPEG"),
        "png-rgb": encode(rgb, "PNG"),
        "png-palette": _save(Image.fromarray(rgb).convert("P"), "PNG"),
        "png-rgba": _save(Image.fromarray(rgb).convert("RGBA"), "PNG"),
        "png-grey16": cv2.imencode(".png", (grey.astype(np.uint16) * 257))[1].tobytes(),
        "png-rgb16": cv2.imencode(".png", (rgb.astype(np.uint16) * 257))[1].tobytes(),
        "tiff-raw": encode(rgb, "TIFF"),
        "tiff-lzw": encode(rgb, "TIFF", compression="tiff_lzw"),
        "tiff-rgb16": cv2.imencode(".tiff", (rgb.astype(np.uint16) * 257))[1].tobytes(),
        "tiff-cmyk": _save(Image.fromarray(rgb).convert("CMYK"), "TIFF"),
        "webp-lossy": encode(rgb, "WEBP", quality=70),
        "webp-lossless": encode(rgb, "WEBP", lossless=True),
        "bmp": encode(rgb, "BMP"),
    }
    return out


def _save(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


# ---------------------------------------------------------------- mutations


def bit_flips(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(0, len(data))]


def byte_noise(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    start = rng.randrange(len(b))
    for i in range(start, min(len(b), start + rng.randint(1, 64))):
        b[i] = rng.randrange(256)
    return bytes(b)


def splice(data: bytes, rng: random.Random) -> bytes:
    """Duplicate, delete or insert a slice (shifts every later offset)."""
    i = rng.randrange(len(data))
    n = rng.randint(1, 200)
    choice = rng.randrange(3)
    if choice == 0:
        return data[:i] + data[i : i + n] + data[i:]
    if choice == 1:
        return data[:i] + data[i + n :]
    return data[:i] + bytes(rng.randrange(256) for _ in range(n)) + data[i:]


def structure(data: bytes, rng: random.Random) -> bytes:
    """Corrupt a chunk, marker or directory entry of the file's own structure."""
    if len(data) < 32:
        return byte_noise(data, rng)
    if data.startswith(b"\x89PNG"):
        return _png_chunk_corruption(data, rng)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_marker_corruption(data, rng)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff_ifd_corruption(data, rng)
    if data.startswith(b"RIFF"):
        return _riff_corruption(data, rng)
    return byte_noise(data, rng)


def absurd_size(data: bytes, rng: random.Random) -> bytes:
    """Claim enormous, zero or odd dimensions in the header (with checksums kept valid)."""
    w = rng.choice([0, 1, 65535, 0x7FFFFFFF, 0xFFFFFFFF, 20000, rng.randrange(1 << 32)])
    h = rng.choice([0, 1, 65535, 0x7FFFFFFF, 20000, rng.randrange(1 << 32)])
    b = bytearray(data)
    if data.startswith(b"\x89PNG"):
        b[16:24] = struct.pack(">II", w, h)
        b[29:33] = struct.pack(">I", zlib.crc32(bytes(b[12:29])))
    elif data.startswith(b"\xff\xd8"):
        i = _find_sof(data)
        if i is not None:
            b[i + 5 : i + 9] = struct.pack(">HH", h & 0xFFFF, w & 0xFFFF)
    elif data[:4] == b"II*\x00":
        for tag, value in ((256, w), (257, h)):
            _tiff_set_tag(b, tag, value)
    elif data.startswith(b"RIFF") and data[12:16] == b"VP8L":
        bits = ((w - 1) & 0x3FFF) | (((h - 1) & 0x3FFF) << 14)
        b[21:25] = struct.pack("<I", bits | (int.from_bytes(b[21:25], "little") & 0xF0000000))
    elif data.startswith(b"RIFF") and data[12:16] == b"VP8 ":
        b[26:30] = struct.pack("<HH", w & 0x3FFF, h & 0x3FFF)
    elif data.startswith(b"BM"):
        b[18:26] = struct.pack("<ii", w & 0x7FFFFFFF, (h & 0x7FFFFFFF) * rng.choice([1, -1]))
    return bytes(b)


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "bit_flips": bit_flips,
    "truncate": truncate,
    "byte_noise": byte_noise,
    "splice": splice,
    "structure": structure,
    "absurd_size": absurd_size,
}


def _png_chunk_corruption(data: bytes, rng: random.Random) -> bytes:
    chunks = []
    pos = 8
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        if pos + 12 + length > len(data):
            break  # an earlier mutation already broke the chain of chunks
        chunks.append((pos, length))
        pos += 12 + length
    if not chunks:
        return byte_noise(data, rng)
    pos, length = rng.choice(chunks)
    b = bytearray(data)
    what = rng.randrange(5)
    if what == 0:  # length field
        b[pos : pos + 4] = struct.pack(">I", rng.choice([0, length + 1, max(0, length - 1), 0xFFFFFFFF, rng.randrange(1 << 31)]))
    elif what == 1:  # type
        b[pos + 4 + rng.randrange(4)] = rng.randrange(256)
    elif what == 2 and length:  # payload with a recomputed CRC: only the decoder can notice
        b[pos + 8 + rng.randrange(length)] = rng.randrange(256)
        b[pos + 8 + length : pos + 12 + length] = struct.pack(">I", zlib.crc32(bytes(b[pos + 4 : pos + 8 + length])))
    elif what == 3:  # drop the chunk
        del b[pos : pos + 12 + length]
    else:  # duplicate the chunk
        b[pos:pos] = data[pos : pos + 12 + length]
    return bytes(b)


def _jpeg_markers(data: bytes) -> list[int]:
    return [i for i in range(2, len(data) - 1) if data[i] == 0xFF and data[i + 1] not in (0x00, 0xFF) and not 0xD0 <= data[i + 1] <= 0xD7]


def _find_sof(data: bytes) -> int | None:
    for i in _jpeg_markers(data):
        if data[i + 1] in (0xC0, 0xC1, 0xC2):
            return i
    return None


def _jpeg_marker_corruption(data: bytes, rng: random.Random) -> bytes:
    marks = _jpeg_markers(data)
    if not marks:
        return byte_noise(data, rng)
    i = rng.choice(marks)
    b = bytearray(data)
    what = rng.randrange(5)
    if what == 0:
        b[i + 1] = rng.randrange(256)
    elif what == 1 and i + 3 < len(b):
        b[i + 2 : i + 4] = struct.pack(">H", rng.choice([0, 1, 2, 0xFFFF, rng.randrange(1 << 16)]))
    elif what == 2 and i + 3 < len(b):  # a field inside the segment (table values, counts)
        seg_len = int.from_bytes(b[i + 2 : i + 4], "big")
        span = min(seg_len - 2, len(b) - i - 4)
        if span > 0:
            b[i + 4 + rng.randrange(span)] = rng.randrange(256)
    elif what == 3:
        del b[i : i + 2]
    else:
        b[i:i] = b"\xff" + bytes([rng.choice([0xD8, 0xDA, 0xC0, 0xC2, 0xDB, 0xC4, 0xDD, 0xD9])]) + b"\x00\x02"
    return bytes(b)


def _tiff_set_tag(b: bytearray, tag: int, value: int) -> None:
    if b[:4] != b"II*\x00" or len(b) < 8:
        return
    ifd = int.from_bytes(b[4:8], "little")
    if ifd + 2 > len(b):
        return
    n = int.from_bytes(b[ifd : ifd + 2], "little")
    for k in range(min(n, 200)):
        e = ifd + 2 + 12 * k
        if e + 12 > len(b):
            return
        if int.from_bytes(b[e : e + 2], "little") == tag:
            typ = int.from_bytes(b[e + 2 : e + 4], "little")
            if typ == 3:
                b[e + 8 : e + 10] = struct.pack("<H", value & 0xFFFF)
            else:
                b[e + 8 : e + 12] = struct.pack("<I", value & 0xFFFFFFFF)


def _tiff_ifd_corruption(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    if b[:4] != b"II*\x00":
        return byte_noise(data, rng)
    tag = rng.choice([256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 317, 320, 338])
    _tiff_set_tag(b, tag, rng.choice([0, 1, 3, 5, 7, 8, 16, 32, 65535, 0xFFFFFFFF, rng.randrange(1 << 32)]))
    if rng.random() < 0.3:
        b[4:8] = struct.pack("<I", rng.choice([0, 8, len(b), len(b) + 100, 0xFFFFFFFF]))
    return bytes(b)


def _riff_corruption(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    which = rng.randrange(3)
    if which == 0:
        b[4:8] = struct.pack("<I", rng.choice([0, 4, len(b), 0xFFFFFFFF, rng.randrange(1 << 32)]))
    elif which == 1 and len(b) >= 20:
        b[16:20] = struct.pack("<I", rng.choice([0, 1, len(b), 0xFFFFFFFF, rng.randrange(1 << 32)]))
    elif len(b) >= 16:
        b[12 + rng.randrange(4)] = rng.randrange(256)
    return bytes(b)


# ---------------------------------------------------------------- the oracle


def mutate(data: bytes, ops: list[tuple[str, int]]) -> bytes:
    for name, seed in ops:
        if not data:
            break
        data = MUTATIONS[name](data, random.Random(seed))
    return data


def check_intake(path: Path) -> str:
    """'ok' or 'refused'; anything other than success or ExaminerError propagates (a bug)."""
    try:
        ev = open_evidence(path, max_pixels=FUZZ_MAX_PIXELS)
    except ExaminerError as exc:
        assert str(path) in str(exc), f"error does not name the file: {exc}"
        assert "\n" not in str(exc), f"error is not one line: {exc!r}"
        return "refused"
    px = ev.pixels
    assert px.dtype in (np.uint8, np.uint16), px.dtype
    assert px.ndim == 2 or (px.ndim == 3 and px.shape[2] == 3), px.shape
    assert px.shape[:2] == (ev.facts.height, ev.facts.width)
    return "ok"
