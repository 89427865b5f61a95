"""Metadata as untrusted text, and the JPEG structure report."""

from __future__ import annotations

import hashlib
import io
import json
import struct
from pathlib import Path

import pytest
from imagegen import encode, hostile_jpeg, jpeg_bytes, pattern, png_chunk, tiff_exif_block, with_app1
from PIL import Image

from examiner.core.inspection import inspect_image
from examiner.core.jpeg_structure import (
    STD_CHROMINANCE,
    STD_LUMINANCE,
    JpegStructureError,
    estimate_ijg_quality,
    ijg_table,
    parse_jpeg,
    scan_segments,
)
from examiner.core.metadata import read_metadata
from examiner.core.text_safety import MAX_TAG_CHARS, safe_text


def _all_strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in _all_strings(k) + _all_strings(v)]
    if isinstance(obj, list | tuple):
        return [s for v in obj for s in _all_strings(v)]
    return []


# ---------------------------------------------------------------- untrusted text


def test_safe_text_escapes_controls_and_bounds_length() -> None:
    assert safe_text(b"a\x00b") == "a\\x00b"
    assert safe_text("x\x1b[31my") == "x\\x1b[31my"
    assert safe_text("tab\tnew\nline") == "tab\tnew\nline"
    assert safe_text("rtl\u202eevil") == "rtl\\u202eevil"
    assert safe_text("<b>markup</b>") == "<b>markup</b>"  # kept as text; renderers escape it
    long = safe_text("A" * 10_000)
    assert long.startswith("A" * MAX_TAG_CHARS) and "truncated; 10000 chars" in long
    assert len(long) < MAX_TAG_CHARS + 40
    assert safe_text(b"\xff\xfe bad utf8").startswith("\ufffd")


def test_hostile_jpeg_metadata_is_bounded_escaped_text(tmp_path: Path) -> None:
    data = hostile_jpeg()
    assert len(data) > 1024 * 1024
    p = tmp_path / "hostile.jpg"
    p.write_bytes(data)
    report = inspect_image(p)
    text = json.dumps(report, ensure_ascii=False)
    assert "\x00" not in text and "\x1b" not in text
    assert len(text) < 200_000  # a megabyte of comments does not become a megabyte of output
    assert all(len(s) <= 9000 for s in _all_strings(report))
    assert report["exif"]["Image Make"] == "<script>alert('x')</script><b>bold</b>"
    assert "truncated; 5000" in report["exif"]["Image ImageDescription"]
    jpeg = report["jpeg"]
    assert jpeg["comment_count"] == 17
    assert all("\\x00" in c["text"] for c in jpeg["comments"])
    notices = " ".join(report["metadata_notices"])
    assert "markup" in notices and "control characters" in notices and "1048576 bytes" in notices


def test_software_tag_thumbnail_and_gps(tmp_path: Path) -> None:
    thumb = jpeg_bytes(pattern(8, 8))
    exif = b"Exif\x00\x00" + tiff_exif_block({0x0131: b"FancyCam Firmware 1.2\x00", 0x010F: b"Maker\x00"}, thumbnail=thumb)
    data = with_app1(jpeg_bytes(), exif)
    meta = read_metadata(data, "jpeg")
    assert meta["software"] == "FancyCam Firmware 1.2"
    assert meta["thumbnail"] == {"kind": "JPEG", "length": len(thumb), "sha256": hashlib.sha256(thumb).hexdigest()}
    img = Image.fromarray(pattern())
    ex = img.getexif()
    gps = ex.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 0.0)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=ex)
    meta = read_metadata(buf.getvalue(), "jpeg")
    assert meta["gps"].get("GPS GPSLatitudeRef") == "N"
    assert "GPS GPSLatitude" in meta["gps"]


def test_xmp_packet_in_jpeg_and_png() -> None:
    packet = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    data = with_app1(jpeg_bytes(), b"http://ns.adobe.com/xap/1.0/\x00" + packet)
    meta = read_metadata(data, "jpeg")
    assert meta["xmp"]["length"] == len(packet) and meta["xmp"]["text"] == packet.decode()
    png = encode(pattern(), "PNG")
    itxt = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + packet
    png = png[:33] + png_chunk(b"iTXt", itxt) + png[33:]
    meta = read_metadata(png, "png")
    assert meta["xmp"] and "xmpmeta" in meta["xmp"]["text"]


def test_png_text_chunks_are_untrusted_text() -> None:
    png = encode(pattern(), "PNG")
    png = png[:33] + png_chunk(b"tEXt", b"Comment\x00<script>x</script>\x1b") + png[33:]
    meta = read_metadata(png, "png")
    assert meta["text_chunks"]["Comment"] == "<script>x</script>\\x1b"


def test_broken_exif_is_reported_not_raised() -> None:
    data = with_app1(jpeg_bytes(), b"Exif\x00\x00II*\x00\xff\xff\xff\x7f" + b"\x00" * 10)
    meta = read_metadata(data, "jpeg")
    assert meta["jpeg"] is not None
    assert isinstance(meta["exif"], dict)


# ---------------------------------------------------------------- JPEG structure


@pytest.mark.parametrize("quality", [10, 30, 50, 75, 90, 95, 100])
def test_ijg_quality_estimate_is_exact_for_libjpeg_files(quality: int) -> None:
    j = parse_jpeg(jpeg_bytes(quality=quality))
    assert j["quality_estimate"] == quality
    assert [t["id"] for t in j["quant_tables"]] == [0, 1]
    for t in j["quant_tables"]:
        assert t["exact_match"] and t["fit"] == "exact IJG table"
        assert len(t["values"]) == 64
    assert j["quant_tables"][0]["values"] == ijg_table(STD_LUMINANCE, quality)
    assert j["quant_tables"][1]["values"] == ijg_table(STD_CHROMINANCE, quality)


def test_custom_tables_are_reported_as_non_ijg() -> None:
    flat = [[7] * 64, [9] * 64]
    j = parse_jpeg(jpeg_bytes(qtables=flat))
    assert j["quant_tables"][0]["values"] == [7] * 64
    assert not j["quant_tables"][0]["exact_match"]
    assert j["quant_tables"][0]["mean_abs_error"] > 1.0
    assert "not an IJG" in j["quality_fit"]
    est = estimate_ijg_quality(ijg_table(STD_LUMINANCE, 60), chroma=False)
    assert est["quality_estimate"] == 60 and est["exact_match"]


@pytest.mark.parametrize(("sub", "name"), [(0, "4:4:4"), (1, "4:2:2"), (2, "4:2:0")])
def test_subsampling(sub: int, name: str) -> None:
    assert parse_jpeg(jpeg_bytes(subsampling=sub))["subsampling"] == name


def test_greyscale_progressive_and_restart_markers() -> None:
    grey = parse_jpeg(encode(pattern()[..., 0], "JPEG"))
    assert grey["subsampling"] == "greyscale (4:0:0)" and len(grey["quant_tables"]) == 1
    prog = parse_jpeg(jpeg_bytes(progressive=True))
    assert prog["progressive"] and not prog["baseline"] and prog["scans"] > 1
    assert prog["process"] == "progressive (Huffman)"
    base = parse_jpeg(jpeg_bytes())
    assert base["baseline"] and not base["progressive"] and base["scans"] == 1
    rst = parse_jpeg(jpeg_bytes(pattern(64, 64), restart_marker_blocks=1))
    assert rst["restart_interval"] == 1 and rst["restart_markers"] > 0


def test_markers_in_order() -> None:
    j = parse_jpeg(with_app1(jpeg_bytes(), b"Exif\x00\x00" + tiff_exif_block({0x0131: b"x\x00"})))
    names = [m["marker"] for m in j["markers"]]
    assert names[0] == "SOI" and names[1] == "APP1" and names[-1] == "EOI"
    assert names.index("DQT") < names.index("SOF0") < names.index("SOS")
    offsets = [m["offset"] for m in j["markers"]]
    assert offsets == sorted(offsets)
    assert j["frame"]["width"] == 40 and j["frame"]["height"] == 32


def test_structure_errors() -> None:
    good = jpeg_bytes()
    with pytest.raises(JpegStructureError, match="EOI"):
        scan_segments(good[:-2])
    with pytest.raises(JpegStructureError, match="runs past the end"):
        scan_segments(good[:2] + b"\xff\xfe\xff\xf0" + b"x" * 10)
    with pytest.raises(JpegStructureError, match="SOI"):
        scan_segments(b"\x00" + good)
    no_sos = good[:2] + b"\xff\xfe" + struct.pack(">H", 4) + b"hi" + b"\xff\xd9"
    with pytest.raises(JpegStructureError, match="no image scan"):
        scan_segments(no_sos)


def test_many_tiny_segments_are_bounded() -> None:
    good = jpeg_bytes()
    com = b"\xff\xfe\x00\x03x"
    j = parse_jpeg(good[:2] + com * 5000 + good[2:])
    assert j["comment_count"] == 5000
    assert j["markers_listed"] <= 520 and j["segment_count"] > 5000
    assert j["segments_not_listed"] > 4000
    assert len(j["comments"]) == 20
    # Tables and frame header that come after the flood are still parsed.
    assert j["quality_estimate"] == 75 and j["subsampling"] == "4:2:0" and j["markers"][-1]["marker"] == "EOI"
