"""Evidence intake: hashing, format identification, decode policy, limits and corrupt input."""

from __future__ import annotations

import builtins
import hashlib
import io
import os
import shutil
import subprocess
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from imagegen import encode, hostile_jpeg, jpeg_bytes, pattern, png_bomb, png_chunk
from PIL import Image

from examiner.core.evidence import (
    decode_bytes,
    hash_file,
    load_comparison_image,
    open_evidence,
)
from examiner.core.formats import ALLOWED_FORMATS, detect_format
from examiner.core.settings import Settings
from examiner.errors import EvidenceError, ExaminerError


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture
def rgb() -> np.ndarray:
    return pattern(24, 30)


# ---------------------------------------------------------------- hashing and read-only access


def test_sha256_matches_sha256sum_and_hashlib(tmp_path: Path) -> None:
    p = write(tmp_path / "a.jpg", jpeg_bytes())
    ev = open_evidence(p)
    data = p.read_bytes()
    assert ev.facts.sha256 == hashlib.sha256(data).hexdigest()
    assert ev.facts.md5 == hashlib.md5(data).hexdigest()
    assert hash_file(p) == (ev.facts.sha256, ev.facts.md5)
    if shutil.which("sha256sum"):
        out = subprocess.run(["sha256sum", str(p)], capture_output=True, text=True, check=True).stdout
        assert out.split()[0] == ev.facts.sha256


def test_intake_only_reads_and_leaves_bytes_and_mtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write(tmp_path / "a.png", encode(pattern(), "PNG"))
    os.utime(p, (1_600_000_000, 1_600_000_000))
    before = (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_size)
    modes: list[str] = []
    real_open = builtins.open

    def spy(file, mode="r", *a, **k):  # type: ignore[no-untyped-def]
        if Path(str(file)) == p:
            modes.append(mode)
        return real_open(file, mode, *a, **k)

    real_os_open = os.open

    def os_spy(file, flags, *a, **k):  # type: ignore[no-untyped-def]
        # Evidence is opened with os.open (O_NONBLOCK, so a FIFO cannot block): read-only flags.
        if Path(str(file)) == p:
            writing = flags & os.O_ACCMODE != os.O_RDONLY or flags & (os.O_CREAT | os.O_TRUNC | os.O_APPEND)
            modes.append("rb" if not writing else f"flags {flags:#o}")
        return real_os_open(file, flags, *a, **k)

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(os, "open", os_spy)
    ev = open_evidence(p)
    load_comparison_image(p)
    hash_file(p)
    monkeypatch.undo()
    assert modes and all(m == "rb" for m in modes), modes
    assert (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_size) == before
    assert ev.facts.size == len(before[0])
    assert ev.facts.mtime == pytest.approx(1_600_000_000)
    assert ev.facts.mtime_utc.startswith("2020-09-13T12:26:40")


# ---------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("fmt", "ext", "kwargs"),
    [
        ("jpeg", ".jpg", {"quality": 90}),
        ("png", ".png", {}),
        ("tiff", ".tif", {}),
        ("webp", ".webp", {"lossless": True}),
        ("avif", ".avif", {"quality": 90}),
        ("bmp", ".bmp", {}),
    ],
)
def test_each_allowed_format_decodes_as_stored(tmp_path: Path, rgb: np.ndarray, fmt: str, ext: str, kwargs: dict) -> None:
    p = write(tmp_path / f"x{ext}", encode(rgb, fmt.upper(), **kwargs))
    ev = open_evidence(p)
    f = ev.facts
    assert f.format == fmt and not f.extension_mismatch
    assert (f.width, f.height, f.mode, f.bit_depth, f.channels) == (30, 24, "RGB", 8, 3)
    assert ev.pixels.shape == (24, 30, 3) and ev.pixels.dtype == np.uint8
    assert f.conversions == []
    if fmt in ("png", "tiff", "bmp") or (fmt == "webp"):
        assert np.array_equal(ev.pixels, rgb)  # lossless formats give back exactly what was stored
    assert f.decode_policy and "not applied" in f.decode_policy
    assert set(f.to_dict()) >= {"path", "sha256", "md5", "size", "mtime", "format", "extension_mismatch", "width",
                                "height", "mode", "bit_depth", "channels", "icc_profile", "exif_orientation",
                                "conversions", "decode_policy"}  # fmt: skip


def test_allowlist_is_the_documented_one() -> None:
    assert set(ALLOWED_FORMATS) == {"jpeg", "png", "tiff", "webp", "avif", "bmp", "heif", "jxl"}


def test_format_comes_from_bytes_and_mismatch_is_reported(tmp_path: Path, rgb: np.ndarray) -> None:
    p = write(tmp_path / "actually_tiff.png", encode(rgb, "TIFF"))
    ev = open_evidence(p)
    assert ev.facts.format == "tiff"
    assert ev.facts.extension == ".png" and ev.facts.extension_mismatch
    q = write(tmp_path / "noext", encode(rgb, "PNG"))
    assert open_evidence(q).facts.extension_mismatch


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"hello, this is a text file\nnot a jpeg\n", "text, not an image"),
        (b"", "empty"),
        (b"GIF89a" + b"\x00" * 40, "GIF"),
        (b"%PDF-1.7\n" + b"\x00" * 40, "PDF"),
        (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08" * 8, "unrecognised format"),
    ],
)
def test_not_an_allowed_image_is_refused_clearly(tmp_path: Path, data: bytes, fragment: str) -> None:
    p = write(tmp_path / "evidence.jpg", data)
    with pytest.raises(EvidenceError) as err:
        open_evidence(p)
    assert fragment in str(err.value)
    assert str(p) in str(err.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="not found"):
        open_evidence(tmp_path / "nope.jpg")
    with pytest.raises(EvidenceError, match="directory"):
        open_evidence(tmp_path)


def test_detect_format_magic() -> None:
    assert detect_format(b"\xff\xd8\xff\xe0") == "jpeg"
    assert detect_format(b"MM\x00*\x00\x00\x00\x08") == "tiff"
    assert detect_format(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert detect_format(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf") == "avif"
    assert detect_format(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00heicmif1") == "heif"
    assert detect_format(b"\x00\x00\x00\x0cJXL \r\n\x87\n") == "jxl"
    assert detect_format(b"\xff\x0a\xfa\x7f") == "jxl"
    assert detect_format(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom") is None


# ---------------------------------------------------------------- decode policy


def test_16bit_png_and_tiff_are_kept_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    colour = rng.integers(0, 65536, size=(9, 11, 3), dtype=np.uint16)
    grey = rng.integers(0, 65536, size=(9, 11), dtype=np.uint16)
    for ext in (".png", ".tif"):
        pc = tmp_path / f"c16{ext}"
        pg = tmp_path / f"g16{ext}"
        assert cv2.imwrite(str(pc), colour[..., ::-1])  # OpenCV writes BGR
        assert cv2.imwrite(str(pg), grey)
        ec, eg = open_evidence(pc), open_evidence(pg)
        assert ec.pixels.dtype == np.uint16 and np.array_equal(ec.pixels, colour)
        assert eg.pixels.dtype == np.uint16 and np.array_equal(eg.pixels, grey)
        assert ec.facts.bit_depth == 16 and eg.facts.bit_depth == 16
        assert ec.facts.conversions == [] and eg.facts.conversions == []


def test_palette_cmyk_alpha_and_bilevel_conversions_are_recorded(tmp_path: Path, rgb: np.ndarray) -> None:
    img = Image.fromarray(rgb)
    cases = {
        "p.png": (img.convert("P"), "PNG", "palette -> RGB"),
        "cmyk.jpg": (img.convert("CMYK"), "JPEG", "CMYK -> RGB"),
        "cmyk.tif": (img.convert("CMYK"), "TIFF", "CMYK -> RGB"),
        "rgba.png": (img.convert("RGBA"), "PNG", "alpha channel discarded"),
        "la.png": (img.convert("LA"), "PNG", "alpha channel discarded"),
        "bw.png": (img.convert("1"), "PNG", "bilevel"),
    }
    for name, (im, fmt, expected) in cases.items():
        buf = io.BytesIO()
        im.save(buf, format=fmt)
        ev = open_evidence(write(tmp_path / name, buf.getvalue()))
        assert any(expected in c for c in ev.facts.conversions), (name, ev.facts.conversions)
        assert ev.pixels.dtype == np.uint8
        assert ev.pixels.ndim == (2 if im.mode in ("LA", "1") else 3)
    cmyk = open_evidence(tmp_path / "cmyk.tif")
    assert cmyk.facts.mode == "CMYK" and cmyk.facts.channels == 4
    assert np.array_equal(cmyk.pixels, np.asarray(img.convert("CMYK").convert("RGB")))


def test_greyscale_stays_two_dimensional(tmp_path: Path, rgb: np.ndarray) -> None:
    ev = open_evidence(write(tmp_path / "g.png", encode(rgb[..., 0], "PNG")))
    assert ev.pixels.shape == (24, 30) and np.array_equal(ev.pixels, rgb[..., 0])
    assert ev.facts.channels == 1


def test_orientation_is_recorded_but_not_applied(tmp_path: Path) -> None:
    arr = pattern(20, 36)
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif, quality=95)
    ev = open_evidence(write(tmp_path / "rot.jpg", buf.getvalue()))
    assert ev.facts.exif_orientation == 6
    assert ev.pixels.shape == (20, 36, 3)  # as stored, not rotated
    assert (ev.facts.width, ev.facts.height) == (36, 20)


def test_icc_profile_presence(tmp_path: Path, rgb: np.ndarray) -> None:
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    with_icc = open_evidence(write(tmp_path / "icc.png", encode(rgb, "PNG", icc_profile=icc)))
    without = open_evidence(write(tmp_path / "plain.png", encode(rgb, "PNG")))
    assert with_icc.facts.icc_profile and not without.facts.icc_profile


def test_multiframe_records_first_frame_only(tmp_path: Path, rgb: np.ndarray) -> None:
    frames = [Image.fromarray(rgb), Image.fromarray(255 - rgb)]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:])
    ev = open_evidence(write(tmp_path / "multi.tif", buf.getvalue()))
    assert ev.facts.frames == 2
    assert any("first frame" in c for c in ev.facts.conversions)
    assert np.array_equal(ev.pixels, rgb)


# ---------------------------------------------------------------- corrupt and hostile input


def test_truncated_jpeg_is_refused_at_every_cut(tmp_path: Path) -> None:
    data = jpeg_bytes(pattern(48, 48))
    for cut in (len(data) - 1, len(data) - 2, len(data) * 3 // 4, len(data) // 2, 200, 20, 3):
        p = write(tmp_path / f"t{cut}.jpg", data[:cut])
        with pytest.raises(EvidenceError) as err:
            open_evidence(p)
        assert str(p) in str(err.value)


def test_jpeg_with_eoi_replaced_is_refused(tmp_path: Path) -> None:
    data = jpeg_bytes()
    assert data.endswith(b"\xff\xd9")
    with pytest.raises(EvidenceError, match="EOI"):
        open_evidence(write(tmp_path / "noeoi.jpg", data[:-2] + b"\x00\x00"))


def test_jpeg_scan_cut_short_but_closed_with_eoi_is_refused(tmp_path: Path) -> None:
    # A classic repaired truncation: half the scan, then EOI. Pillow would pad the rest silently.
    data = jpeg_bytes(pattern(64, 64), quality=90)
    sos = data.index(b"\xff\xda")
    cut = data[: sos + (len(data) - sos) // 2] + b"\xff\xd9"
    with pytest.raises(EvidenceError, match="premature end"):
        open_evidence(write(tmp_path / "cut.jpg", cut))


def test_corrupt_entropy_data_is_refused(tmp_path: Path) -> None:
    data = jpeg_bytes(pattern(64, 64), quality=90)
    sos = data.index(b"\xff\xda")
    refused = 0
    for i in range(sos + 40, len(data) - 40, 97):
        b = bytearray(data)
        b[i] ^= 0x08
        try:
            open_evidence(write(tmp_path / f"flip{i}.jpg", bytes(b)))
        except EvidenceError as exc:
            assert "Corrupt JPEG data" in str(exc) or "structure" in str(exc)
            refused += 1
    assert refused > 0  # not every flip is detectable (valid Huffman codes), but many are


def test_trailing_bytes_after_eoi_are_recorded(tmp_path: Path) -> None:
    ev = open_evidence(write(tmp_path / "tail.jpg", jpeg_bytes() + b"APPENDED-DATA"))
    assert ev.facts.trailing_bytes == len(b"APPENDED-DATA")


def test_png_with_broken_crc_is_refused(tmp_path: Path, rgb: np.ndarray) -> None:
    data = bytearray(encode(rgb, "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0x01
    with pytest.raises(EvidenceError, match="CRC"):
        open_evidence(write(tmp_path / "crc.png", bytes(data)))


def test_truncated_png_and_tiff_and_webp_are_refused(tmp_path: Path, rgb: np.ndarray) -> None:
    for fmt, ext in (("PNG", ".png"), ("TIFF", ".tif"), ("WEBP", ".webp"), ("BMP", ".bmp")):
        data = encode(pattern(40, 40), fmt)
        p = write(tmp_path / f"cut{ext}", data[: len(data) * 2 // 3])
        with pytest.raises(EvidenceError):
            open_evidence(p)


def test_decompression_bomb_refused_before_decoding(tmp_path: Path) -> None:
    p = write(tmp_path / "bomb.png", png_bomb(20000, 20000))
    with pytest.raises(EvidenceError) as err:
        open_evidence(p, max_pixels=100_000_000)
    assert "20000 x 20000" in str(err.value) and "limit" in str(err.value)
    # With no limit given, the built-in one applies; the core never reads the settings file
    # (the front ends pass the user's limit in).
    Settings(max_pixels=1000).save()
    small = write(tmp_path / "ok.png", encode(pattern(40, 40), "PNG"))
    assert open_evidence(small).pixels.shape[:2] == (40, 40)
    with pytest.raises(EvidenceError, match="over the limit of 1,000"):
        open_evidence(small, max_pixels=Settings.load().max_pixels)
    with pytest.raises(EvidenceError, match="limit of 250,000,000"):
        open_evidence(p)


def test_pillows_own_guard_yields_to_the_configured_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Pillow refuses images over twice its MAX_IMAGE_PIXELS by itself; the configured limit is
    # the one that counts, so a higher setting lets such an image in (scaled down here).
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)
    rgb = pattern(32, 40)
    p = write(tmp_path / "big.png", encode(rgb, "PNG"))
    ev = open_evidence(p, max_pixels=10_000)
    assert np.array_equal(ev.pixels, rgb)
    assert Image.MAX_IMAGE_PIXELS == 500  # restored after the decode
    with pytest.raises(EvidenceError, match="over the limit of 1,000"):
        open_evidence(p, max_pixels=1000)


def test_png_stream_damage_behind_valid_crcs_is_refused(tmp_path: Path) -> None:
    # Damage in the compressed stream, CRC recomputed: decoders that stop after the last row
    # would return altered pixels without complaint.
    data = bytearray(encode(pattern(64, 64), "PNG", compress_level=0))
    i = data.index(b"IDAT")
    n = int.from_bytes(data[i - 4 : i], "big")
    data[i + 4 + n - 6] ^= 0xFF  # inside the last stored row, before the zlib checksum
    data[i + 4 + n : i + 8 + n] = zlib.crc32(bytes(data[i : i + 4 + n])).to_bytes(4, "big")
    with pytest.raises(EvidenceError, match="damaged"):
        open_evidence(write(tmp_path / "deep.png", bytes(data)))


def test_hostile_metadata_does_not_stop_intake(tmp_path: Path) -> None:
    ev = open_evidence(write(tmp_path / "hostile.jpg", hostile_jpeg()))
    assert ev.pixels.shape == (32, 40, 3)


def test_broken_png_chunk_structure(tmp_path: Path, rgb: np.ndarray) -> None:
    data = encode(rgb, "PNG")
    no_iend = data[: data.index(b"IEND") - 4]
    with pytest.raises(EvidenceError, match="IEND|truncated"):
        open_evidence(write(tmp_path / "noiend.png", no_iend))
    bad_type = data[:8] + png_chunk(b"IH\x00R", b"x") + data[8:]
    with pytest.raises(EvidenceError, match="invalid type|IHDR"):
        open_evidence(write(tmp_path / "badtype.png", bad_type))


def test_decode_bytes_uses_the_same_policy() -> None:
    arr = decode_bytes(encode(pattern(), "PNG"), name="artefact")
    assert arr.shape == (32, 40, 3)
    with pytest.raises(ExaminerError, match="artefact"):
        decode_bytes(b"not an image", name="artefact")
