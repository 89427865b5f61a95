"""The codec training command: deterministic for a seed, resumable, with clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from codec_helpers import cancelled_at_progress_call
from PIL import Image

from examiner.core.tasks import TaskContext
from examiner.errors import Cancelled, ExaminerError
from examiner.training.codec_pack import write_pack_manifest
from examiner.training.codec_training import TrainConfig, train, weight_file_name


def _images(folder: Path, n: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        base = rng.integers(0, 255, (8, 8, 3)).astype(np.uint8)
        img = np.kron(base, np.ones((12, 12, 1), dtype=np.uint8))  # blocky 96x96 images
        Image.fromarray(img).save(folder / f"img{i:02d}.png")
    return folder


def _cfg(tmp: Path, images: Path, name: str) -> TrainConfig:
    return TrainConfig(
        images=str(images),
        out=str(tmp / name / "pack"),
        lambdas=(0.002, 0.02),
        steps=3,
        base_steps=2,
        base_lambda=0.01,
        seed=7,
        n=8,
        m=8,
        crop=64,
        batch=2,
        checkpoint_every=1,
        log_every=1,
        holdout=("img02",),
        checkpoints=str(tmp / name / "ck"),
    )


def _weights(cfg: TrainConfig, quality: int) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    (path,) = Path(cfg.out).glob(weight_file_name(cfg, quality).replace(".safetensors", "-*.safetensors"))
    return load_file(str(path))


def test_same_seed_same_weights_and_resume_continues_exactly(tmp_path: Path) -> None:
    images = _images(tmp_path / "imgs")
    a = _cfg(tmp_path, images, "a")
    record = train(a, TaskContext())
    assert [s["stage"] for s in record["stages"]] == ["base", "q1", "q2"]
    assert record["train_images"] == ["img00.png", "img01.png"]
    assert record["heldout_images"] == ["img02.png"]

    # Interrupted in the middle of the first fine-tune stage, then resumed.
    b = _cfg(tmp_path, images, "b")
    with pytest.raises(Cancelled):
        train(b, cancelled_at_progress_call(4))  # base has 2 steps: this is q1's second step
    assert (Path(b.checkpoints) / "q1.pt").exists()
    train(b, TaskContext(), resume=True)
    for q in (1, 2):
        wa, wb = _weights(a, q), _weights(b, q)
        assert wa.keys() == wb.keys()
        for k in wa:
            np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)
    # And the two rates are really different models.
    w1, w2 = _weights(a, 1), _weights(a, 2)
    assert any(not np.array_equal(w1[k], w2[k]) for k in w1)

    # A finished run re-exports missing weight files from its final checkpoints, bit for bit.
    (lost,) = Path(a.out).glob("*-q2-*.safetensors")
    lost.unlink()
    again = train(a, TaskContext(), resume=True)
    assert again["weights"] == record["weights"]

    # The trained weights become a pack the codec engine runs, hash-checked, with real bytes.
    from examiner.codecs import engine
    from examiner.codecs.packs import load_adapter, read_pack

    manifest = write_pack_manifest(Path(a.out), record, "test-demo", "test pack")
    pack = read_pack(manifest.parent)
    (info,) = pack.codecs
    assert info.demonstration and "DEMO" in info.name and "not a published model" in info.description
    assert [w["sha256"] for w in info.extra["weights"]] == [w["sha256"] for w in record["weights"]]
    codec = load_adapter(pack).create(info)
    image = np.asarray(Image.open(images / "img02.png").convert("RGB"))
    rec = engine.run(codec, image, 1)
    assert rec.bitstream is not None and rec.bpp == 8 * len(rec.bitstream) / (96 * 96)
    assert rec.pixels.shape == image.shape


def test_resume_refuses_other_settings(tmp_path: Path) -> None:
    images = _images(tmp_path / "imgs")
    cfg = _cfg(tmp_path, images, "c")
    cfg.steps = 1
    cfg.base_steps = 0
    train(cfg, TaskContext())
    cfg.seed = 8
    with pytest.raises(ExaminerError, match="other settings"):
        train(cfg, TaskContext(), resume=True)


def test_missing_or_too_small_images_are_clear_errors(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, tmp_path / "nowhere", "d")
    with pytest.raises(ExaminerError, match="not a folder"):
        train(cfg, TaskContext())
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(tiny / "x.png")
    cfg = _cfg(tmp_path, tiny, "e")
    with pytest.raises(ExaminerError, match="at least 64x64"):
        train(cfg, TaskContext())


def test_cli_rejects_bad_lambdas(capsys: pytest.CaptureFixture[str]) -> None:
    from examiner.cli import main

    with pytest.raises(SystemExit):
        main(["train-codec", "--images", ".", "--out", "x", "--lambdas", "a,b", "--steps", "1"])
    assert "comma-separated" in capsys.readouterr().err


def test_run_shortened_on_resume_equals_a_fresh_run_of_the_final_command(tmp_path: Path) -> None:
    images = _images(tmp_path / "imgs")
    long = _cfg(tmp_path, images, "long")
    long.lambdas, long.base_steps, long.steps = (0.002,), 4, 2
    with pytest.raises(Cancelled):
        train(long, cancelled_at_progress_call(3))  # base step 2 of 4, after the step-2 checkpoint
    # Shortened: the base stage stops at 3 steps on the 4-step schedule, one fine-tune step.
    long.base_steps, long.base_schedule_steps, long.steps = 3, 4, 1
    resumed = train(long, TaskContext(), resume=True)
    assert resumed["schedule_changes_on_resume"][0]["to"]["base_steps"] == 3

    fresh = _cfg(tmp_path, images, "fresh")
    fresh.lambdas, fresh.base_steps, fresh.base_schedule_steps, fresh.steps = (0.002,), 3, 4, 1
    record = train(fresh, TaskContext())
    assert record["weights"][0]["sha256"] == resumed["weights"][0]["sha256"]

    long.base_schedule_steps = 5
    with pytest.raises(ExaminerError, match="schedule cannot change"):
        train(long, TaskContext(), resume=True)


def test_zero_steps_ship_the_base_weights_only_for_the_base_lambda(tmp_path: Path) -> None:
    images = _images(tmp_path / "imgs")
    cfg = _cfg(tmp_path, images, "zero")
    cfg.steps, cfg.base_steps = (1, 0), 1
    cfg.base_lambda = 0.02
    record = train(cfg, TaskContext())
    q2 = next(s for s in record["stages"] if s["stage"] == "q2")
    assert q2["steps"] == 0 and q2["final_loss"] is None
    import torch

    base = torch.load(Path(cfg.checkpoints) / "base.final.pt", weights_only=True)["model"]
    w2 = _weights(cfg, 2)
    for k, v in base.items():
        np.testing.assert_array_equal(v.numpy(), w2[k], err_msg=k)

    cfg.steps = (0, 1)
    with pytest.raises(ExaminerError, match="only for the base lambda"):
        train(cfg, TaskContext())


def test_changing_one_lambda_on_resume_retrains_only_that_stage_as_a_fresh_run_would(tmp_path: Path) -> None:
    images = _images(tmp_path / "imgs")
    first = _cfg(tmp_path, images, "relambda")
    before = train(first, TaskContext())
    q1_before = next(w for w in before["weights"] if w["quality"] == 1)["sha256"]
    logs: list[str] = []
    first.lambdas, first.steps = (0.002, 0.05), (3, 4)
    after = train(first, TaskContext(), resume=True, log=logs.append)
    assert any("q2: finished with lambda 0.02, now 0.05: trained again" in m for m in logs)
    assert not any(m.startswith("base step") for m in logs)  # the base stage was kept
    assert next(w for w in after["weights"] if w["quality"] == 1)["sha256"] == q1_before
    assert after["schedule_changes_on_resume"][-1]["to"]["lambdas"] == [0.002, 0.05]
    assert len(list(Path(first.out).glob("*-q2-*.safetensors"))) == 1  # the old q2 file went

    fresh = _cfg(tmp_path, images, "relambda-fresh")
    fresh.lambdas, fresh.steps = (0.002, 0.05), (3, 4)
    record = train(fresh, TaskContext())
    assert [w["sha256"] for w in record["weights"]] == [w["sha256"] for w in after["weights"]]
