"""HEIF/HEIC and JPEG XL intake: decoded under the decode policy, facts recorded, damage refused."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from provenance_images import (
    heic_8bit,
    heic_10bit,
    heif_multi,
    jxl_from_jpeg_pixels,
    jxl_lossless,
    sample,
)

from examiner.core import heif_intake, jxl_intake
from examiner.core.evidence import open_evidence
from examiner.core.jxl_intake import read_header, split_container
from examiner.errors import EvidenceError

pytest.importorskip("pillow_heif")


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def unchanged_after(path: Path, fn: object) -> object:
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    result = fn()  # type: ignore[operator]
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    return result


# ---------------------------------------------------------------- HEIF


def test_8bit_heic_is_taken_in_with_its_facts(tmp_path: Path) -> None:
    arr = sample()
    p = write(tmp_path / "phone.heic", heic_8bit(arr))
    ev = unchanged_after(p, lambda: open_evidence(p))
    f = ev.facts
    assert f.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    assert (f.format, f.width, f.height, f.bit_depth, f.pixel_dtype) == ("heif", 64, 48, 8, "uint8")
    assert ev.pixels.shape == (48, 64, 3) and not f.extension_mismatch
    assert np.abs(ev.pixels.astype(int) - arr).mean() < 12  # lossy (4:2:0), but the same picture
    d = f.format_facts
    assert d["major_brand"] == "heic" and d["primary_item_type"] == "hvc1"
    assert d["image_count"] == 1 and d["primary_index"] == 0
    assert d["depth_images"] == 0


def test_10bit_heic_stays_10bit_in_uint16(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:48, 0:64]
    values = np.stack([xx * 16, yy * 21, (xx + yy) * 9], axis=-1).clip(0, 1023).astype(np.uint16)
    values = (values + rng.integers(0, 8, values.shape)).clip(0, 1023).astype(np.uint16)
    p = write(tmp_path / "hdr.heic", heic_10bit(values))
    ev = open_evidence(p)
    assert ev.facts.bit_depth == 10 and ev.pixels.dtype == np.uint16
    assert np.all(ev.pixels % 64 == 0)  # scaled exactly: the low 6 bits carry nothing
    stored = ev.pixels // 64
    assert stored.max() > 255  # more than 8 bits of range survived
    assert np.abs(stored.astype(int) - values).mean() < 48
    assert any("10-bit samples kept in uint16" in c for c in ev.facts.conversions)


def test_multi_image_heif_decodes_the_primary_and_records_the_rest(tmp_path: Path) -> None:
    first, second = sample(48, 64), sample(32, 40)[::-1].copy()
    p = write(tmp_path / "burst.heif", heif_multi(first, second))
    ev = open_evidence(p)
    d = ev.facts.format_facts
    assert d["image_count"] == 2 and d["primary_index"] == 1
    assert ev.pixels.shape[:2] == (32, 40)  # the primary, not the first
    assert d["thumbnails"] == 2  # recorded, not decoded
    assert [i["primary"] for i in d["images"]] == [False, True]
    assert any("primary image (index 1) decoded" in c for c in ev.facts.conversions)


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9, -10, -1])
def test_truncated_heif_is_refused(tmp_path: Path, cut: float) -> None:
    data = heif_multi(sample(48, 64), sample(32, 40))
    n = int(len(data) * cut) if cut > 0 else len(data) + int(cut)
    p = write(tmp_path / "cut.heic", data[:n])
    with pytest.raises(EvidenceError) as err:
        open_evidence(p)
    msg = str(err.value)
    assert str(p) in msg and "\n" not in msg


def test_heif_tail_cut_that_libheif_decodes_is_still_refused(tmp_path: Path) -> None:
    import pillow_heif

    data = heif_multi(sample(48, 64), sample(32, 40))
    cut = data[:-10]
    heif = pillow_heif.open_heif(io.BytesIO(cut))
    assert heif[heif.primary_index].data  # the library alone would not notice
    with pytest.raises(EvidenceError, match="truncated"):
        open_evidence(write(tmp_path / "tail.heic", cut))


def test_heif_pixel_limit_is_checked_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write(tmp_path / "big.heic", heic_8bit(sample()))

    def no_decode(*_a: object, **_k: object) -> None:
        raise AssertionError("pixels were decoded before the limit was checked")

    monkeypatch.setattr(heif_intake, "_pixels", no_decode)
    with pytest.raises(EvidenceError, match="over the limit"):
        open_evidence(p, max_pixels=1000)


def test_heif_with_a_primary_image_the_tool_cannot_examine_is_refused(tmp_path: Path) -> None:
    data = heic_8bit(sample())
    iinf = data.index(b"iinf")
    at = data.index(b"hvc1", iinf)
    other = data[:at] + b"jpeg" + data[at + 4 :]
    with pytest.raises(EvidenceError, match="primary image is JPEG, which the tool cannot examine"):
        open_evidence(write(tmp_path / "jpeg-in-heif.heic", other))


def test_heif_without_image_items_is_refused(tmp_path: Path) -> None:
    data = heic_8bit(sample())
    meta = data.index(b"meta") - 4
    size = int.from_bytes(data[meta : meta + 4], "big")
    no_meta = data[:meta] + size.to_bytes(4, "big") + b"free" + data[meta + 8 :]
    with pytest.raises(EvidenceError, match="no still image"):
        open_evidence(write(tmp_path / "seq.heic", no_meta))


def test_heic_damaged_inside_is_refused_or_decoded_never_crashes(tmp_path: Path) -> None:
    data = bytearray(heic_8bit(sample()))
    outcomes = set()
    for i in range(40, len(data), max(1, len(data) // 60)):
        damaged = bytearray(data)
        damaged[i] ^= 0x5A
        try:
            open_evidence(write(tmp_path / "flip.heic", bytes(damaged)))
            outcomes.add("decoded")
        except EvidenceError as exc:
            assert "\n" not in str(exc)
            outcomes.add("refused")
    assert "refused" in outcomes


# ---------------------------------------------------------------- JPEG XL


@pytest.mark.parametrize("container", [False, True])
def test_lossless_jxl_is_taken_in_exactly(tmp_path: Path, container: bool) -> None:
    arr = sample(45, 61)
    p = write(tmp_path / "a.jxl", jxl_lossless(tmp_path, arr, container=container))
    ev = unchanged_after(p, lambda: open_evidence(p))
    assert ev.facts.format == "jxl" and ev.facts.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    assert np.array_equal(ev.pixels, arr)
    assert ev.facts.format_facts["iso_container"] is container
    assert ev.facts.bit_depth == 8


def test_16bit_jxl_keeps_every_bit(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    arr = rng.integers(0, 65536, size=(20, 27, 3), dtype=np.uint16)
    ev = open_evidence(write(tmp_path / "deep.jxl", jxl_lossless(tmp_path, arr)))
    assert ev.facts.bit_depth == 16 and ev.pixels.dtype == np.uint16
    assert np.array_equal(ev.pixels, arr)


@pytest.mark.parametrize(("h", "w"), [(48, 64), (17, 33), (40, 40), (9, 16), (300, 7)])
def test_jxl_header_size_is_read_without_decoding(tmp_path: Path, h: int, w: int) -> None:
    data = jxl_lossless(tmp_path, sample(h, w), name=f"s{h}x{w}")
    codestream, _ = split_container(tmp_path / "x.jxl", data)
    header = read_header(codestream)
    assert (header["width"], header["height"]) == (w, h)


def test_jxl_orientation_is_recorded_not_applied(tmp_path: Path) -> None:
    arr = sample(48, 64)
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=95, exif=exif.tobytes())
    jpeg_pixels = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).astype(int)
    ev = open_evidence(write(tmp_path / "rot.jxl", jxl_from_jpeg_pixels(tmp_path, buf.getvalue())))
    assert ev.facts.exif_orientation == 6
    assert ev.pixels.shape == (48, 64, 3)  # as stored, not turned upright
    assert np.abs(ev.pixels.astype(int) - jpeg_pixels).max() <= 3  # libjpeg builds may differ by rounding


@pytest.mark.parametrize("cut", [0.2, 0.5, 0.8, -3])
def test_truncated_jxl_is_refused(tmp_path: Path, cut: float) -> None:
    data = jxl_lossless(tmp_path, sample(64, 80), container=True)
    n = int(len(data) * cut) if cut > 0 else len(data) + int(cut)
    p = write(tmp_path / "cut.jxl", data[:n])
    with pytest.raises(EvidenceError) as err:
        open_evidence(p)
    assert str(p) in str(err.value) and "\n" not in str(err.value)


def test_bare_jxl_codestream_cut_short_is_refused(tmp_path: Path) -> None:
    data = jxl_lossless(tmp_path, sample(64, 80))
    with pytest.raises(EvidenceError, match="JPEG XL"):
        open_evidence(write(tmp_path / "cut.jxl", data[: len(data) // 2]))


def test_jxl_pixel_limit_is_checked_before_djxl_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write(tmp_path / "a.jxl", jxl_lossless(tmp_path, sample()))

    def no_decode(*_a: object) -> None:
        raise AssertionError("djxl ran before the limit was checked")

    monkeypatch.setattr(jxl_intake, "_run_djxl", no_decode)
    with pytest.raises(EvidenceError, match="over the limit"):
        open_evidence(p, max_pixels=1000)


def test_inspect_json_shows_heif_facts(tmp_path: Path) -> None:
    p = write(tmp_path / "phone.heic", heic_8bit(sample()))
    import os

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-m", "examiner", "inspect", "--json", str(p)],
                          capture_output=True, text=True, env=env, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["format"] == "heif" and report["format_facts"]["major_brand"] == "heic"
    assert "provenance" in report


def test_heic_exif_is_read_and_its_orientation_recorded(tmp_path: Path) -> None:
    from examiner.core.inspection import inspect_image

    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "PhoneMaker", "Phone 15", 6
    p = write(tmp_path / "exif.heic", heic_8bit(sample(), exif=exif.tobytes()))
    report = inspect_image(p)
    assert report["camera"] == "PhoneMaker Phone 15" and report["metadata_errors"] == []
    assert report["exif_orientation"] == 6
    # pillow-heif stores the orientation as an irot property, which HEIF readers must apply.
    assert "irot" in report["format_facts"]["transformations"]
    assert any("irot" in c for c in report["conversions"])


def test_jxl_alpha_and_grey(tmp_path: Path) -> None:
    rgb = sample(20, 24)
    alpha = np.full((20, 24, 1), 128, np.uint8)
    ev = open_evidence(write(tmp_path / "rgba.jxl", jxl_lossless(tmp_path, np.concatenate([rgb, alpha], -1), name="rgba")))
    assert np.array_equal(ev.pixels, rgb)
    assert any("extra channel" in c for c in ev.facts.conversions)
    grey = (np.arange(20 * 24).reshape(20, 24) * 97 % 65536).astype(np.uint16)
    ev = open_evidence(write(tmp_path / "grey.jxl", jxl_lossless(tmp_path, grey, name="grey")))
    assert ev.pixels.dtype == np.uint16 and np.array_equal(ev.pixels, grey)
