"""JPEG file structure: markers in order, quantization tables, IJG quality estimate, sampling.

The parser walks the marker segments of an in-memory JPEG without decoding pixels. It is
written for hostile input: every length is checked against the data, lists are bounded, and text
(comments, APP identifiers) is returned through :func:`examiner.core.text_safety.safe_text`.
A structural problem (missing EOI, a segment running past the end, garbage between segments)
raises :class:`JpegStructureError`, which intake turns into a clear evidence error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_LISTED_SEGMENTS = 500

MARKER_NAMES: dict[int, str] = {
    0xD8: "SOI",
    0xD9: "EOI",
    0xDA: "SOS",
    0xDB: "DQT",
    0xC4: "DHT",
    0xCC: "DAC",
    0xDD: "DRI",
    0xDC: "DNL",
    0xDE: "DHP",
    0xDF: "EXP",
    0xFE: "COM",
    0x01: "TEM",
}
for _i in range(16):
    MARKER_NAMES[0xE0 + _i] = f"APP{_i}"
for _i in range(8):
    MARKER_NAMES[0xD0 + _i] = f"RST{_i}"
for _m in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
    MARKER_NAMES[_m] = f"SOF{_m - 0xC0}"

SOF_PROCESS: dict[int, str] = {
    0xC0: "baseline sequential (Huffman)",
    0xC1: "extended sequential (Huffman)",
    0xC2: "progressive (Huffman)",
    0xC3: "lossless (Huffman)",
    0xC5: "differential sequential (Huffman)",
    0xC6: "differential progressive (Huffman)",
    0xC7: "differential lossless (Huffman)",
    0xC9: "extended sequential (arithmetic)",
    0xCA: "progressive (arithmetic)",
    0xCB: "lossless (arithmetic)",
    0xCD: "differential sequential (arithmetic)",
    0xCE: "differential progressive (arithmetic)",
    0xCF: "differential lossless (arithmetic)",
}
PROGRESSIVE_SOF = {0xC2, 0xC6, 0xCA, 0xCE}

# ITU-T T.81 Annex K tables, natural (row-major) order; the IJG library scales these.
STD_LUMINANCE = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
STD_CHROMINANCE = (
    17, 18, 24, 47, 99, 99, 99, 99,
    18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
)  # fmt: skip
# Position in natural order of the k-th coefficient in zig-zag order.
ZIGZAG = (
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
)  # fmt: skip


class JpegStructureError(ValueError):
    """The marker structure is broken (truncated, missing EOI, garbage between segments)."""


@dataclass
class Segment:
    offset: int
    marker: int
    length: int  # payload length including the two length bytes; 0 for standalone markers
    payload_start: int = 0

    @property
    def name(self) -> str:
        return MARKER_NAMES.get(self.marker, f"0xFF{self.marker:02X}")


@dataclass
class JpegLayout:
    segments: list[Segment] = field(default_factory=list)
    segment_count: int = 0
    scans: int = 0
    restart_markers: int = 0
    eoi_offset: int = -1
    trailing_bytes: int = 0
    comment_count: int = 0
    comment_bytes: int = 0
    unlisted: int = 0  # APP/COM/other segments beyond MAX_LISTED_SEGMENTS, counted only


def scan_segments(data: bytes) -> JpegLayout:
    """Walk the markers from SOI to EOI, checking every length; raises JpegStructureError."""
    n = len(data)
    if n < 4 or data[0] != 0xFF or data[1] != 0xD8:
        raise JpegStructureError("no SOI marker at the start")
    layout = JpegLayout()
    layout.segments.append(Segment(0, 0xD8, 0))
    layout.segment_count = 1
    pos = 2
    seen_frame = False
    while True:
        if pos >= n:
            raise JpegStructureError("file ends before the EOI marker (truncated)")
        if data[pos] != 0xFF:
            raise JpegStructureError(f"expected a marker at offset {pos}, found byte 0x{data[pos]:02X}")
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            raise JpegStructureError("file ends inside a marker (truncated)")
        marker = data[pos]
        start = pos - 1
        pos += 1
        if marker == 0xD9:
            _add(layout, Segment(start, marker, 0))
            layout.eoi_offset = start
            layout.trailing_bytes = n - pos
            break
        if marker == 0x00:
            raise JpegStructureError(f"stray 0xFF00 at offset {start}")
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            _add(layout, Segment(start, marker, 0))
            continue
        if marker == 0xD8:
            raise JpegStructureError(f"second SOI marker at offset {start}")
        if pos + 2 > n:
            raise JpegStructureError(f"file ends inside the {MARKER_NAMES.get(marker, hex(marker))} header")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2:
            raise JpegStructureError(f"segment at offset {start} has an invalid length {length}")
        if pos + length > n:
            raise JpegStructureError(
                f"{MARKER_NAMES.get(marker, hex(marker))} segment at offset {start} runs past the end (truncated)"
            )
        _add(layout, Segment(start, marker, length, pos + 2))
        if marker in SOF_PROCESS:
            seen_frame = True
        pos += length
        if marker == 0xDA:
            if not seen_frame:
                raise JpegStructureError(f"SOS at offset {start} before any frame header (SOF)")
            layout.scans += 1
            pos = _skip_entropy_data(data, pos, layout)
    if layout.scans == 0:
        raise JpegStructureError("no image scan (SOS) before EOI")
    return layout


# Segments the structure report needs in full; everything else is listed up to a bound.
_ESSENTIAL = {0xDB, 0xC4, 0xDD, 0xDA, 0xD9, *SOF_PROCESS}
MAX_ESSENTIAL_SEGMENTS = 10_000


def _add(layout: JpegLayout, seg: Segment) -> None:
    layout.segment_count += 1
    if 0xD0 <= seg.marker <= 0xD7:
        layout.restart_markers += 1
        return
    if seg.marker == 0xFE:
        layout.comment_count += 1
        layout.comment_bytes += max(0, seg.length - 2)
    if seg.marker in _ESSENTIAL:
        if len(layout.segments) >= MAX_ESSENTIAL_SEGMENTS + MAX_LISTED_SEGMENTS:
            raise JpegStructureError(f"more than {MAX_ESSENTIAL_SEGMENTS} table or scan segments")
        layout.segments.append(seg)
    elif len(layout.segments) < MAX_LISTED_SEGMENTS:
        layout.segments.append(seg)
    else:
        layout.unlisted += 1


def _skip_entropy_data(data: bytes, pos: int, layout: JpegLayout) -> int:
    n = len(data)
    while True:
        i = data.find(b"\xff", pos)
        if i < 0 or i + 1 >= n:
            raise JpegStructureError("entropy-coded data runs to the end of the file without EOI (truncated)")
        nxt = data[i + 1]
        if nxt == 0x00:
            pos = i + 2
        elif 0xD0 <= nxt <= 0xD7:
            layout.restart_markers += 1
            layout.segment_count += 1
            pos = i + 2
        elif nxt == 0xFF:
            pos = i + 1
        else:
            return i


# --------------------------------------------------------------------------------------------
# Full structure report


def ijg_table(std: tuple[int, ...], quality: int) -> list[int]:
    """The table libjpeg's jpeg_set_quality(quality, force_baseline=TRUE) produces."""
    q = max(1, min(100, quality))
    scale = 5000 // q if q < 50 else 200 - 2 * q
    return [max(1, min(255, (v * scale + 50) // 100)) for v in std]


def estimate_ijg_quality(values: list[int], chroma: bool) -> dict[str, Any]:
    """Best-fitting IJG quality for one table, and how well the table matches IJG scaling."""
    std = STD_CHROMINANCE if chroma else STD_LUMINANCE
    best_q, best_err, best_max = 0, float("inf"), 0
    for q in range(1, 101):
        ref = ijg_table(std, q)
        diffs = [abs(a - b) for a, b in zip(values, ref, strict=True)]
        err = sum(diffs) / 64.0
        if err < best_err:
            best_q, best_err, best_max = q, err, max(diffs)
    if best_err == 0:
        fit = "exact IJG table"
    elif best_err <= 1.0:
        fit = "close to IJG scaling"
    else:
        fit = "not an IJG-scaled table (custom or camera table)"
    return {
        "quality_estimate": best_q,
        "basis": "chrominance" if chroma else "luminance",
        "exact_match": best_err == 0,
        "mean_abs_error": round(best_err, 3),
        "max_abs_error": best_max,
        "fit": fit,
    }


def subsampling_name(components: list[dict[str, Any]]) -> str:
    if len(components) == 1:
        return "greyscale (4:0:0)"
    if len(components) < 3:
        return f"{len(components)} components"
    y = components[0]
    hy, vy = y["h"], y["v"]
    chroma = {(c["h"], c["v"]) for c in components[1:3]}
    if len(chroma) != 1:
        return "non-standard (" + ", ".join(f"{c['h']}x{c['v']}" for c in components) + ")"
    hc, vc = chroma.pop()
    if hc == 0 or vc == 0:
        return "invalid sampling factors"
    ratio = (hy // hc if hy % hc == 0 else 0, vy // vc if vy % vc == 0 else 0)
    names = {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (1, 2): "4:4:0", (4, 1): "4:1:1", (4, 2): "4:1:0"}
    return names.get(ratio, "non-standard (" + ", ".join(f"{c['h']}x{c['v']}" for c in components) + ")")


def parse_jpeg(data: bytes) -> dict[str, Any]:
    """Everything the examiner wants to know about a JPEG's structure, as JSON-ready data."""
    from examiner.core.text_safety import MAX_XMP_CHARS, safe_text, text_notices

    layout = scan_segments(data)
    tables: dict[int, dict[str, Any]] = {}
    components: list[dict[str, Any]] = []
    sof: dict[str, Any] | None = None
    restart_interval = 0
    app: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
    xmp: dict[str, Any] | None = None
    huffman_tables = 0
    markers: list[dict[str, Any]] = []
    for seg in layout.segments:
        markers.append({"offset": seg.offset, "marker": seg.name, "length": seg.length})
        payload = data[seg.payload_start : seg.payload_start + max(0, seg.length - 2)] if seg.length else b""
        m = seg.marker
        if m == 0xDB:
            _parse_dqt(payload, tables)
        elif m in SOF_PROCESS and sof is None:
            sof, components = _parse_sof(m, payload)
        elif m == 0xC4:
            huffman_tables += 1
        elif m == 0xDD and len(payload) >= 2:
            restart_interval = int.from_bytes(payload[:2], "big")
        elif 0xE0 <= m <= 0xEF:
            ident = payload.split(b"\x00", 1)[0][:40]
            entry = {"marker": seg.name, "offset": seg.offset, "length": seg.length, "identifier": safe_text(ident, 40)}
            app.append(entry)
            if m == 0xE1 and payload.startswith(b"http://ns.adobe.com/xap/1.0/\x00") and xmp is None:
                packet = payload[len(b"http://ns.adobe.com/xap/1.0/\x00") :]
                xmp = {"offset": seg.offset, "length": len(packet), "text": safe_text(packet, MAX_XMP_CHARS),
                       "notices": text_notices("XMP", packet, MAX_XMP_CHARS)}  # fmt: skip
        elif m == 0xFE:
            comments.append({"offset": seg.offset, "length": len(payload), "text": safe_text(payload, 512)})
    luma_ids = {components[0]["tq"]} if components else {0}
    quant_tables = []
    for tid in sorted(tables):
        t = tables[tid]
        est = estimate_ijg_quality(t["values"], chroma=tid not in luma_ids)
        quant_tables.append({"id": tid, "precision_bits": t["precision_bits"], "values": t["values"], **est})
    luma = next((t for t in quant_tables if t["id"] in luma_ids), quant_tables[0] if quant_tables else None)
    process = SOF_PROCESS.get(sof["marker_code"]) if sof else None
    return {
        "markers": markers,
        "segment_count": layout.segment_count,
        "markers_listed": len(markers),
        "frame": None if sof is None else {k: v for k, v in sof.items() if k != "marker_code"},
        "process": process,
        "progressive": bool(sof and sof["marker_code"] in PROGRESSIVE_SOF),
        "baseline": bool(sof and sof["marker_code"] == 0xC0),
        "arithmetic": bool(sof and sof["marker_code"] >= 0xC9),
        "components": components,
        "subsampling": subsampling_name(components) if components else None,
        "quant_tables": quant_tables,
        "quality_estimate": luma["quality_estimate"] if luma else None,
        "quality_fit": luma["fit"] if luma else None,
        "huffman_segments": huffman_tables,
        "scans": layout.scans,
        "restart_interval": restart_interval,
        "restart_markers": layout.restart_markers,
        "app_segments": app,
        "comments": comments[:20],
        "comment_count": layout.comment_count,
        "comment_bytes": layout.comment_bytes,
        "segments_not_listed": layout.unlisted,
        "xmp": xmp,
        "eoi_offset": layout.eoi_offset,
        "trailing_bytes": layout.trailing_bytes,
    }


def _parse_dqt(payload: bytes, tables: dict[int, dict[str, Any]]) -> None:
    pos = 0
    while pos < len(payload):
        pq, tq = payload[pos] >> 4, payload[pos] & 0x0F
        pos += 1
        size = 128 if pq else 64
        if pos + size > len(payload) or pq > 1:
            return  # malformed table; what was read so far is kept
        if pq:
            zz = [int.from_bytes(payload[pos + 2 * k : pos + 2 * k + 2], "big") for k in range(64)]
        else:
            zz = list(payload[pos : pos + 64])
        pos += size
        natural = [0] * 64
        for k, v in enumerate(zz):
            natural[ZIGZAG[k]] = v
        tables[tq] = {"precision_bits": 16 if pq else 8, "values": natural}


def _parse_sof(marker: int, payload: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if len(payload) < 6:
        return {"marker_code": marker, "marker": MARKER_NAMES.get(marker, "")}, []
    precision = payload[0]
    height = int.from_bytes(payload[1:3], "big")
    width = int.from_bytes(payload[3:5], "big")
    nc = payload[5]
    comps = []
    for i in range(min(nc, 4)):
        base = 6 + 3 * i
        if base + 3 > len(payload):
            break
        comps.append({"id": payload[base], "h": payload[base + 1] >> 4, "v": payload[base + 1] & 0x0F, "tq": payload[base + 2]})
    sof = {
        "marker_code": marker,
        "marker": MARKER_NAMES.get(marker, ""),
        "precision_bits": precision,
        "width": width,
        "height": height,
        "components": nc,
    }
    return sof, comps
