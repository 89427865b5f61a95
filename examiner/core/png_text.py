"""The text a PNG carries (tEXt, zTXt, iTXt chunks, XMP among them), read as untrusted input.

Decoders read text chunks only up to the image data, so a chunk placed after IDAT would not be
listed at all; and a compressed chunk that inflates to gigabytes (a zTXt "bomb") makes a
decoder give up on the whole file although its pixels are intact. Here every chunk is walked,
wherever it sits, compressed text is inflated only up to a bound, and each of those cases is a
notice. The pixels are decoded from the same bytes with the text chunks left out
(:func:`without_text_chunks`): text carries no pixels, and the file itself is never changed.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from examiner.core.text_safety import MAX_XMP_CHARS, safe_text, text_notices

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
XMP_KEYWORD = "XML:com.adobe.xmp"
MAX_CHUNKS = 100_000  # chunks walked (a file of millions of empty chunks must not stall intake)
MAX_TEXT_CHUNKS = 100  # text chunks listed
MAX_INFLATED = 1 << 20  # bytes one compressed text chunk may inflate to
MAX_INFLATED_TOTAL = 8 << 20  # bytes all of them together may inflate to
MAX_NOTICES = 50


@dataclass
class PngText:
    chunks: dict[str, str] = field(default_factory=dict)
    xmp: dict[str, Any] | None = None
    notices: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _walk(data: bytes) -> list[tuple[int, bytes, int, int]]:
    """(offset, type, start, end of data) of each chunk, stopping quietly at damage (intake
    names damage; this is only about text)."""
    out: list[tuple[int, bytes, int, int]] = []
    pos = len(PNG_SIGNATURE)
    n = len(data)
    while pos + 8 <= n and len(out) < MAX_CHUNKS:
        length = int.from_bytes(data[pos : pos + 4], "big")
        ctype = bytes(data[pos + 4 : pos + 8])
        start, end = pos + 8, pos + 8 + length
        if length > 0x7FFFFFFF or end + 4 > n:
            break
        out.append((pos, ctype, start, end))
        if ctype == b"IEND":
            break
        pos = end + 4
    return out


def without_text_chunks(data: bytes) -> bytes:
    """The PNG with its tEXt, zTXt and iTXt chunks left out (the same pixels); ``data`` itself
    when it has none or does not look like a PNG."""
    if not data.startswith(PNG_SIGNATURE):
        return data
    chunks = _walk(data)
    if not any(c[1] in TEXT_CHUNKS for c in chunks):
        return data
    parts = [PNG_SIGNATURE]
    for _pos, ctype, start, end in chunks:
        if ctype not in TEXT_CHUNKS:
            parts.append(data[start - 8 : end + 4])
    last_end = chunks[-1][3] + 4 if chunks else len(PNG_SIGNATURE)
    parts.append(data[last_end:])  # whatever follows (trailing bytes are intake's to name)
    return b"".join(parts)


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_INFLATED_TOTAL


def _inflate(body: bytes, budget: _Budget) -> tuple[bytes, str]:
    """Inflate at most the bound; returns the bytes and why it stopped early ('' when whole)."""
    cap = min(MAX_INFLATED, budget.left)
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(body, cap + 1)
    except zlib.error as exc:
        return b"", f"its compressed text is damaged (zlib: {exc})"
    budget.left -= min(len(out), cap)
    if len(out) > cap or inflater.unconsumed_tail:
        return out[:cap], f"it inflates past {cap:,} bytes; only those were read (possible decompression bomb)"
    return out, ""


def _parse(ctype: bytes, body: bytes, budget: _Budget) -> tuple[str, bytes, str]:
    """(keyword, text bytes, problem) of one text chunk."""
    keyword, sep, rest = body.partition(b"\x00")
    key = keyword.decode("latin-1")
    if not sep:
        return key, b"", "it has no keyword separator (malformed)"
    if ctype == b"tEXt":
        return key, rest, ""
    if ctype == b"zTXt":
        return (key, *_inflate(rest[1:], budget))
    # iTXt: compression flag, method, language tag NUL, translated keyword NUL, text
    if len(rest) < 2:
        return key, b"", "it is too short (malformed)"
    compressed = rest[0] == 1
    parts = rest[2:].split(b"\x00", 2)
    if len(parts) < 3:
        return key, b"", "its language or translated keyword is not terminated (malformed)"
    text = parts[2]
    if compressed:
        return (key, *_inflate(text, budget))
    return key, text, ""


def read_png_text(data: bytes) -> PngText:
    """Every text chunk of a PNG, wherever it sits, as bounded escaped text with notices."""
    found = PngText()
    if not data.startswith(PNG_SIGNATURE):
        return found
    budget = _Budget()
    after_idat = False
    notices: list[str] = []
    for pos, ctype, start, end in _walk(data):
        if ctype == b"IDAT":
            after_idat = True
            continue
        if ctype not in TEXT_CHUNKS:
            continue
        key, text, problem = _parse(ctype, bytes(data[start:end]), budget)
        label = f"PNG {ctype.decode()} chunk {safe_text(key, 80)!r} at offset {pos}"
        if after_idat:
            notices.append(f"{label}: placed after the image data (readers that stop at the pixels never show it)")
        if problem:
            notices.append(f"{label}: {problem}")
        if key == XMP_KEYWORD and found.xmp is None:
            found.xmp = {"offset": pos, "length": len(text), "text": safe_text(text, MAX_XMP_CHARS)}
            notices.extend(text_notices("XMP", text, MAX_XMP_CHARS))
        elif len(found.chunks) < MAX_TEXT_CHUNKS:
            found.chunks[safe_text(key, 80)] = safe_text(text)
            notices.extend(text_notices(label, text))
        else:
            found.errors.append(f"more than {MAX_TEXT_CHUNKS} text chunks; the rest were not listed")
            break
    found.notices = notices[:MAX_NOTICES]
    if len(notices) > MAX_NOTICES:
        found.notices.append(f"... and {len(notices) - MAX_NOTICES} more notices on text chunks")
    return found
