"""The evidence format policy: which formats are taken in, by which names, and how they are told.

One definition for the whole program: intake, folder walks, file dialogs and the command line all
read it from here, so nothing offers a file that intake would refuse for its kind.
Formats are told by the file's magic bytes, never by its name; the suffixes only say which files a
folder walk looks at.
"""

from __future__ import annotations

# The decompression-bomb guard when the caller names no limit: images above this many pixels are
# refused at intake. The user's settings may raise or lower it; front ends pass that value in.
DEFAULT_MAX_PIXELS = 250_000_000

ALLOWED_FORMATS: tuple[str, ...] = ("jpeg", "png", "tiff", "webp", "avif", "bmp", "heif", "jxl")

# Formats Pillow decodes itself; HEIF (pillow-heif) and JPEG XL (djxl) have their own intake modules.
PIL_FORMATS: dict[str, str] = {"jpeg": "JPEG", "png": "PNG", "tiff": "TIFF", "webp": "WEBP", "avif": "AVIF", "bmp": "BMP"}

EXTENSIONS: dict[str, str] = {
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".jpe": "jpeg",
    ".jfif": "jpeg",
    ".png": "png",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".webp": "webp",
    ".avif": "avif",
    ".bmp": "bmp",
    ".dib": "bmp",
    ".heic": "heif",
    ".heif": "heif",
    ".hif": "heif",
    ".jxl": "jxl",
}

# Every suffix intake takes in; folder walks list these (and intake still checks the bytes).
EVIDENCE_SUFFIXES: frozenset[str] = frozenset(EXTENSIONS)


def detect_format(head: bytes) -> str | None:
    """The allowlisted format named by the magic bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM" and len(head) >= 26:
        return "bmp"
    if head[4:8] == b"ftyp":
        box_len = int.from_bytes(head[0:4], "big")
        brands = [head[8:12]] + [head[i : i + 4] for i in range(16, min(box_len, len(head), 64), 4)]
        if b"avif" in brands or b"avis" in brands:
            return "avif"
    from examiner.core.heif_intake import is_heif
    from examiner.core.jxl_intake import is_jxl

    if is_heif(head):
        return "heif"
    if is_jxl(head):
        return "jxl"
    return None


def describe_unknown(head: bytes) -> str:
    """A human description of bytes that are not an allowed image."""
    if not head:
        return "the file is empty"
    known = [
        (b"GIF87a", "GIF"),
        (b"GIF89a", "GIF"),
        (b"%PDF", "PDF"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"II+\x00", "BigTIFF"),
        (b"MM\x00+", "BigTIFF"),
        (b"\xff\x4f\xff\x51", "JPEG 2000"),
        (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    ]
    for magic, name in known:
        if head.startswith(magic):
            return f"the file is {name}, which is not an allowed evidence format"
    if head[4:8] == b"ftyp":
        return f"the file is an ISO media file (brand {printable(head[8:12])!r}), not AVIF or HEIF"
    if head[:2] == b"\xff\xd8":
        return "the file starts like a JPEG but has no valid marker after SOI"
    sample = head[:512]
    if all(32 <= b < 127 or b in (9, 10, 13) for b in sample) or _looks_utf8_text(sample):
        return "the file is text, not an image"
    return f"unrecognised format (first bytes {head[:8].hex(' ')})"


def _looks_utf8_text(sample: bytes) -> bool:
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\t\r\n" for ch in text)


def printable(b: bytes) -> str:
    """Bytes shown as ASCII, anything else as '?': for magic numbers and chunk names in messages."""
    return "".join(chr(c) if 32 <= c < 127 else "?" for c in b)
