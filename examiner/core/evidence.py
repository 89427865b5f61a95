"""Evidence intake: hash the bytes on disk, identify the format from those bytes, decode safely.

The file is opened read-only and read once; the hashes are computed over exactly the bytes that
are then decoded from memory, so what was hashed is what was looked at. Nothing is ever written
next to the evidence.

Decode policy (recorded with every image, see :data:`DECODE_POLICY`):

* formats are an allowlist (JPEG, PNG, TIFF, WebP, AVIF, BMP, HEIF, JPEG XL) identified from the magic bytes;
  an extension that names another format is reported as a mismatch;
* pixels are kept as stored: EXIF orientation is recorded but not applied, 16-bit samples stay
  ``uint16``;
* palette, CMYK, YCbCr, bilevel and alpha-carrying images are converted explicitly and every
  conversion is listed in ``facts.conversions``;
* the header's pixel count is checked against the configured limit before any pixel is decoded;
* truncated or corrupt data is an error (Pillow's ``LOAD_TRUNCATED_IMAGES`` stays off, PNG chunk
  CRCs and the JPEG marker structure are checked); there is never a silent partial decode.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import sys
import tempfile
import threading
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFile

from examiner.core.formats import (
    DEFAULT_MAX_PIXELS,
    EXTENSIONS,
    PIL_FORMATS,
    describe_unknown,
    detect_format,
    printable,
)
from examiner.core.hashes import HASH_CHUNK_BYTES
from examiner.core.png_text import without_text_chunks
from examiner.core.safe_files import open_regular
from examiner.errors import EvidenceError

DECODE_POLICY = (
    "Format identified from the file's bytes (allowlist: JPEG, PNG, TIFF, WebP, AVIF, BMP, HEIF, JPEG XL). "
    "SHA-256 and MD5 computed over the bytes read once from disk, read-only; pixels decoded from "
    "those same bytes. Pixels kept as stored: EXIF orientation recorded, not applied; 16-bit "
    "samples kept. Palette, CMYK, YCbCr, bilevel and alpha images converted explicitly (listed "
    "under conversions). Header pixel count checked against the limit before decoding. "
    "Truncated or corrupt data refused, including data that a decoder library reports as corrupt; "
    "no partial decodes. Multi-frame files: first frame only; multi-image HEIF: the primary image "
    "(thumbnails, depth and auxiliary images recorded, not decoded)."
)

# A coarse ceiling so absurd files are refused before they are read into memory.
MAX_FILE_BYTES = 2 * 1024**3

# Pillow's own decompression-bomb guard is a process-wide setting; it is only lifted (under this
# lock) when the configured limit is higher than Pillow's, after our own header check passed.
_PIL_LIMIT_LOCK = threading.Lock()

# Truncated images must fail loudly; make the intent explicit even though it is Pillow's default.
ImageFile.LOAD_TRUNCATED_IMAGES = False


@dataclass
class EvidenceFacts:
    """What intake established about one file. Serialisable with :meth:`to_dict`."""

    path: str
    sha256: str
    md5: str
    size: int
    mtime: float
    mtime_utc: str
    format: str
    extension: str
    extension_mismatch: bool
    width: int
    height: int
    mode: str  # Pillow mode as stored in the file (before any conversion)
    bit_depth: int  # bits per sample as stored
    channels: int  # samples per pixel as stored (palette images: 1)
    icc_profile: bool
    exif_orientation: int | None
    frames: int = 1
    pixel_dtype: str = "uint8"
    pixel_shape: list[int] = field(default_factory=list)
    conversions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    trailing_bytes: int = 0  # data after the end of the image stream (JPEG EOI / PNG IEND)
    format_facts: dict[str, Any] = field(default_factory=dict)  # HEIF items, JPEG XL header and boxes
    decode_policy: str = DECODE_POLICY

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EvidenceFacts:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class Evidence:
    """A decoded evidence image: facts plus pixels as stored (``HxW`` or ``HxWx3``, uint8/uint16)."""

    facts: EvidenceFacts
    pixels: np.ndarray

    @property
    def path(self) -> str:
        return self.facts.path

    @property
    def sha256(self) -> str:
        return self.facts.sha256


def hash_bytes(data: bytes) -> tuple[str, str]:
    return hashlib.sha256(data).hexdigest(), hashlib.md5(data, usedforsecurity=False).hexdigest()


def hash_file(path: str | Path) -> tuple[str, str]:
    """(sha256, md5) of a file's bytes, streamed read-only; raises EvidenceError if unreadable."""
    sha = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    try:
        with open_regular(path) as fh:
            while chunk := fh.read(HASH_CHUNK_BYTES):
                sha.update(chunk)
                md5.update(chunk)
    except EvidenceError:
        raise
    except OSError as exc:
        raise EvidenceError(path, f"cannot be read ({exc.strerror or exc})") from None
    return sha.hexdigest(), md5.hexdigest()


def read_evidence_bytes(path: str | Path) -> tuple[bytes, os.stat_result]:
    """Read the whole file once, read-only, returning its bytes and the stat taken on that handle."""
    p = Path(path)
    try:
        # open_regular itself reports a missing file, a directory or any other non-regular file,
        # and checks the handle it returns; what is left to word here is a failing read.
        with open_regular(p) as fh:
            st = os.fstat(fh.fileno())
            if st.st_size > MAX_FILE_BYTES:
                raise EvidenceError(p, f"file is {st.st_size} bytes, over the {MAX_FILE_BYTES}-byte intake limit")
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise EvidenceError(p, f"cannot be read ({exc.strerror or exc})") from None
    if len(data) != st.st_size:
        raise EvidenceError(p, "file changed size while it was being read")
    return data, st


def open_evidence(path: str | Path, max_pixels: int | None = None) -> Evidence:
    """Take one evidence image in: hash, identify, check and decode it (see module docstring).

    Raises :class:`~examiner.errors.EvidenceError` naming the file and the problem for anything
    that is not a complete, allowlisted image within the pixel limit (``max_pixels``, else
    :data:`~examiner.core.formats.DEFAULT_MAX_PIXELS`; front ends pass the user's setting).
    """
    return open_evidence_with_bytes(path, max_pixels)[0]


def open_evidence_with_bytes(path: str | Path, max_pixels: int | None = None) -> tuple[Evidence, bytes]:
    """:func:`open_evidence`, also returning the exact bytes that were hashed and decoded (for
    metadata parsing without a second read)."""
    p = Path(path)
    data, st = read_evidence_bytes(p)
    sha256, md5 = hash_bytes(data)
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels)
    fmt = detect_format(data[:64])
    if fmt is None:
        raise EvidenceError(p, describe_unknown(data[:512]))
    ext = p.suffix.lower()
    facts = EvidenceFacts(
        path=str(p.resolve()),
        sha256=sha256,
        md5=md5,
        size=len(data),
        mtime=st.st_mtime,
        mtime_utc=datetime.fromtimestamp(st.st_mtime, UTC).isoformat().replace("+00:00", "Z"),
        format=fmt,
        extension=ext,
        extension_mismatch=EXTENSIONS.get(ext) != fmt,
        width=0,
        height=0,
        mode="",
        bit_depth=8,
        channels=0,
        icc_profile=False,
        exif_orientation=None,
    )
    pixels = _decode(p, data, fmt, limit, facts)
    facts.pixel_dtype = str(pixels.dtype)
    facts.pixel_shape = list(pixels.shape)
    return Evidence(facts=facts, pixels=pixels), data


def load_comparison_image(path: str | Path, max_pixels: int | None = None) -> np.ndarray:
    """Pixels of a reference original or a codec output, through the same safe decoder."""
    return open_evidence(path, max_pixels=max_pixels).pixels


def decode_bytes(data: bytes, name: str = "<memory>", max_pixels: int | None = None) -> np.ndarray:
    """Decode in-memory image bytes (e.g. a stored artefact) with the same policy and checks."""
    fmt = detect_format(data[:64])
    if fmt is None:
        raise EvidenceError(name, describe_unknown(data[:512]))
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels)
    facts = EvidenceFacts(
        path=name, sha256="", md5="", size=len(data), mtime=0.0, mtime_utc="", format=fmt,
        extension="", extension_mismatch=False, width=0, height=0, mode="", bit_depth=8,
        channels=0, icc_profile=False, exif_orientation=None,
    )  # fmt: skip
    return _decode(Path(name), data, fmt, limit, facts)


# --------------------------------------------------------------------------------------------
# Decoding


def _decode(p: Path, data: bytes, fmt: str, limit: int, facts: EvidenceFacts) -> np.ndarray:
    # Structural checks run first: they are cheap and catch what decoders tolerate silently.
    if fmt == "png":
        facts.trailing_bytes = _check_png(p, data, limit)
    elif fmt == "jpeg":
        facts.trailing_bytes = _check_jpeg(p, data)
    native: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught, _capture_native_stderr(native):
            warnings.simplefilter("always")
            # Text chunks carry no pixels; left out, a zTXt bomb cannot stop an intact image.
            pixels = _decode_by_format(p, without_text_chunks(data) if fmt == "png" else data, fmt, limit, facts)
    except EvidenceError as exc:
        if native and "decoder said" not in exc.problem:
            raise EvidenceError(p, f"{exc.problem}; decoder said: {_short(' | '.join(native))}") from None
        raise
    except MemoryError:
        raise EvidenceError(p, "not enough memory to decode the image") from None
    except Exception as exc:  # noqa: BLE001 - decoders raise many types on hostile input
        said = f"; decoder said: {_short(' | '.join(native))}" if native else ""
        raise EvidenceError(p, f"corrupt or unsupported {fmt.upper()} data ({_short(exc)}){said}") from None
    # A native decoder that complained about the data but still returned pixels may have filled
    # in what it could not read: that would be a silent partial decode, so it is refused.
    alarming = [m for m in native if _NATIVE_ALARM.search(m)]
    if alarming:
        raise EvidenceError(p, f"the {fmt.upper()} decoder reported damaged data: {_short(' | '.join(alarming))}")
    facts.warnings.extend(m[:200] for m in native[:10])
    for w in caught:
        if issubclass(w.category, Image.DecompressionBombWarning):
            continue
        msg = _short(w.message)
        if msg not in facts.warnings:
            facts.warnings.append(msg[:200])
    return pixels


_NATIVE_ALARM = re.compile(r"error|corrupt|premature|truncat|invalid|bad |not yet in table|incorrect", re.IGNORECASE)
# C libraries (libtiff, libpng via OpenCV) print diagnostics straight to file descriptor 2. They
# are captured during decoding so the CLI keeps its one-line errors and the messages can be
# judged; the lock keeps two decodes from swapping the descriptor under each other.
_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _capture_native_stderr(sink: list[str]) -> Iterator[None]:
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):
            yield  # no usable descriptor 2 (e.g. a windowed app): nothing to capture
            return
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                tmp.seek(0)
                text = tmp.read(65536).decode("utf-8", errors="replace")
                sink.extend(line.strip() for line in text.splitlines() if line.strip())


def _short(exc: object) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


@contextlib.contextmanager
def _pillow_limit_lifted(needed: bool) -> Iterator[None]:
    if not needed:
        yield
        return
    with _PIL_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _open_header(p: Path, data: bytes, fmt: str, limit: int) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=[PIL_FORMATS[fmt]])
    except Image.DecompressionBombError:
        pass
    # Pillow refused on size; its threshold is lower than ours or the image really is a bomb.
    with _pillow_limit_lifted(True):
        img = Image.open(io.BytesIO(data), formats=[PIL_FORMATS[fmt]])
    _check_limit(p, img.size, limit)
    return img


def _check_limit(p: Path, size: tuple[int, int], limit: int) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise EvidenceError(p, f"header claims an empty image ({w} x {h})")
    if w * h > limit:
        raise EvidenceError(
            p,
            f"header claims {w} x {h} = {w * h:,} pixels, over the limit of {limit:,} "
            "(possible decompression bomb; raise max_pixels in the settings if the image is genuine)",
        )


def _decode_by_format(p: Path, data: bytes, fmt: str, limit: int, facts: EvidenceFacts) -> np.ndarray:
    if fmt == "heif":
        from examiner.core.heif_intake import decode_heif

        return decode_heif(p, data, limit, facts, _check_limit)
    if fmt == "jxl":
        from examiner.core.jxl_intake import decode_jxl

        return decode_jxl(p, data, limit, facts, _check_limit)
    return _decode_with_pillow(p, data, fmt, limit, facts)


def _decode_with_pillow(p: Path, data: bytes, fmt: str, limit: int, facts: EvidenceFacts) -> np.ndarray:
    img = _open_header(p, data, fmt, limit)
    _check_limit(p, img.size, limit)
    facts.width, facts.height = img.size
    facts.mode = img.mode
    facts.frames = int(getattr(img, "n_frames", 1) or 1)
    facts.icc_profile = bool(img.info.get("icc_profile"))
    facts.exif_orientation = _orientation(img)
    facts.bit_depth, facts.channels = _depth_and_channels(img, data, fmt)
    lifted = Image.MAX_IMAGE_PIXELS is not None and img.width * img.height > 2 * Image.MAX_IMAGE_PIXELS
    with _pillow_limit_lifted(lifted):
        img.load()
    if fmt == "jpeg":
        _entropy_check_jpeg(data)
    if facts.frames > 1:
        facts.conversions.append(f"multi-frame file ({facts.frames} frames): first frame decoded")
    if _is_16bit_colour(img, facts):
        return _decode_16bit_colour(p, data, img, facts)
    return _to_array(p, img, facts)


def _entropy_check_jpeg(data: bytes) -> None:
    """Run libjpeg over the whole entropy-coded data once more, at 1/8 scale (every coefficient
    is still Huffman-decoded, the IDCT is nearly free). Pillow keeps libjpeg's "Corrupt JPEG data"
    warnings to itself, and a scan that ends early is silently padded; OpenCV's libjpeg prints
    them to descriptor 2, where :func:`_capture_native_stderr` catches them."""
    import cv2

    cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)


def _orientation(img: Image.Image) -> int | None:
    try:
        value = img.getexif().get(0x0112)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not stop intake; recorded below
        return None
    if isinstance(value, int) and 1 <= value <= 8:
        return value
    return None


def _depth_and_channels(img: Image.Image, data: bytes, fmt: str) -> tuple[int, int]:
    bands = len(img.getbands())
    if fmt == "png" and len(data) >= 26:
        depth = data[24]
        colour_type = data[25]
        channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour_type, bands)
        return int(depth), channels
    if fmt == "tiff":
        tags = getattr(img, "tag_v2", {})
        bps = tags.get(258)
        spp = tags.get(277)
        depth = int(bps[0] if isinstance(bps, tuple) and bps else bps or 8)
        return depth, int(spp or bands)
    if img.mode == "1":
        return 1, 1
    if img.mode.startswith("I;16"):
        return 16, 1
    if img.mode == "P":
        return 8, 1
    return 8, bands


def _is_16bit_colour(img: Image.Image, facts: EvidenceFacts) -> bool:
    # Pillow narrows 16-bit RGB(A) to 8 bits; such files go through OpenCV to keep every bit.
    return img.mode in ("RGB", "RGBA") and facts.bit_depth == 16


def _decode_16bit_colour(p: Path, data: bytes, img: Image.Image, facts: EvidenceFacts) -> np.ndarray:
    import cv2

    arr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint16 or arr.shape[:2] != (img.height, img.width):
        raise EvidenceError(p, "16-bit colour image could not be decoded completely")
    if arr.ndim == 3 and arr.shape[2] == 4:
        facts.conversions.append("RGBA -> RGB (alpha channel discarded)")
        arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGB)
    elif arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    else:
        raise EvidenceError(p, f"unexpected 16-bit layout {arr.shape}")
    return np.ascontiguousarray(arr)


def _to_array(p: Path, img: Image.Image, facts: EvidenceFacts) -> np.ndarray:
    mode = img.mode
    conv = facts.conversions
    if mode in ("L", "RGB"):
        return np.asarray(img, dtype=np.uint8).copy()
    if mode.startswith("I;16"):
        return np.asarray(img).astype(np.uint16, copy=True)
    if mode == "I":
        arr = np.asarray(img)
        if facts.bit_depth <= 16 and arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise EvidenceError(p, "integer samples outside the 16-bit range")
        if facts.bit_depth > 16:
            raise EvidenceError(p, f"{facts.bit_depth}-bit integer images are not supported")
        return arr.astype(np.uint16)
    if mode == "1":
        conv.append("bilevel (1-bit) -> greyscale 0/255")
        return np.asarray(img.convert("L"), dtype=np.uint8).copy()
    if mode == "LA":
        conv.append("greyscale+alpha -> greyscale (alpha channel discarded)")
        return np.asarray(img.convert("L"), dtype=np.uint8).copy()
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in img.info
        conv.append("palette -> RGB" + (" (transparency discarded)" if has_alpha else ""))
        return np.asarray(img.convert("RGBA").convert("RGB") if has_alpha else img.convert("RGB")).copy()
    if mode in ("RGBA", "RGBa", "RGBX"):
        if mode != "RGBX":
            conv.append("RGBA -> RGB (alpha channel discarded)")
        return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
    if mode == "CMYK":
        conv.append("CMYK -> RGB (Pillow's naive conversion; ICC profile not applied)")
        return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
    if mode == "YCbCr":
        conv.append("YCbCr -> RGB (ITU-R BT.601 full range)")
        return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
    if mode == "LAB":
        raise EvidenceError(p, "CIE L*a*b* images are not supported; convert a copy to RGB first")
    raise EvidenceError(p, f"pixel mode {mode!r} is not supported by the decode policy")


# --------------------------------------------------------------------------------------------
# Structural checks that decoders are lenient about


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _png_raw_size(width: int, height: int, depth: int, colour_type: int, interlace: int) -> int:
    """Bytes of filtered scanlines the IDAT stream must inflate to."""
    bpp = depth * _PNG_CHANNELS.get(colour_type, 0)
    if bpp == 0:
        return -1
    if not interlace:
        return height * (1 + (width * bpp + 7) // 8)
    total = 0
    for x0, y0, dx, dy in _ADAM7:
        pw = (width - x0 + dx - 1) // dx if width > x0 else 0
        ph = (height - y0 + dy - 1) // dy if height > y0 else 0
        if pw and ph:
            total += ph * (1 + (pw * bpp + 7) // 8)
    return total


def _check_png_stream(p: Path, idat: list[memoryview], ihdr: bytes) -> None:
    """Inflate the whole image stream (discarding the output) to check its zlib checksum and
    length: decoders stop once they have enough rows and never see damage in the rest."""
    width, height = int.from_bytes(ihdr[0:4], "big"), int.from_bytes(ihdr[4:8], "big")
    expected = _png_raw_size(width, height, ihdr[8], ihdr[9], ihdr[12])
    inflater = zlib.decompressobj()
    produced = 0
    try:
        for part in idat:
            chunk = inflater.decompress(part, 1 << 20)
            produced += len(chunk)
            while inflater.unconsumed_tail:
                chunk = inflater.decompress(inflater.unconsumed_tail, 1 << 20)
                produced += len(chunk)
                if produced > expected >= 0:
                    break
            if produced > expected >= 0:
                break
        produced += len(inflater.flush())
    except zlib.error as exc:
        raise EvidenceError(p, f"PNG image data is damaged (zlib: {exc})") from None
    if not inflater.eof:
        raise EvidenceError(p, "PNG image data is truncated (the compressed stream does not end)")
    if expected >= 0 and produced != expected:
        raise EvidenceError(p, f"PNG image data has {produced} bytes where the header implies {expected}")


def _check_png(p: Path, data: bytes, limit: int) -> int:
    """Walk every chunk, verify its CRC, require IHDR first and IEND, check the pixel limit and
    the complete image stream; returns the number of trailing bytes after IEND."""
    pos = 8
    n = len(data)
    first = True
    seen_idat = False
    ihdr = b""
    idat: list[memoryview] = []
    view = memoryview(data)
    while True:
        if pos + 8 > n:
            raise EvidenceError(p, "PNG is truncated (no IEND chunk)")
        length = int.from_bytes(data[pos : pos + 4], "big")
        ctype = data[pos + 4 : pos + 8]
        if length > 0x7FFFFFFF:
            raise EvidenceError(p, f"PNG chunk at offset {pos} has an invalid length")
        end = pos + 8 + length + 4
        if end > n:
            raise EvidenceError(p, f"PNG is truncated (chunk {printable(ctype)!r} at offset {pos} runs past the end)")
        if not all(65 <= c <= 90 or 97 <= c <= 122 for c in ctype):
            raise EvidenceError(p, f"PNG chunk at offset {pos} has an invalid type {ctype!r}")
        crc = int.from_bytes(data[end - 4 : end], "big")
        if zlib.crc32(data[pos + 4 : pos + 8 + length]) != crc:
            raise EvidenceError(p, f"PNG chunk {printable(ctype)!r} at offset {pos} fails its CRC check (corrupt file)")
        if first and ctype != b"IHDR":
            raise EvidenceError(p, "PNG does not start with an IHDR chunk")
        if first:
            if length != 13:
                raise EvidenceError(p, "PNG IHDR chunk has the wrong length")
            ihdr = data[pos + 8 : pos + 21]
            _check_limit(p, (int.from_bytes(ihdr[0:4], "big"), int.from_bytes(ihdr[4:8], "big")), limit)
        first = False
        if ctype == b"IDAT":
            seen_idat = True
            idat.append(view[pos + 8 : pos + 8 + length])
        pos = end
        if ctype == b"IEND":
            break
    if not seen_idat:
        raise EvidenceError(p, "PNG has no image data (IDAT)")
    _check_png_stream(p, idat, ihdr)
    return n - pos


def _check_jpeg(p: Path, data: bytes) -> int:
    from examiner.core.jpeg_structure import JpegStructureError, scan_segments

    try:
        layout = scan_segments(data)
    except JpegStructureError as exc:
        raise EvidenceError(p, f"JPEG structure is broken: {exc}") from None
    return layout.trailing_bytes
