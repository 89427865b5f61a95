"""HiFiC against the reference data of the public PyTorch port (reduced checkpoints)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from examiner.codecs.api import CodecFamily, CodecInfo, RunOptions
from examiner.codecs.generative import HificCodec
from examiner.codecs.hific.engine import HificEngine, plan_for
from examiner.codecs.hific.model import HificConfig, build_model, decoder_state
from examiner.codecs.neural_io import save_image_uint8, to_unit_tensor
from examiner.core.tasks import TaskContext
from examiner.errors import CodecError, WeightsError
from tests.conformance_data import conformance_dir

pytestmark = pytest.mark.conformance
CONFIGS = ("gauss_norm", "logistic_nonorm")
CROPS = ("kodim23_crop128x128_t160_l80", "kodim23_crop90x150_t124_l424")
TOL = 1e-4


@pytest.fixture(scope="module")
def engines() -> dict[str, HificEngine]:
    torch.set_num_threads(2)
    return {c: HificEngine.from_file(conformance_dir("hific", f"hific_reduced_{c}.pt"))[0] for c in CONFIGS}


def _input(crop: str) -> np.ndarray:
    return np.array(Image.open(conformance_dir("hific", "inputs", f"{crop}.png")).convert("RGB"))


def _data(cfg: str, crop: str) -> np.lib.npyio.NpzFile:
    return np.load(conformance_dir("hific", f"reduced_{cfg}_{crop}.npz"))


def test_full_official_configuration_has_the_published_keys_and_shapes() -> None:
    spec = json.loads(conformance_dir("hific", "hific_full_config_keys.json").read_text())
    for name in ("official_low", "official_med"):
        cfg = spec["configs"][name]
        ckpt = {k: torch.empty(s, device="meta") for k, s, _ in cfg["checkpoint_model_state_dict"]}
        model = build_model(HificConfig.from_checkpoint(ckpt, cfg["args"]), None, device="meta")
        mine = {k: list(v.shape) for k, v in model.state_dict().items()}
        ignored = set(cfg["keys_in_checkpoint_not_used_by_eval_model"])
        built_at_load = set(cfg["keys_of_eval_model_missing_from_checkpoint"])
        expected = {k: s for k, s, _ in cfg["checkpoint_model_state_dict"] if k not in ignored}
        assert mine == expected
        assert set(mine) == {k for k, _, _ in cfg["evaluation_model_state_dict"]} - built_at_load
        assert set(decoder_state(ckpt)) == set(mine)
        n = sum(p.numel() for p in model.parameters())
        assert 180e6 < n < 182e6  # ~181 M; the discriminator adds the rest of 184 M
        assert model.config.normalize_input_image == cfg["args"]["normalize_input_image"]


def test_per_layer_activations(engines: dict[str, HificEngine]) -> None:
    layers = np.load(conformance_dir("hific", "reduced_gauss_norm_kodim23_crop128x128_t160_l80_layers.npz"))
    d = _data("gauss_norm", CROPS[0])
    m = engines["gauss_norm"].model
    with torch.no_grad():
        h = torch.from_numpy(d["input_image"])
        for name in ("conv_block1", "conv_block2", "conv_block3", "conv_block4", "conv_block5", "conv_block_out"):
            h = getattr(m.Encoder, name)(h)
            np.testing.assert_allclose(h.numpy(), layers[f"Encoder.{name}.out"], atol=TOL)
        g = m.Generator
        head = g.conv_block_init(torch.from_numpy(d["y_hat"]))
        np.testing.assert_allclose(head.numpy(), layers["Generator.conv_block_init.out"], atol=TOL)
        x = g.resblock_1(g.resblock_0(head))
        np.testing.assert_allclose(x.numpy(), layers["Generator.resblock_1.out"], atol=TOL)
        x = x + head
        for i in range(1, 5):
            x = getattr(g, f"upconv_block{i}")(x)
            np.testing.assert_allclose(x.numpy(), layers[f"Generator.upconv_block{i}.out"], atol=TOL)


@pytest.mark.parametrize("cfg", CONFIGS)
@pytest.mark.parametrize("crop", CROPS)
def test_latents_decoder_and_reference_coder(engines: dict[str, HificEngine], cfg: str, crop: str) -> None:
    eng, d = engines[cfg], _data(cfg, crop)
    x01, _ = to_unit_tensor(_input(crop))
    lat = eng.analyse(x01, keep=True)
    h, w = lat.height, lat.width
    np.testing.assert_array_equal(lat.extras["input"][..., :h, :w].numpy(), d["input_image"])
    np.testing.assert_allclose(lat.extras["y"].numpy(), d["enc_y"], atol=TOL)
    np.testing.assert_allclose(lat.extras["y_padded"].numpy(), d["enc_y_padded"], atol=TOL)
    np.testing.assert_allclose(lat.extras["z"].numpy(), d["z"], atol=TOL)
    np.testing.assert_array_equal(lat.z_symbols[None].astype(np.float32), d["z_hat"])  # exact
    np.testing.assert_allclose(lat.mu.numpy(), d["mu"], atol=TOL)
    np.testing.assert_allclose(lat.sigma.numpy(), d["sigma"], atol=TOL)
    np.testing.assert_array_equal(lat.y_hat().numpy(), d["rc_y_hat"])  # intended values, exact

    # Real bitstream: decodes to the same symbols; bpp is from its bytes.
    bits = eng.encode_bitstream(lat)
    back = eng.decode_bitstream(bits)
    np.testing.assert_array_equal(back.y_symbols, lat.y_symbols)
    np.testing.assert_array_equal(back.z_symbols, lat.z_symbols)
    with pytest.raises(CodecError):
        eng.decode_bitstream(bits[:-9])

    # The port's coder defect: emulating it gives the port's decoded y_hat (path A) exactly.
    ref = eng.reference_symbols(back)
    np.testing.assert_array_equal(back.y_hat(ref).numpy(), d["y_hat"])
    assert (ref != back.y_symbols).any() == (not np.array_equal(d["y_hat"], d["rc_y_hat"]))

    with torch.no_grad():
        raw = eng.model.Generator(torch.from_numpy(d["y_hat"]))
    np.testing.assert_allclose(raw.numpy(), d["generator_out_raw"], atol=TOL)
    x_b = eng.synthesise(back.y_hat(), h, w)
    np.testing.assert_allclose(x_b.numpy(), d["rc_x_hat"], atol=TOL)
    x_a = eng.synthesise(back.y_hat(ref), h, w)
    np.testing.assert_allclose(x_a.numpy(), d["x_hat"], atol=TOL)
    png = np.array(Image.open(conformance_dir("hific", f"reduced_{cfg}_{crop}_RECON.png")))
    diff = np.abs(save_image_uint8(x_a, normalize=True).astype(int) - png)
    assert diff.max() <= 1 and (diff > 0).sum() <= 4


def _codec() -> HificCodec:
    return HificCodec(CodecInfo("hific", "HiFiC", CodecFamily.NEURAL, (1, 2, 3)))


@pytest.mark.parametrize("cfg", CONFIGS)
@pytest.mark.parametrize("crop", CROPS)
def test_adapter_reproduces_reference_png(cfg: str, crop: str) -> None:
    ckpt = conformance_dir("hific", f"hific_reduced_{cfg}.pt")
    d = _data(cfg, crop)
    png = np.array(Image.open(conformance_dir("hific", f"reduced_{cfg}_{crop}_RECON.png")))
    codec = _codec()
    emulated = codec.run(_input(crop), 1, RunOptions(device="cpu", weights=str(ckpt), params={"symbols": "reference"}),
                         TaskContext())
    diff = np.abs(emulated.pixels.astype(int) - png)
    assert diff.max() <= 1 and (diff > 0).sum() <= 4
    intended = codec.run(_input(crop), 1, RunOptions(device="cpu", weights=str(ckpt)), TaskContext())
    expected = save_image_uint8(torch.from_numpy(d["rc_x_hat"]), normalize=True)
    diff = np.abs(intended.pixels.astype(int) - expected)
    assert diff.max() <= 1 and (diff > 0).sum() <= 4
    assert intended.bpp == pytest.approx(8 * len(intended.bitstream) / (d["input_image"].shape[2] * d["input_image"].shape[3]))
    n_wrong = intended.params["reference_coder_misdecodes"]
    assert n_wrong == int((d["y_hat"] != d["rc_y_hat"]).sum())
    assert any("entropy coder" in n for n in intended.notes)
    assert intended.weights_sha256[ckpt.name] == json.loads(
        conformance_dir("hific", "hific_meta.json").read_text())["runs"][f"reduced_{cfg}"]["ckpt_sha256"]


def test_tiled_decoding_is_exact(engines: dict[str, HificEngine]) -> None:
    eng = engines["gauss_norm"]
    x01, _ = to_unit_tensor(_input(CROPS[1]))
    whole = eng.analyse(x01)
    enc_plan, gen_plan = plan_for(whole.height, whole.width, 64 * 64)
    assert len(enc_plan.boxes) > 1 and len(gen_plan.boxes) > 1
    tiled = eng.analyse(x01, tiles=enc_plan)
    np.testing.assert_array_equal(tiled.y_symbols, whole.y_symbols)
    a = eng.synthesise(whole.y_hat(), whole.height, whole.width)
    b = eng.synthesise(whole.y_hat(), whole.height, whole.width, tiles=gen_plan)
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


class _RunsCode:
    def __reduce__(self):  # noqa: ANN204 - a pickle that would call a function when loaded
        return (print, ("this must never run",))


def test_checkpoint_that_would_unpickle_code_is_refused(tmp_path) -> None:  # noqa: ANN001
    bad = tmp_path / "evil.pt"
    torch.save({"model_state_dict": {}, "args": _RunsCode()}, bad)
    with pytest.raises(WeightsError, match="refused"):
        HificEngine.from_file(bad)
    with pytest.raises(WeightsError, match="refused"):
        _codec().run(np.zeros((32, 32, 3), np.uint8), 1, RunOptions(device="cpu", weights=str(bad)), TaskContext())


def test_not_a_hific_checkpoint(tmp_path) -> None:  # noqa: ANN001
    other = tmp_path / "other.pt"
    torch.save({"model_state_dict": {"w": torch.zeros(2)}, "args": {}}, other)
    with pytest.raises(WeightsError, match="not a HiFiC checkpoint"):
        HificEngine.from_file(other)


def test_too_small_image_is_a_clear_error(engines: dict[str, HificEngine]) -> None:
    with pytest.raises(CodecError, match="at least 113 pixels"):
        engines["gauss_norm"].analyse(torch.rand(1, 3, 64, 200))


def test_import_by_published_name_then_run_from_the_store(tmp_path) -> None:  # noqa: ANN001
    import shutil

    from examiner.codecs.registry import codec_infos, get_codec, list_codecs
    from examiner.codecs.weights import import_weights

    src = tmp_path / "hific_low.pt"
    shutil.copyfile(conformance_dir("hific", "hific_reduced_gauss_norm.pt"), src)
    (result,) = import_weights([src], codec_infos())
    assert result.used_by == ("hific@1",)
    entry = next(e for e in list_codecs()[0] if e.info.id == "hific")
    assert entry.available and entry.weights_installed == (1,)
    codec = get_codec("hific")
    assert codec.available()[0]
    rec = codec.run(_input(CROPS[0]), 1, RunOptions(device="cpu"), TaskContext())
    assert rec.weights_sha256 == {"hific_low.pt": result.sha256}
    assert rec.params["weights_origin"] == "store"

    evil = tmp_path / "evil" / "hific_med.pt"
    evil.parent.mkdir()
    torch.save({"model_state_dict": {}, "args": _RunsCode()}, evil)
    with pytest.raises(WeightsError, match="refused"):
        import_weights([evil], codec_infos())


def test_constant_symbols_still_code(engines: dict[str, HificEngine]) -> None:
    eng = engines["gauss_norm"]
    lat = eng.analyse(to_unit_tensor(_input(CROPS[0]))[0])
    lat.z_symbols[:] = 0
    lat.y_symbols[:] = 3
    back = eng.decode_bitstream(eng.encode_bitstream(lat))
    np.testing.assert_array_equal(back.z_symbols, lat.z_symbols)


def test_recompress_cli_runs_a_given_checkpoint(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    # The command shape: a checkpoint file given directly, no --quality.
    from examiner.cli import main

    ckpt = conformance_dir("hific", "hific_reduced_gauss_norm.pt")
    crop = CROPS[0]
    src = conformance_dir("hific", "inputs", f"{crop}.png")
    out = tmp_path / "out.png"
    argv = ["recompress", str(src), "--codec", "hific", "--weights", str(ckpt), "--out", str(out),
            "--device", "cpu", "--param", "symbols=reference", "--json"]
    assert main(argv) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["codec"] == "hific" and res["bpp"] > 0
    png = np.array(Image.open(conformance_dir("hific", f"reduced_gauss_norm_{crop}_RECON.png")))
    diff = np.abs(np.array(Image.open(out)).astype(int) - png)
    assert diff.max() <= 1 and (diff > 0).sum() <= 4
