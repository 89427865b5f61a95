"""The bundled demonstration codec pack: labelled, hash-checked, real bytes, card reproducible."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_path

PACK = Path(__file__).resolve().parent.parent / "codecs" / "examiner-demo"
CODEC_ID = "examiner-demo-mbt2018-mean"
pytestmark = pytest.mark.skipif(not (PACK / "codec.toml").is_file(), reason="the demonstration pack is not built")


def _pack_info():  # type: ignore[no-untyped-def]
    from examiner.codecs.packs import read_pack

    pack = read_pack(PACK, "built-in")
    (info,) = [c for c in pack.codecs if c.id == CODEC_ID]
    return pack, info


def test_pack_is_labelled_as_a_demonstration_and_small() -> None:
    from examiner.codecs.registry import list_codecs
    from examiner.codecs.weights import sha256_file

    pack, info = _pack_info()
    assert info.id == CODEC_ID and info.demonstration
    assert "DEMO" in info.name and "not a published model" in info.name
    assert "DEMONSTRATION" in info.description
    assert info.qualities == (1, 2, 3)
    weights = info.extra["weights"]
    assert [w["quality"] for w in weights] == [1, 2, 3]
    for w in weights:
        f = PACK / w["file"]
        assert w["file"].endswith(f"-{w['sha256'][:8]}.safetensors")
        assert sha256_file(f) == w["sha256"] and f.stat().st_size == w["size"]
    # Every weight file of the pack (the three models and the generative decoder): at most 25 MB.
    assert sum(f.stat().st_size for f in PACK.glob("*.safetensors")) <= 25_000_000
    entries, _ = list_codecs()
    (entry,) = [e for e in entries if e.info.id == CODEC_ID]
    assert entry.info.demonstration
    card = (PACK / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "demonstration codec, not a published model" in card


def test_weights_load_with_their_hash_checked_and_a_tampered_copy_is_refused(tmp_path: Path) -> None:
    from examiner.codecs import engine
    from examiner.codecs.packs import load_adapter, read_pack
    from examiner.codecs.weights import load_verified
    from examiner.errors import WeightsError

    _, info = _pack_info()
    w = info.extra["weights"][0]
    state, digest = load_verified(PACK / w["file"], w["sha256"])
    assert digest == w["sha256"] and "g_a.0.weight" in state

    copy = tmp_path / "tampered-pack"
    shutil.copytree(PACK, copy, ignore=shutil.ignore_patterns("*q2*", "*q3*", "__pycache__"))
    f = copy / w["file"]
    data = bytearray(f.read_bytes())
    data[-1] ^= 0x01  # one flipped bit in the last tensor's data
    f.write_bytes(bytes(data))
    pack = read_pack(copy, "extra")
    (tampered,) = [c for c in pack.codecs if c.id == CODEC_ID]
    codec = load_adapter(pack).create(tampered)
    image = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(WeightsError, match="does not match"):
        engine.run(codec, image, 1)


def test_recompress_gives_bpp_of_the_real_bytes_and_is_repeatable(tmp_path: Path) -> None:
    from PIL import Image

    from examiner.cli import main
    from examiner.demo_scene import render_scene

    scene, _ = render_scene(5)
    crop = scene[380:500, 400:700]  # 120 x 300: not a multiple of 64, so padding is exercised
    src = tmp_path / "scene.png"
    Image.fromarray(crop).save(src)
    runs = []
    for i in range(2):
        out, bits = tmp_path / f"out{i}.png", tmp_path / f"bits{i}.bin"
        code = main(["recompress", str(src), "--codec", CODEC_ID, "--quality", "1", "--out", str(out), "--bitstream", str(bits), "--json"])
        assert code == 0
        runs.append((out, bits))
    b0 = runs[0][1].read_bytes()
    assert b0 == runs[1][1].read_bytes()
    decoded = np.asarray(Image.open(runs[0][0]))
    assert decoded.shape == crop.shape
    np.testing.assert_array_equal(decoded, np.asarray(Image.open(runs[1][0])))
    from examiner.codecs import engine

    rec = engine.run(CODEC_ID, crop, 1)
    assert rec.bitstream == b0
    assert rec.bpp == pytest.approx(8 * len(b0) / (120 * 300))
    # Lower quality, fewer bits.
    assert engine.run(CODEC_ID, crop, 3).bpp > rec.bpp


def test_model_card_numbers_are_reproduced_on_a_heldout_kodak_image() -> None:
    from examiner.codecs import engine
    from examiner.core.evidence import open_evidence

    table = json.loads((PACK / "rd_heldout.json").read_text(encoding="utf-8"))
    row = next(r for r in table["rows"] if r["image"] == "kodim23" and r["quality"] == 1)
    ev = open_evidence(shared_path("data", "kodak", "kodim23.png"))
    assert ev.sha256 == row["sha256"]
    rec = engine.run(CODEC_ID, ev.pixels, 1)
    psnr = engine.psnr(ev.pixels, rec.pixels)
    assert rec.bpp == pytest.approx(row["bpp"], rel=0.02)
    assert psnr == pytest.approx(row["psnr"], rel=0.02)
    card = (PACK / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert f"| kodim23 | 1 | {row['bpp']:.4f} | {row['psnr']:.2f} |" in card


def test_generative_variant_is_labelled_and_its_card_numbers_are_reproduced() -> None:
    from examiner.codecs import engine
    from examiner.codecs.weights import sha256_file
    from examiner.core.evidence import open_evidence

    pack, _ = _pack_info()
    gans = [c for c in pack.codecs if c.id == CODEC_ID + "-gan"]
    if not gans:
        pytest.skip("the pack holds no generative variant")
    (gan,) = gans
    assert gan.demonstration and "DEMO" in gan.name and "not a published model" in gan.name
    (w,) = gan.extra["weights"]
    assert sha256_file(PACK / w["decoder_file"]) == w["decoder_sha256"]
    table = json.loads((PACK / "rd_heldout.json").read_text(encoding="utf-8"))["generative"]
    assert table["decoder_sha256"] == w["decoder_sha256"]
    row = next(r for r in table["rows"] if r["image"] == "kodim23")
    path = shared_path("data", "kodak", "kodim23.png")
    ev = open_evidence(path)
    rec = engine.run(gan.id, ev.pixels, 1)
    base = engine.run(CODEC_ID, ev.pixels, 1)
    assert rec.bitstream == base.bitstream  # same encoder, another decoder
    assert engine.psnr(ev.pixels, rec.pixels) == pytest.approx(row["generative"]["psnr"], rel=0.02)
    card = (PACK / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert f"| kodim23 | {row['base']['bpp']:.4f} | {row['base']['psnr']:.2f} | {row['generative']['psnr']:.2f} |" in card
