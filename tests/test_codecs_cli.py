"""The codec commands: codecs list/import, recompress and match-rate."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from codec_helpers import photo_like, save_state_dict, tiny_hyperprior
from PIL import Image

from examiner.cli import main


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    p = tmp_path / "evidence.png"
    Image.fromarray(photo_like(180, 240, seed=5)).save(p)
    return p


def _json(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 0) -> dict:
    assert main(argv) == code
    return json.loads(capsys.readouterr().out)


def test_codecs_list_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["codecs", "list", "--json"])
    by_id = {c["id"]: c for c in data["codecs"]}
    assert by_id["jpeg"]["qualities"] == list(range(1, 101)) and by_id["jpeg"]["weights_installed"] is None
    assert by_id["mbt2018-mse"]["weights_installed"] == [] and by_id["mbt2018-mse"]["available"] is False
    assert by_id["jpeg"]["demonstration"] is False and by_id["jpegxl"]["family"] == "external"
    assert main(["codecs", "list"]) == 0
    text = capsys.readouterr().out
    assert "cheng2020-attn-ms-ssim" in text and "0/6" in text and "1-100" in text


def test_import_then_recompress_with_a_neural_codec(
    tmp_path: Path, evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = save_state_dict(tiny_hyperprior(), tmp_path, "bmshj2018-hyperprior-2")
    data = _json(capsys, ["codecs", "import", str(w), "--json"])
    assert data["imported"][0]["used_by"] == ["bmshj2018-hyperprior-mse@2"]
    listed = _json(capsys, ["codecs", "list", "--json"])
    entry = next(c for c in listed["codecs"] if c["id"] == "bmshj2018-hyperprior-mse")
    assert entry["weights_installed"] == [2] and entry["available"]
    out = tmp_path / "out.png"
    res = _json(
        capsys,
        ["recompress", str(evidence), "--codec", "bmshj2018-hyperprior-mse", "--quality", "2",
         "--out", str(out), "--device", "cpu", "--json"],
    )  # fmt: skip
    assert res["device"] == "cpu" and res["tiled"] is False and res["bpp"] > 0
    assert res["file_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert res["record"]["weights_sha256"] == {w.name: hashlib.sha256(w.read_bytes()).hexdigest()}


def test_recompress_json_keys_outputs_and_evidence_untouched(
    tmp_path: Path, evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = evidence.read_bytes()
    out, bits = tmp_path / "out.png", tmp_path / "out.jpg"
    res = _json(
        capsys,
        ["recompress", str(evidence), "--codec", "jpeg", "--quality", "30", "--out", str(out),
         "--bitstream", str(bits), "--param", "subsampling=4:4:4", "--json"],
    )  # fmt: skip
    for key in ("codec", "quality", "bpp", "psnr", "ms_ssim", "device", "encode_s", "decode_s", "file_sha256", "pixels_sha256", "tiled"):
        assert key in res
    assert res["codec"] == "jpeg" and res["quality"] == 30 and res["device"] == "cpu"
    assert res["bpp"] == pytest.approx(8 * bits.stat().st_size / (180 * 240))
    assert res["ms_ssim"] is not None and 0 < res["ms_ssim"] < 1 and res["psnr"] > 20
    assert res["file_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(bits).convert("RGB")))
    assert res["input_sha256"] == hashlib.sha256(before).hexdigest()
    assert evidence.read_bytes() == before
    assert res["record"]["params"]["subsampling"] == "4:4:4"


def test_recompress_refuses_to_overwrite_the_evidence(evidence: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = evidence.read_bytes()
    for argv in (
        ["--out", str(evidence)],
        ["--out", str(evidence.parent / "x.png"), "--bitstream", str(evidence)],
        ["--out", str(evidence.parent / "." / evidence.name)],
    ):
        assert main(["recompress", str(evidence), "--codec", "jpeg", "--quality", "50", *argv]) == 2
        assert "refusing to write over the input image" in capsys.readouterr().err
    assert evidence.read_bytes() == before


def test_recompress_clear_errors(tmp_path: Path, evidence: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "o.png")
    assert main(["recompress", str(evidence), "--codec", "nope", "--quality", "1", "--out", out]) == 2
    assert "unknown codec 'nope'" in capsys.readouterr().err
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image at all")
    assert main(["recompress", str(junk), "--codec", "jpeg", "--quality", "50", "--out", out]) == 2
    err = capsys.readouterr().err
    assert str(junk) in err and "Traceback" not in err
    assert main(["recompress", str(evidence), "--codec", "jpeg", "--quality", "50", "--out", out, "--param", "x"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    # JPEG has many levels: leaving --quality out is refused rather than guessed.
    assert main(["recompress", str(evidence), "--codec", "jpeg", "--out", out]) == 2
    assert "choose one with --quality" in capsys.readouterr().err


def test_match_rate_json(evidence: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = _json(capsys, ["match-rate", str(evidence), "--codec", "jpeg", "--target-bpp", "1.5", "--json"])
    assert 1 <= res["quality"] <= 100 and res["abs_error_bpp"] == pytest.approx(abs(res["bpp"] - 1.5))
    assert str(res["quality"]) in res["evaluated"] and res["encodes"] == len(res["evaluated"])
    assert main(["match-rate", str(evidence), "--codec", "jpeg", "--target-bpp", "1.5"]) == 0
    assert "quality" in capsys.readouterr().out


@pytest.mark.skipif(__import__("shutil").which("cjxl") is None, reason="cjxl (libjxl-tools) is not installed")
def test_lossless_run_gives_strict_json(tmp_path: Path, evidence: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["recompress", str(evidence), "--codec", "jpegxl", "--quality", "100", "--param", "effort=2"]
    assert main([*argv, "--out", str(tmp_path / "o.png"), "--json"]) == 0
    text = capsys.readouterr().out
    res = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert res["identical"] is True and res["psnr"] is None and res["ms_ssim"] == pytest.approx(1.0)
