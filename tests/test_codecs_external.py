"""The external-codec protocol: the JPEG XL pack end to end, and fake packs that fail."""

from __future__ import annotations

import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
from codec_helpers import photo_like

from examiner.codecs import engine, registry
from examiner.codecs.api import RunOptions
from examiner.core.settings import user_codec_dir
from examiner.core.tasks import TaskContext
from examiner.errors import Cancelled, CodecError


@pytest.mark.skipif(shutil.which("cjxl") is None, reason="cjxl (libjxl-tools) is not installed")
def test_jpegxl_pack_end_to_end() -> None:
    img = photo_like(120, 181, seed=9)
    rec = engine.run("jpegxl", img, 80, RunOptions(params={"effort": "3"}))
    assert rec.bitstream is not None and rec.bitstream[:2] == b"\xff\x0a"  # JPEG XL codestream
    assert rec.bpp == pytest.approx(8 * len(rec.bitstream) / (120 * 181))
    assert rec.pixels.shape == img.shape and engine.psnr(img, rec.pixels) > 25
    assert "cjxl" in rec.versions and rec.versions["cjxl"].startswith("cjxl")
    assert "--quality=80" in rec.params["encode_argv"] and "--effort=3" in rec.params["encode_argv"]
    lossless = engine.run("jpegxl", img, 100, RunOptions(params={"effort": "3"}))
    assert np.array_equal(lossless.pixels, img)


def _fake_pack(name: str, encode_body: str, decode_body: str, timeout_s: float = 30, extra: str = "") -> str:
    """A pack in the user codec dir whose encoder and decoder are small Python scripts."""
    pack = user_codec_dir() / "packs" / name
    pack.mkdir(parents=True)
    (pack / "enc.py").write_text(textwrap.dedent(encode_body))
    (pack / "dec.py").write_text(textwrap.dedent(decode_body))
    py = sys.executable
    (pack / "codec.toml").write_text(
        textwrap.dedent(
            f"""\
            [pack]
            name = "Fake {name}"

            [[codec]]
            id = "{name}"
            name = "Fake"
            family = "external"
            qualities = [1, 2]
            accepts = ["rgb8", "grey8", "rgb16", "grey16"]
            {extra}

            [codec.external]
            encode = ["{py}", "{pack / 'enc.py'}", "{{input}}", "{{bitstream}}", "{{quality}}"]
            decode = ["{py}", "{pack / 'dec.py'}", "{{bitstream}}", "{{output}}"]
            timeout_s = {timeout_s}
            version_argv = ["{py}", "-c", "print('fake 1.0')"]
            """
        )
    )
    registry.clear_cache()
    return name


COPY_ENCODER = """
    import shutil, sys
    shutil.copyfile(sys.argv[1], sys.argv[2])
"""
COPY_DECODER = """
    import shutil, sys
    shutil.copyfile(sys.argv[1], sys.argv[2])
"""


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def test_fake_lossless_pack_round_trips_16bit_and_cleans_up(private_tmp: Path) -> None:
    cid = _fake_pack("fake-copy", COPY_ENCODER, COPY_DECODER)
    deep = photo_like(50, 70, seed=1).astype(np.uint16) * 257
    rec = engine.run(cid, deep, 1)
    assert rec.pixels.dtype == np.uint16 and np.array_equal(rec.pixels, deep)  # PNG input is lossless
    assert rec.versions[sys.executable] == "fake 1.0"
    grey = photo_like(40, 30, grey=True)
    assert np.array_equal(engine.run(cid, grey, 2).pixels, grey)
    assert list(private_tmp.iterdir()) == []  # the private folder is gone


def test_failing_encoder_reports_its_stderr(private_tmp: Path) -> None:
    cid = _fake_pack(
        "fake-fail",
        """
        import sys
        sys.stderr.write("model file hific-lo not found\\n")
        sys.exit(3)
        """,
        COPY_DECODER,
    )
    with pytest.raises(CodecError) as err:
        engine.run(cid, photo_like(32, 32), 1)
    msg = str(err.value)
    assert "exit status 3" in msg and "model file hific-lo not found" in msg and "encoder" in msg
    assert list(private_tmp.iterdir()) == []


def test_missing_output_and_missing_bitstream_are_errors(private_tmp: Path) -> None:
    cid = _fake_pack("fake-noout", COPY_ENCODER, "import sys\nprint('done', file=sys.stderr)\n")
    with pytest.raises(CodecError, match="wrote no output image; stderr: done"):
        engine.run(cid, photo_like(32, 32), 1)
    cid2 = _fake_pack("fake-nobits", "pass\n", COPY_DECODER)
    with pytest.raises(CodecError, match="wrote no bitstream"):
        engine.run(cid2, photo_like(32, 32), 1)
    assert list(private_tmp.iterdir()) == []


def test_timeout_kills_the_command(private_tmp: Path) -> None:
    cid = _fake_pack(
        "fake-slow",
        "import sys, time\nsys.stderr.write('thinking\\n'); sys.stderr.flush(); time.sleep(30)\n",
        COPY_DECODER,
        # Long enough for the child's interpreter to start and write to stderr on a loaded machine.
        timeout_s=4,
    )
    with pytest.raises(CodecError, match=r"timed out after 4 s.*thinking"):
        engine.run(cid, photo_like(32, 32), 1)
    assert list(private_tmp.iterdir()) == []


def test_cancellation_stops_a_running_command(private_tmp: Path) -> None:
    import threading

    cid = _fake_pack("fake-cancel", "import time\ntime.sleep(30)\n", COPY_DECODER, timeout_s=60)
    ctx = TaskContext()
    timer = threading.Timer(0.5, ctx.cancel.cancel)
    timer.start()
    with pytest.raises(Cancelled):
        engine.run(cid, photo_like(32, 32), 1, ctx=ctx)
    assert list(private_tmp.iterdir()) == []


def test_missing_program_is_reported_as_unavailable() -> None:
    pack = user_codec_dir() / "packs" / "ghost"
    pack.mkdir(parents=True)
    (pack / "codec.toml").write_text(
        '[pack]\nname = "Ghost"\n[[codec]]\nid = "ghost"\nfamily = "external"\nqualities = [1]\n'
        '[codec.external]\nencode = ["no-such-encoder-xyz", "{input}", "{bitstream}"]\n'
        'decode = ["no-such-decoder-xyz", "{bitstream}", "{output}"]\n'
    )
    entries, _ = registry.list_codecs()
    ghost = next(e for e in entries if e.info.id == "ghost")
    assert not ghost.available and "no-such-encoder-xyz" in ghost.reason
    with pytest.raises(CodecError, match="cannot run here"):
        engine.run("ghost", photo_like(16, 16), 1)


def test_placeholders_cannot_reach_attributes() -> None:
    from examiner.codecs.external import fill_argv

    assert fill_argv(["-q", "{quality}", "x{quality}y"], {"quality": 5}, "t") == ["-q", "5", "x5y"]
    assert fill_argv(["{input.__class__}"], {"input": "a"}, "t") == ["{input.__class__}"]
    with pytest.raises(CodecError, match="placeholder"):
        fill_argv(["{nope}"], {}, "t")
