"""CompressAI models: offline weight import, safe loading, real entropy coding."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from codec_helpers import photo_like, save_state_dict, tiny_hyperprior

from examiner.codecs import engine, registry, weights
from examiner.codecs.api import RunOptions
from examiner.codecs.compressai_models import CompressAICodec, pack_bitstream, unpack_bitstream
from examiner.errors import CodecError, WeightsError

CODEC = "bmshj2018-hyperprior-mse"
STEM = "bmshj2018-hyperprior-3"  # the official file's stem for quality 3


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    path = save_state_dict(tiny_hyperprior(), tmp_path, STEM)
    weights.import_weights([path], registry.codec_infos())
    return path


def test_official_style_name_imports_and_runs(imported: Path) -> None:
    assert weights.installed_qualities(registry.get_info(CODEC)[0]) == [3]
    img = photo_like(100, 150, seed=3)
    rec = engine.run(CODEC, img, 3, RunOptions(device="cpu"))
    assert rec.pixels.shape == img.shape and rec.pixels.dtype == np.uint8
    assert rec.bitstream is not None
    assert rec.bpp == pytest.approx(8 * len(rec.bitstream) / (100 * 150))
    digest = weights.sha256_file(imported)
    assert rec.weights_sha256 == {imported.name: digest}
    assert rec.params["weights_official"] is False
    assert any("not the published file" in n for n in rec.notes)
    # Centred zero padding to a multiple of 64: 150 -> 192 (21 + 21), 100 -> 128 (14 + 14).
    assert rec.params["padding"]["left_right_top_bottom"] == [21, 21, 14, 14]
    assert {"compressai", "torch"} <= set(rec.versions)
    assert rec.device == "cpu" and rec.tiled is False


def test_bitstream_round_trip_reproduces_the_reference_pipeline(imported: Path) -> None:
    """The examiner's output equals compress/decompress called directly on the same model."""
    import torch.nn.functional as F
    from compressai.ops import compute_padding

    img = photo_like(70, 90, seed=4)
    rec = engine.run(CODEC, img, 3, RunOptions(device="cpu"))
    state, _ = weights.load_verified(imported, expected_prefix=imported.name.split("-")[-1][:8])
    from compressai.models import ScaleHyperprior

    model = ScaleHyperprior.from_state_dict(state).eval()
    x = torch.from_numpy(img).permute(2, 0, 1).unsqueeze(0).float() / 255
    pad, unpad = compute_padding(70, 90, min_div=64)
    with torch.no_grad():
        enc = model.compress(F.pad(x, pad))
        dec = model.decompress(enc["strings"], enc["shape"])
    ref = (F.pad(dec["x_hat"], unpad).clamp(0, 1) * 255).round().byte()[0].permute(1, 2, 0).numpy()
    assert np.array_equal(ref, rec.pixels)
    strings, shape, h, w = unpack_bitstream(rec.bitstream or b"")
    assert (h, w) == (70, 90) and strings == enc["strings"] and list(shape) == list(enc["shape"])
    assert pack_bitstream(strings, shape, h, w) == rec.bitstream


def test_mismatched_hash_prefix_is_refused(tmp_path: Path) -> None:
    bad = save_state_dict(tiny_hyperprior(), tmp_path, STEM, tamper_prefix=True)
    with pytest.raises(WeightsError, match="refused: its SHA-256 starts with"):
        weights.import_weights([bad])
    assert not weights.store_dir().exists() or not any(weights.store_dir().glob("*.pth.tar"))


def test_file_without_hash_in_name_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "my-model.pth"
    torch.save(tiny_hyperprior().state_dict(), p)  # type: ignore[attr-defined]
    with pytest.raises(WeightsError, match="must be named"):
        weights.import_weights([p])


class _Payload:
    def __reduce__(self):  # noqa: ANN204 - the shape pickle expects
        return (Path.touch, (Path(_Payload.marker),))


def test_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    _Payload.marker = str(marker)  # type: ignore[attr-defined]
    data = pickle.dumps({"weight": _Payload()})
    import hashlib

    evil = tmp_path / f"{STEM}-{hashlib.sha256(data).hexdigest()[:8]}.pth.tar"
    evil.write_bytes(data)
    with pytest.raises(WeightsError, match="refused"):
        weights.import_weights([evil])
    assert not marker.exists()
    # The same file passed directly with --weights is refused the same way at load.
    with pytest.raises(WeightsError, match="refused"):
        engine.run(CODEC, photo_like(64, 64), 3, RunOptions(device="cpu", weights=str(evil)))
    assert not marker.exists()


def test_file_changed_after_import_is_refused(imported: Path) -> None:
    stored = weights.store_dir() / imported.name
    data = bytearray(stored.read_bytes())
    data[-10] ^= 0xFF
    stored.write_bytes(bytes(data))
    registry.clear_cache()
    with pytest.raises(WeightsError, match="does not match the recorded"):
        engine.run(CODEC, photo_like(64, 64), 3, RunOptions(device="cpu"))


def test_explicit_weights_and_safetensors(tmp_path: Path) -> None:
    from safetensors.torch import save

    model = tiny_hyperprior(seed=5)
    data = save({k: v.contiguous() for k, v in model.state_dict().items()})  # type: ignore[attr-defined]
    import hashlib

    p = tmp_path / f"{STEM}-{hashlib.sha256(data).hexdigest()[:8]}.safetensors"
    p.write_bytes(data)
    rec = engine.run(CODEC, photo_like(64, 80), 3, RunOptions(device="cpu", weights=str(p)))
    assert rec.params["weights_origin"] == "explicit" and rec.weights_sha256[p.name] == hashlib.sha256(data).hexdigest()


def test_missing_weights_give_a_clear_message() -> None:
    with pytest.raises(CodecError, match="cannot run here: no weight files installed"):
        engine.run("cheng2020-anchor-mse", photo_like(64, 64), 1)


def test_autoregressive_model_uses_compress_not_forward(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from compressai.models import JointAutoregressiveHierarchicalPriors

    torch.manual_seed(0)
    model = JointAutoregressiveHierarchicalPriors(16, 24)
    model.update(force=True)
    path = save_state_dict(model, tmp_path, "mbt2018-2")
    weights.import_weights([path])

    def no_forward(self, x):  # noqa: ANN001, ANN202
        raise AssertionError("forward() must not be used as the codec")

    monkeypatch.setattr(JointAutoregressiveHierarchicalPriors, "forward", no_forward)
    rec = engine.run("mbt2018-mse", photo_like(64, 64, seed=6), 2, RunOptions(device="cpu"))
    assert rec.params["entropy_coding"].startswith("compress/decompress")
    assert rec.pixels.shape == (64, 64, 3) and rec.bpp and rec.bpp > 0


def test_training_checkpoint_without_cdf_tables_is_updated_at_load(tmp_path: Path) -> None:
    from compressai.models import ScaleHyperprior

    torch.manual_seed(1)
    model = ScaleHyperprior(16, 24)  # never updated: empty CDF buffers, as after training
    path = save_state_dict(model, tmp_path, STEM)
    rec = engine.run(CODEC, photo_like(64, 64), 3, RunOptions(device="cpu", weights=str(path)))
    assert any("update(force=True)" in n for n in rec.notes)


def test_weights_of_another_architecture_are_refused(tmp_path: Path) -> None:
    from compressai.models import FactorizedPrior

    path = save_state_dict(FactorizedPrior(16, 24), tmp_path, STEM)
    with pytest.raises(WeightsError, match="do not fit the bmshj2018-hyperprior architecture"):
        engine.run(CODEC, photo_like(64, 64), 3, RunOptions(device="cpu", weights=str(path)))


def test_pack_with_bundled_weights_names_the_compressai_runner(tmp_path: Path) -> None:
    """A third-party pack shipping its own hyperprior model needs only a manifest and weights."""
    from examiner.core.settings import user_codec_dir

    pack = user_codec_dir() / "packs" / "lab-model"
    pack.mkdir(parents=True)
    w = save_state_dict(tiny_hyperprior(seed=7), tmp_path, "lab-hyperprior-1")
    shutil.copy(w, pack / w.name)
    (pack / "codec.toml").write_text(
        f"""[pack]\nname = "Lab model"\nmanifest_version = 1\nrunner = "compressai"\n
[[codec]]\nid = "lab-hyperprior"\nname = "Lab hyperprior"\nfamily = "neural"\nqualities = [1]
demonstration = true\n[codec.compressai]\narchitecture = "bmshj2018-hyperprior"\n
[[codec.weights]]\nquality = 1\nfile = "{w.name}"\nsha256 = "{weights.sha256_file(w)}"\n"""
    )
    rec = engine.run("lab-hyperprior", photo_like(64, 64), 1, RunOptions(device="cpu"))
    assert rec.params["weights_origin"] == "bundled" and rec.params["weights_official"] is True
    codec = registry.get_codec("lab-hyperprior")
    assert isinstance(codec, CompressAICodec) and codec.info.demonstration


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_path(imported: Path) -> None:
    img = photo_like(128, 192, seed=8)
    rec = engine.run(CODEC, img, 3, RunOptions(device="cuda"))
    assert rec.device == "cuda" and rec.params["cudnn_deterministic"] is True
    assert torch.backends.cudnn.deterministic
    again = engine.run(CODEC, img, 3, RunOptions(device="auto"))
    assert again.device == "cuda"
    cpu = engine.run(CODEC, img, 3, RunOptions(device="cpu"))
    assert cpu.device == "cpu" and engine.psnr(cpu.pixels, rec.pixels) > 30


def test_tiled_neural_run_equals_independent_tile_runs(imported: Path) -> None:
    img = photo_like(130, 190, seed=12)
    opts = RunOptions(device="cpu", tile_budget_pixels=12_000, tile_overlap=12)
    rec = engine.run(CODEC, img, 3, opts)
    assert rec.tiled and rec.tiles is not None and rec.tiles["count"] > 1
    header, streams = engine.unpack_tiles(rec.bitstream or b"")
    for (y0, y1, x0, x1, cy0, cy1, cx0, cx1), stream in zip(rec.tiles["tiles"], streams, strict=True):
        alone = engine.run(CODEC, np.ascontiguousarray(img[y0:y1, x0:x1]), 3, RunOptions(device="cpu"))
        assert alone.bitstream == stream
        assert np.array_equal(rec.pixels[cy0:cy1, cx0:cx1], alone.pixels[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0])
    untiled = engine.run(CODEC, img, 3, RunOptions(device="cpu", tile_budget_pixels=10**8))
    assert not untiled.tiled and untiled.bpp is not None and rec.bpp is not None
