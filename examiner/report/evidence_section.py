"""The report's evidence section: every evidence and reference file read again (read-only),
hashes re-checked, metadata and JPEG structure read from the same bytes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from examiner.core.case import EvidenceItem
from examiner.core.evidence import hash_bytes, read_evidence_bytes
from examiner.errors import ExaminerError
from examiner.report.model import (
    EvidenceBlock,
    HashCheck,
    ManifestRow,
)
from examiner.report.values import (
    fmt,
    when,
)

if TYPE_CHECKING:
    from examiner.report.sources import ReportSources


@dataclass
class FileCheck:
    path: str
    sha256: str | None
    md5: str | None
    data: bytes | None
    problem: str = ""


def read_file(path: str) -> FileCheck:
    try:
        data, _ = read_evidence_bytes(path)
    except ExaminerError as exc:
        return FileCheck(path, None, None, None, exc.message)
    sha, md5 = hash_bytes(data)
    return FileCheck(path, sha, md5, data)


def evidence_block(src: ReportSources, item: EvidenceItem) -> tuple[EvidenceBlock, list[ManifestRow]]:
    """The item's block and the manifest rows of its files; its metadata goes into ``src``."""
    label = src.labels[item.id]
    facts = item.facts
    chk = src.check(item.id, "evidence", item.path)
    hashes = [HashCheck("SHA-256", item.sha256, chk.sha256), HashCheck("MD5", item.md5, chk.md5)]
    if chk.sha256 is None:
        status = f"MISSING OR UNREADABLE: {chk.problem}"
    elif chk.sha256 != item.sha256:
        status = "MISMATCH"
    else:
        status = "match"
    manifest = [ManifestRow(f"{label} {item.name}", "evidence file", item.sha256)]
    fmt = str(facts.get("format", "")).upper()
    if facts.get("extension_mismatch"):
        fmt += f" (file name extension {facts.get('extension') or 'none'} does not match the content)"
    depth = f"{facts.get('bit_depth', '?')} bit"
    dims = f"{facts.get('width', '?')} \u00d7 {facts.get('height', '?')} pixels, {facts.get('mode', '?')}, {depth}"
    rows: list[tuple[str, str]] = [
        ("Taken in", f"{when(item.added_utc)}" + (f" by {item.added_by}" if item.added_by else "")),
        ("File modification time", str(facts.get("mtime_utc", "")) or "not recorded"),
        ("ICC profile", "present" if facts.get("icc_profile") else "none"),
        ("EXIF orientation", "not set" if facts.get("exif_orientation") is None else f"{facts.get('exif_orientation')} (recorded, not applied)"),
    ]
    if facts.get("frames", 1) != 1:
        rows.append(("Frames", f"{facts.get('frames')} (first frame examined)"))
    if facts.get("conversions"):
        rows.append(("Conversions on decoding", "; ".join(map(str, facts["conversions"]))))
    if facts.get("trailing_bytes"):
        rows.append(("Data after the end of the image", f"{facts['trailing_bytes']} bytes"))
    if facts.get("warnings"):
        rows.append(("Intake warnings", "; ".join(map(str, facts["warnings"]))))
    meta_rows, jpeg_rows = metadata_rows(item, chk)
    reference_rows: list[tuple[str, str]] = []
    if item.reference_path:
        rchk = src.check(item.id, "reference", item.reference_path)
        rstatus = (
            "match" if rchk.sha256 == item.reference_sha256
            else ("MISSING OR UNREADABLE: " + rchk.problem) if rchk.sha256 is None else "MISMATCH"
        )  # fmt: skip
        reference_rows = [
            ("File", item.reference_path),
            ("SHA-256 at intake", item.reference_sha256 or ""),
            ("SHA-256 now", rchk.sha256 or "could not be computed"),
            ("MD5 at intake", item.reference_md5 or ""),
            ("MD5 now", rchk.md5 or "could not be computed"),
            ("Result", rstatus),
        ]
        if item.reference_sha256:
            manifest.append(ManifestRow(f"{label} reference {Path(item.reference_path).name}", "reference original", item.reference_sha256))
    return EvidenceBlock(
        label=label,
        evidence_id=item.id,
        file_name=item.name,
        path=item.path,
        size_bytes=item.size,
        format=fmt,
        dimensions=dims,
        hashes=hashes,
        status=status,
        decode_policy=str(facts.get("decode_policy", "")),
        facts=rows,
        metadata=meta_rows,
        jpeg=jpeg_rows,
        reference=reference_rows,
    ), manifest


def metadata_rows(item: EvidenceItem, chk: FileCheck) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    if chk.data is None or chk.sha256 != item.sha256:
        return [("Metadata", "not read: the file does not match its intake hash or cannot be read")], []
    from examiner.core.metadata import read_metadata

    meta = read_metadata(chk.data, str(item.facts.get("format", "")))
    exif: dict[str, str] = meta.get("exif") or {}
    wanted = (
        "Image Make", "Image Model", "Image Software", "Image DateTime", "EXIF DateTimeOriginal",
        "EXIF DateTimeDigitized", "EXIF LensModel", "EXIF ExifImageWidth", "EXIF ExifImageLength",
        "Image Artist", "Image Copyright", "EXIF UserComment", "Image ImageDescription",
    )  # fmt: skip
    rows = [(k, exif[k]) for k in wanted if k in exif]
    gps = meta.get("gps") or {}
    if gps:
        rows.append(("GPS tags", "; ".join(f"{k[4:]}: {v}" for k, v in list(gps.items())[:8])))
    if meta.get("maker_note_tags"):
        rows.append(("Maker-note tags", str(meta["maker_note_tags"])))
    rows.append(("EXIF tags in total", str(len(exif))))
    thumb = meta.get("thumbnail")
    if thumb:
        rows.append(("Embedded thumbnail", f"{thumb.get('kind')} {thumb.get('length')} bytes, SHA-256 {thumb.get('sha256')}"))
    xmp = meta.get("xmp")
    if xmp:
        rows.append(("XMP packet", f"{xmp.get('length')} bytes"))
    for k, v in list((meta.get("text_chunks") or {}).items())[:8]:
        rows.append((f"Text chunk {k}", v))
    for e in meta.get("errors") or []:
        rows.append(("Metadata problem", e))
    jpeg_rows: list[tuple[str, str]] = []
    jpeg = meta.get("jpeg")
    if isinstance(jpeg, dict):
        q = jpeg.get("quality_estimate")
        fit = jpeg.get("quality_fit")
        jpeg_rows = [
            ("Process", fmt(jpeg.get("process"))),
            ("Progressive", fmt(jpeg.get("progressive"))),
            ("Chroma subsampling", fmt(jpeg.get("subsampling"))),
            ("Estimated IJG quality (luma)", f"{fmt(q)}" + (f" (fit: {fmt(fit)})" if fit is not None else "")),
            ("Quantization tables", ", ".join(
                f"#{t.get('id')}: q\u2248{fmt(t.get('quality_estimate'))}" for t in jpeg.get("quant_tables") or []
            ) or "none"),
            ("Restart interval / markers", f"{fmt(jpeg.get('restart_interval'))} / {fmt(jpeg.get('restart_markers'))}"),
            ("Scans", fmt(jpeg.get("scans"))),
            ("Marker sequence", " ".join(str(m.get("marker")) for m in (jpeg.get("markers") or [])[:40])
             + (" \u2026" if len(jpeg.get("markers") or []) > 40 else "")),
            ("APP segments", ", ".join(f"{a.get('marker')} {a.get('identifier')}" for a in jpeg.get("app_segments") or []) or "none"),
            ("Comments", str(jpeg.get("comment_count", 0))),
            ("Bytes after EOI", fmt(jpeg.get("trailing_bytes"))),
        ]
    return rows, jpeg_rows
