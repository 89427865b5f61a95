"""An evidence item's metadata as titled sections of (name, value) rows, for a read-only panel.

The same facts ``examiner inspect`` prints: the intake facts recorded in the case (format, size,
decode policy, conversions), and EXIF, JPEG quantisation tables and the quality estimate read
from the file's bytes, which are checked against the intake hash first. Every value is escaped
with :func:`~examiner.core.text_safety.safe_text`: metadata is text written by whoever made the
file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from examiner.core.case_records import EvidenceItem
from examiner.core.metadata import read_metadata
from examiner.core.text_safety import safe_text
from examiner.errors import EvidenceError

Section = tuple[str, list[tuple[str, str]]]
QUANT_TABLE = "  8 x 8 values"  # the row that holds a quantisation table, shown in a fixed-width font


def _v(value: Any, limit: int = 512) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return safe_text(value, limit)


def intake_section(item: EvidenceItem) -> Section:
    f = item.facts
    rows = [
        ("File", _v(Path(item.path).name)),
        ("Path", _v(item.path)),
        ("SHA-256 at intake", _v(item.sha256)),
        ("MD5 at intake", _v(item.md5)),
        ("Size", f"{item.size:,} bytes"),
        ("Format", _v(f.get("format"))),
        ("Dimensions", f"{_v(f.get('width'))} x {_v(f.get('height'))} pixels"),
        ("Stored as", f"{_v(f.get('mode'))}, {_v(f.get('bit_depth'))} bits, {_v(f.get('channels'))} channel(s)"),
        ("ICC profile", _v(bool(f.get("icc_profile")))),
        ("EXIF orientation", _v(f.get("exif_orientation")) + " (recorded, not applied)"),
        ("Frames", _v(f.get("frames", 1))),
        ("Extension matches", _v(not f.get("extension_mismatch"))),
        ("Trailing bytes", _v(f.get("trailing_bytes", 0))),
        ("Taken in", f"{_v(item.added_utc)} by {_v(item.added_by)}"),
    ]
    return "Intake facts", rows


def decode_section(item: EvidenceItem) -> Section:
    f = item.facts
    rows = [("Conversion", _v(c)) for c in f.get("conversions") or []] or [("Conversions", "none: pixels kept as stored")]
    rows += [("Warning", _v(w)) for w in f.get("warnings") or []]
    rows.append(("Decode policy", _v(f.get("decode_policy"), 4000)))
    return "Decoding", rows


def exif_section(meta: dict[str, Any]) -> Section:
    exif: dict[str, Any] = meta.get("exif") or {}
    rows = [(_v(k, 120), _v(v)) for k, v in sorted(exif.items())]
    thumb = meta.get("thumbnail")
    if thumb:
        rows.append(("Embedded thumbnail", f"{_v(thumb.get('kind'))}, {_v(thumb.get('length'))} bytes, SHA-256 {_v(thumb.get('sha256'))}"))
    xmp = meta.get("xmp")
    if xmp:
        rows.append(("XMP packet", f"{_v(xmp.get('length') if isinstance(xmp, dict) else len(str(xmp)))} bytes"))
    for k, v in (meta.get("text_chunks") or {}).items():
        rows.append((f"Text chunk {_v(k, 80)}", _v(v)))
    return f"EXIF and other metadata ({len(exif)} EXIF tags)", rows or [("EXIF", "none in this file")]


def _table_text(values: list[Any]) -> str:
    """A quantisation table as 8 rows of 8 numbers."""
    nums = [str(int(v)) if isinstance(v, int | float) else "?" for v in values[:64]]
    width = max((len(n) for n in nums), default=1)
    return "\n".join(" ".join(n.rjust(width) for n in nums[i : i + 8]) for i in range(0, len(nums), 8))


def jpeg_section(meta: dict[str, Any]) -> Section | None:
    jpeg = meta.get("jpeg")
    if not isinstance(jpeg, dict):
        return None
    q = jpeg.get("quality_estimate")
    rows = [
        ("Quality estimate", f"IJG quality {_v(q)} ({_v(jpeg.get('quality_fit'))})"),
        ("Process", _v(jpeg.get("process"))),
        ("Subsampling", _v(jpeg.get("subsampling"))),
        ("Scans", _v(jpeg.get("scans"))),
        ("Restart interval", _v(jpeg.get("restart_interval"))),
        ("Comments", _v(jpeg.get("comment_count", 0))),
    ]
    for t in jpeg.get("quant_tables") or []:
        rows.append((f"Table {_v(t.get('id'))}: {_v(t.get('basis'))}", f"quality ~{_v(t.get('quality_estimate'))}, {_v(t.get('fit'))}"))
        rows.append((QUANT_TABLE, _table_text(list(t.get("values") or []))))
    for c in jpeg.get("comments") or []:
        rows.append(("Comment", _v(c.get("text") if isinstance(c, dict) else c)))
    return "JPEG structure and quality", rows


def problems_section(meta: dict[str, Any]) -> Section | None:
    rows = [("Problem", _v(e)) for e in meta.get("errors") or []]
    rows += [("Notice", _v(n)) for n in meta.get("notices") or []]
    return ("Metadata problems and notices", rows) if rows else None


def evidence_metadata(item: EvidenceItem) -> list[Section]:
    """All sections for one evidence item (``EvidenceItem``). Reads the file once, read-only;
    a file whose bytes no longer match the intake hash is refused with the usual message."""
    path = Path(item.path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EvidenceError(path, f"cannot be read ({exc.strerror or exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != item.sha256:
        raise EvidenceError(path, f"SHA-256 changed since intake (was {item.sha256}, now {digest}); metadata not read")
    meta = read_metadata(data, str(item.facts.get("format", "")))
    sections = [intake_section(item), decode_section(item), exif_section(meta)]
    for extra in (jpeg_section(meta), problems_section(meta)):
        if extra is not None:
            sections.append(extra)
    return sections
