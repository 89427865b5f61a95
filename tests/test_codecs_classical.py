"""Classical codecs round-trip real files: JPEG, WebP, AVIF (Pillow) and JPEG XL (cjxl/djxl)."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from codec_helpers import photo_like
from PIL import Image

from examiner.codecs import engine
from examiner.codecs.api import RunOptions
from examiner.errors import CodecError

FAST = {"jpeg": {}, "webp": {"method": "2"}, "avif": {"speed": "9"}, "jpegxl": {"effort": "3"}}
needs_cjxl = pytest.mark.skipif(shutil.which("cjxl") is None, reason="cjxl (libjxl-tools) is not installed")


def _codecs() -> list:
    return [pytest.param(c, marks=needs_cjxl) if c == "jpegxl" else c for c in FAST]


@pytest.mark.parametrize("codec_id", _codecs())
@pytest.mark.parametrize("shape", [(512, 768), (667, 1001)], ids=["kodak", "odd-1001x667"])
def test_round_trip_rgb(codec_id: str, shape: tuple[int, int]) -> None:
    img = photo_like(*shape, seed=1)
    rec = engine.run(codec_id, img, 60, RunOptions(params=FAST[codec_id]))
    assert rec.pixels.shape == img.shape and rec.pixels.dtype == np.uint8
    assert rec.bitstream is not None and len(rec.bitstream) > 100
    assert rec.bpp == pytest.approx(8 * len(rec.bitstream) / (shape[0] * shape[1]))
    assert 0.05 < rec.bpp < 24
    assert engine.psnr(img, rec.pixels) > 25
    assert rec.versions and rec.device == "cpu" and rec.encode_s >= 0 and rec.decode_s >= 0
    assert rec.params["input_conversion"] == []


@pytest.mark.parametrize("codec_id", _codecs())
def test_grey_and_16bit_inputs_are_converted_and_recorded(codec_id: str) -> None:
    grey = photo_like(200, 301, seed=2, grey=True)
    rec = engine.run(codec_id, grey, 70, RunOptions(params=FAST[codec_id]))
    if codec_id in ("jpeg", "jpegxl"):  # both code a single grey channel natively
        assert rec.pixels.shape == grey.shape
        assert rec.params["input_conversion"] == []
    else:
        assert rec.pixels.shape == grey.shape + (3,)
        assert rec.params["input_conversion"] == ["grey -> RGB (channel replication)"]
    deep = photo_like(200, 301, seed=3).astype(np.uint16) * 257 + 100
    rec16 = engine.run(codec_id, deep, 70, RunOptions(params=FAST[codec_id]))
    assert rec16.pixels.dtype == np.uint8
    assert "16-bit -> 8-bit (round(v*255/65535))" in rec16.params["input_conversion"]
    assert rec16.params["input_form"] == "rgb16" and rec16.params["coded_form"] == "rgb8"
    assert any("16-bit" in n for n in rec16.notes)
    assert engine.psnr(engine.to_8bit(deep), rec16.pixels) > 25


def test_jpeg_bitstream_is_a_real_jpeg_and_decodes_to_the_same_pixels() -> None:
    img = photo_like(240, 320, seed=4)
    rec = engine.run("jpeg", img, 75)
    assert rec.bitstream is not None and rec.bitstream[:2] == b"\xff\xd8" and rec.bitstream[-2:] == b"\xff\xd9"
    again = np.asarray(Image.open(io.BytesIO(rec.bitstream)).convert("RGB"))
    assert np.array_equal(again, rec.pixels)


def test_jpeg_quality_subsampling_and_optimize() -> None:
    img = photo_like(256, 384, seed=5)
    sizes = [len(engine.run("jpeg", img, q).bitstream or b"") for q in (10, 50, 95)]
    assert sizes[0] < sizes[1] < sizes[2]
    s444 = engine.run("jpeg", img, 80, RunOptions(params={"subsampling": "4:4:4"}))
    s420 = engine.run("jpeg", img, 80, RunOptions(params={"subsampling": "4:2:0"}))
    assert s444.params["subsampling"] == "4:4:4" and s420.params["subsampling"] == "4:2:0"
    assert len(s444.bitstream or b"") > len(s420.bitstream or b"")
    with Image.open(io.BytesIO(s444.bitstream or b"")) as im:
        assert im.layer[0][1:3] == (1, 1)  # luma sampling factors 1x1: no subsampling
    plain = engine.run("jpeg", img, 80)
    opt = engine.run("jpeg", img, 80, RunOptions(params={"optimize": "true"}))
    assert opt.params["codec_params"]["optimize"] is True
    assert len(opt.bitstream or b"") < len(plain.bitstream or b"")
    assert np.array_equal(opt.pixels, plain.pixels)  # Huffman tables change bytes, not pixels


def test_bad_parameters_and_qualities_are_clear_errors() -> None:
    img = photo_like(64, 64)
    with pytest.raises(CodecError, match="subsampling"):
        engine.run("jpeg", img, 50, RunOptions(params={"subsampling": "4:1:1"}))
    with pytest.raises(CodecError, match="no parameter 'colour'"):
        engine.run("jpeg", img, 50, RunOptions(params={"colour": "x"}))
    with pytest.raises(CodecError, match="no quality 0"):
        engine.run("jpeg", img, 0)
    with pytest.raises(CodecError, match="uint8 or uint16"):
        engine.run("jpeg", img.astype(np.float32), 50)
