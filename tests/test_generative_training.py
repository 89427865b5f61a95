"""The generative (adversarial decoder) variant: deterministic, resumable, shipped as a decoder
overlay that is hash-checked and cannot change the bitstream."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from codec_helpers import cancelled_at_progress_call
from PIL import Image

from examiner.core.tasks import Cancelled, TaskContext
from examiner.errors import CodecError, WeightsError
from examiner.training.codec_pack import write_pack_manifest
from examiner.training.codec_training import TrainConfig, train
from examiner.training.generative import GenerativeConfig, train_generative


def _images(folder: Path, n: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        base = rng.integers(0, 255, (8, 8, 3)).astype(np.uint8)
        img = np.kron(base, np.ones((12, 12, 1), dtype=np.uint8)) + rng.integers(0, 20, (96, 96, 3)).astype(np.uint8)
        Image.fromarray(img).save(folder / f"img{i:02d}.png")
    return folder


@pytest.fixture(scope="module")
def base_pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    tmp = tmp_path_factory.mktemp("gen")
    images = _images(tmp / "imgs")
    cfg = TrainConfig(images=str(images), out=str(tmp / "pack"), lambdas=(0.002,), steps=2, base_steps=0,
                      base_lambda=0.002, seed=3, n=8, m=8, crop=64, batch=2, holdout=("img02",),
                      checkpoints=str(tmp / "ck"))
    record = train(cfg, TaskContext())
    write_pack_manifest(Path(cfg.out), record, "test-demo", "test pack")
    return images, Path(cfg.out), record


def _gen_cfg(images: Path, pack: Path, record: dict, out: Path, steps: int = 3) -> GenerativeConfig:
    w = record["weights"][0]
    if out != pack:
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(pack / w["file"], out / w["file"])
    return GenerativeConfig(images=str(images), base_weights=str(out / w["file"]), base_sha256=w["sha256"], out=str(out),
                            steps=steps, seed=5, n=8, m=8, lmbda=0.002, crop=64, batch=2, disc_widths=(8, 16),
                            checkpoint_every=1, log_every=1, holdout=("img02",), file_prefix="t-gan-g_s-q1",
                            checkpoints=str(out / "ck"))


def test_same_seed_same_decoder_and_resume_continues_exactly(base_pack: tuple[Path, Path, dict], tmp_path: Path) -> None:
    images, pack, record = base_pack
    a = train_generative(_gen_cfg(images, pack, record, tmp_path / "a"), TaskContext())
    cfg_b = _gen_cfg(images, pack, record, tmp_path / "b")
    with pytest.raises(Cancelled):
        train_generative(cfg_b, cancelled_at_progress_call(3))  # at step 2 of 3, after the step-2 checkpoint
    b = train_generative(cfg_b, TaskContext(), resume=True)
    assert a["decoder_sha256"] == b["decoder_sha256"]
    assert a["result"]["heldout_before"]["psnr"] > 0 and "high_frequency_ratio" in a["result"]["heldout_after"]

    from safetensors.numpy import load_file

    tensors = load_file(str(tmp_path / "a" / a["decoder_file"]))
    assert tensors and all(k.startswith("g_s.") for k in tensors)
    assert {str(v.dtype) for k, v in tensors.items() if v.ndim == 4} == {"float16"}
    assert {str(v.dtype) for k, v in tensors.items() if v.ndim != 4} <= {"float32"}


def test_wrong_base_hash_is_refused(base_pack: tuple[Path, Path, dict], tmp_path: Path) -> None:
    from examiner.errors import ExaminerError

    images, pack, record = base_pack
    cfg = _gen_cfg(images, pack, record, tmp_path / "c")
    cfg.base_sha256 = "0" * 64
    with pytest.raises(ExaminerError, match="does not match"):
        train_generative(cfg, TaskContext())


def test_the_pack_runs_the_generative_codec_with_the_base_bitstream(base_pack: tuple[Path, Path, dict], tmp_path: Path) -> None:
    from examiner.codecs import engine
    from examiner.codecs.packs import load_adapter, read_pack

    images, pack_src, record = base_pack
    pack = tmp_path / "pack"
    shutil.copytree(pack_src, pack)
    gen = train_generative(_gen_cfg(images, pack, record, pack), TaskContext())
    manifest = write_pack_manifest(pack, json.loads((pack / "training.json").read_text()), "test-demo", "test pack")
    read = read_pack(manifest.parent)
    by_id = {c.id: c for c in read.codecs}
    assert set(by_id) == {"test-demo", "test-demo-gan"}
    gan = by_id["test-demo-gan"]
    assert gan.demonstration and "not a published model" in gan.description.lower() + gan.name.lower()
    image = np.asarray(Image.open(images / "img02.png").convert("RGB"))
    adapter = load_adapter(read)
    plain = engine.run(adapter.create(by_id["test-demo"]), image, 1)
    synth = engine.run(adapter.create(gan), image, 1)
    assert synth.bitstream == plain.bitstream  # same encoder and entropy model
    assert gen["decoder_file"] in synth.weights_sha256 and synth.params["decoder_file"] == gen["decoder_file"]
    assert not np.array_equal(synth.pixels, plain.pixels)  # a different decoder

    # A changed decoder file is refused before it is loaded.
    dec = pack / gen["decoder_file"]
    data = bytearray(dec.read_bytes())
    data[-1] ^= 1
    dec.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="does not match"):
        engine.run(adapter.create(gan), image, 1)


def test_a_decoder_file_must_be_a_plain_name_with_a_hash(tmp_path: Path) -> None:
    from examiner.codecs.packs import read_pack

    pack = tmp_path / "p"
    pack.mkdir()
    (pack / "adapter.py").write_text("def create(info):\n    return None\n")
    base = (
        '[pack]\nname = "p"\nadapter = "adapter.py"\n[[codec]]\nid = "x"\nname = "x"\nfamily = "neural"\n'
        'qualities = [1]\n[[codec.weights]]\nquality = 1\nfile = "a.safetensors"\nsha256 = "' + "a" * 64 + '"\n'
    )
    (pack / "codec.toml").write_text(base + 'decoder_file = "../b.safetensors"\ndecoder_sha256 = "' + "b" * 64 + '"\n')
    with pytest.raises(CodecError, match="plain file name"):
        read_pack(pack)
    (pack / "codec.toml").write_text(base + 'decoder_file = "b.safetensors"\n')
    with pytest.raises(CodecError, match="decoder_sha256"):
        read_pack(pack)


def test_cli_adds_the_generative_codec_to_the_pack(base_pack: tuple[Path, Path, dict], tmp_path: Path) -> None:
    import tomllib

    from examiner.cli import main

    images, pack_src, _record = base_pack
    pack = tmp_path / "clipack"
    shutil.copytree(pack_src, pack)
    rc = main(["train-generative", "--images", str(images), "--pack", str(pack), "--steps", "2", "--seed", "1",
               "--checkpoints", str(tmp_path / "ck")])
    assert rc == 0
    manifest = tomllib.loads((pack / "codec.toml").read_text(encoding="utf-8"))
    ids = [c["id"] for c in manifest["codec"]]
    assert ids == ["test-demo", "test-demo-gan"]
    gan = manifest["codec"][1]
    record = json.loads((pack / "generative_training.json").read_text(encoding="utf-8"))
    assert gan["weights"][0]["decoder_sha256"] == record["decoder_sha256"] and gan["demonstration"] is True
