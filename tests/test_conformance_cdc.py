"""CDC (x- and epsilon-parameterisation) against the reference data of the official code."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from examiner.codecs.api import CodecFamily, CodecInfo, RunOptions
from examiner.codecs.cdc.engine import CdcEngine, initial_noise, schedule
from examiner.codecs.cdc.model import build_model, select_state
from examiner.codecs.generative import CdcCodec
from examiner.codecs.neural_io import save_image_uint8, to_unit_tensor
from examiner.core.tasks import TaskContext
from examiner.errors import CodecError, WeightsError
from tests.conformance_data import conformance_dir

pytestmark = pytest.mark.conformance
VARIANTS = {"x": ("xparam", 65), "eps": ("epsilonparam", 200)}
CROPS = ("kodim23_crop128x128_t160_l80", "kodim23_crop128x192_t104_l400")
TOL = 1e-4


@pytest.fixture(scope="module")
def engines() -> dict[str, CdcEngine]:
    torch.set_num_threads(2)
    return {v: CdcEngine.from_file(conformance_dir("cdc", f"cdc_{name}_reduced.pt"), v)[0] for v, (name, _) in VARIANTS.items()}


def _input(crop: str) -> np.ndarray:
    return np.array(Image.open(conformance_dir("cdc", "inputs", f"{crop}.png")).convert("RGB"))


def _data(variant: str, crop: str) -> np.lib.npyio.NpzFile:
    return np.load(conformance_dir("cdc", f"{VARIANTS[variant][0]}_reduced_{crop}.npz"))


def _close(variant: str, actual: np.ndarray, expected: np.ndarray) -> None:
    if variant == "x":
        np.testing.assert_allclose(actual, expected, atol=TOL)
    else:  # the untrained epsilon-predictor diverges: compare relative to the largest value
        assert np.abs(actual - expected).max() <= 1e-5 * max(1.0, float(np.abs(expected).max()))


@pytest.mark.parametrize("name", ["xparam", "epsilonparam"])
def test_full_official_configuration_has_the_published_keys_and_shapes(name: str) -> None:
    spec = json.loads(conformance_dir("cdc", f"cdc_{name}_full_config_keys.json").read_text())
    for cfg in spec["configs"].values():
        listed = [(k, s) for k, s, _ in cfg["model_state_dict"]]
        shapes = {k: torch.empty(s, device="meta") for k, s in listed}
        model = build_model(select_state({"model": shapes}, "model"), device="meta", load=False)
        mine = {k: list(v.shape) for k, v in model.state_dict().items()}
        assert mine == {k: s for k, s in listed if not k.startswith("loss_fn_vgg.")}
        assert 53e6 < sum(p.numel() for p in model.parameters()) < 54.5e6
        if "ema_state_dict" in cfg:
            ema = {k: torch.empty(s, device="meta") for k, s, _ in cfg["ema_state_dict"] if k.startswith("ema_model.")}
            assert set(select_state({"ema": ema}, "ema")) == set(mine)


@pytest.mark.parametrize("variant", ["x", "eps"])
@pytest.mark.parametrize("crop", CROPS)
def test_latents_context_and_bitstream(engines: dict[str, CdcEngine], variant: str, crop: str) -> None:
    eng, d = engines[variant], _data(variant, crop)
    lat = eng.analyse(to_unit_tensor(_input(crop))[0], keep=True)
    np.testing.assert_array_equal(lat.extras["input"].numpy(), d["input_image"])
    np.testing.assert_allclose(lat.extras["y"].numpy(), d["y"], atol=TOL)
    np.testing.assert_allclose(lat.extras["z"].numpy(), d["z"], atol=TOL)
    med = eng.model.context_fn.prior.medians
    np.testing.assert_array_equal((torch.from_numpy(lat.z_symbols[None].astype(np.float32)) + med).numpy(), d["z_hat"])
    np.testing.assert_allclose(lat.mean.numpy(), d["latent_mean"], atol=TOL)
    np.testing.assert_allclose(lat.scale.numpy(), d["latent_scale"], atol=TOL)
    # The symbols (what the bitstream carries) are exact; y_hat = symbols + mean carries the mean's
    # float error, which differs by a few 1e-7 between CPUs (vector units, summation order).
    symbols = np.rint(d["y_hat"] - d["latent_mean"])
    np.testing.assert_array_equal(lat.y_symbols.reshape(symbols.shape), symbols)
    np.testing.assert_allclose(lat.y_hat().numpy(), d["y_hat"], atol=TOL)
    bits = eng.encode_bitstream(lat)
    back = eng.decode_bitstream(bits)
    np.testing.assert_array_equal(back.y_symbols, lat.y_symbols)
    np.testing.assert_allclose(back.y_hat().numpy(), d["y_hat"], atol=TOL)
    meta = json.loads(conformance_dir("cdc", "cdc_meta.json").read_text())
    reported = meta["runs"][VARIANTS[variant][0]]["results"][crop]["bpp"]
    assert eng.theoretical_bits(lat) / (lat.height * lat.width) == pytest.approx(reported, rel=1e-4)
    if crop == CROPS[0]:
        for i, c in enumerate(eng.context(torch.from_numpy(d["y_hat"]))):
            np.testing.assert_allclose(c.numpy(), d[f"context_{i}"], atol=TOL)
    np.testing.assert_array_equal(initial_noise(tuple(d["init_noise"].shape), 2024).numpy(), d["init_noise"])


@pytest.mark.parametrize("variant", ["x", "eps"])
def test_every_step_of_the_stored_four_step_run(engines: dict[str, CdcEngine], variant: str) -> None:
    eng, d = engines[variant], _data(variant, CROPS[0])
    index, acp, acp_prev = schedule(eng.model.alphas_cumprod, 4)
    np.testing.assert_array_equal(acp.numpy(), d["steps4_sched_alphas_cumprod"])
    np.testing.assert_array_equal(acp_prev.numpy(), d["steps4_sched_alphas_cumprod_prev"])
    if variant == "x":
        np.testing.assert_array_equal(index.numpy(), d["steps4_sched_index"].ravel())
    trace: list[dict[str, torch.Tensor]] = []
    ctx = eng.context(torch.from_numpy(d["y_hat"]))
    raw = eng.sample(ctx, torch.from_numpy(d["init_noise"]), 4, trace=trace)
    assert len(trace) == 4
    for s, step in enumerate(trace):
        np.testing.assert_array_equal(step["time"].numpy().reshape(1, 1), d["steps4_time_input"][s])
        _close(variant, step["x_in"].numpy(), d["steps4_denoiser_x_in"][s])
        _close(variant, step["out"].numpy(), d["steps4_denoiser_out"][s])
    _close(variant, raw.numpy(), d["steps4_x_hat_raw"])
    x_hat = eng.postprocess(raw, 128, 128)
    # The epsilon-predictor's raw output is large, so its error carries into x_hat at that scale.
    scale = 1.0 if variant == "x" else max(1.0, float(np.abs(d["steps4_x_hat_raw"]).max()))
    np.testing.assert_allclose(x_hat.numpy(), d["steps4_x_hat"], atol=max(TOL, 1e-5 * scale))
    png = np.array(Image.open(conformance_dir("cdc", f"{VARIANTS[variant][0]}_reduced_{CROPS[0]}_steps4_RECON.png")))
    diff = np.abs(save_image_uint8(x_hat, normalize=False).astype(int) - png)
    # A value a float error away from a rounding boundary may land on the other side: at most one
    # grey level, in at most 1 in 5,000 samples.
    assert diff.max() <= 1 and (diff > 0).sum() <= diff.size // 5000


@pytest.mark.parametrize("variant", ["x", "eps"])
@pytest.mark.parametrize("crop", CROPS)
def test_full_length_run_first_and_last_steps(engines: dict[str, CdcEngine], variant: str, crop: str) -> None:
    """The default-length run, checked at its stored ends: first denoiser call from the stored
    noise, and the last call and final update from the stored last input."""
    eng, d = engines[variant], _data(variant, crop)
    steps = VARIANTS[variant][1]
    index, acp, acp_prev = schedule(eng.model.alphas_cumprod, steps)
    if f"steps{steps}_sched_alphas_cumprod" in d.files:
        np.testing.assert_array_equal(acp.numpy(), d[f"steps{steps}_sched_alphas_cumprod"])
    ctx = eng.context(torch.from_numpy(d["y_hat"]))
    total = eng.model.alphas_cumprod.shape[0]
    t_first = index[-1].item() / total if variant == "x" else (steps - 1) / steps
    with torch.no_grad():
        first = eng.model.denoise_fn(torch.from_numpy(d["init_noise"]), torch.tensor([[t_first]]), ctx)
    _close(variant, first.numpy(), d[f"steps{steps}_denoiser_first_out"])
    if f"steps{steps}_denoiser_last_x_in" in d.files:  # stored for the first crop only
        x_in = torch.from_numpy(d[f"steps{steps}_denoiser_last_x_in"])
        with torch.no_grad():
            last = eng.model.denoise_fn(x_in, torch.tensor([[0.0]]), ctx)
        _close(variant, last.numpy(), d[f"steps{steps}_denoiser_last_out"])
        # The final update (acp_prev = 1) returns x0: clamped for x, from the noise estimate for eps.
        a = acp[0]
        x0 = last.clamp(-1, 1) if variant == "x" else torch.sqrt(1.0 / a) * x_in - torch.sqrt(1.0 / a - 1.0) * last
        _close(variant, x0.numpy(), d[f"steps{steps}_x_hat_raw"])
    x_hat = eng.postprocess(torch.from_numpy(d[f"steps{steps}_x_hat_raw"]), *d["input_image"].shape[2:])
    png = np.array(Image.open(conformance_dir("cdc", f"{VARIANTS[variant][0]}_reduced_{crop}_steps{steps}_RECON.png")))
    diff = np.abs(save_image_uint8(x_hat, normalize=False).astype(int) - png)
    assert diff.max() <= 1 and (diff > 0).sum() <= 2


def _codec(variant: str) -> CdcCodec:
    return CdcCodec(CodecInfo(f"cdc-{variant}", "CDC", CodecFamily.NEURAL, (1,), stochastic=True, extra={"variant": variant}))


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["x", "eps"])
def test_adapter_with_the_stored_seed_reproduces_the_reference_png(variant: str) -> None:
    ckpt = conformance_dir("cdc", f"cdc_{VARIANTS[variant][0]}_reduced.pt")
    rec = _codec(variant).run(_input(CROPS[0]), 1, RunOptions(device="cpu", weights=str(ckpt), seed=2024, steps=4),
                              TaskContext())
    png = np.array(Image.open(conformance_dir("cdc", f"{VARIANTS[variant][0]}_reduced_{CROPS[0]}_steps4_RECON.png")))
    diff = np.abs(rec.pixels.astype(int) - png)
    assert diff.max() <= 1 and (diff > 0).sum() <= 4
    assert rec.params["seed"] == 2024 and rec.params["steps"] == 4
    assert rec.bpp == pytest.approx(8 * len(rec.bitstream) / (128 * 128))
    assert any("seed 2024" in n for n in rec.notes)


def test_x_parameterisation_decodes_the_ema_weights() -> None:
    ckpt = torch.load(conformance_dir("cdc", "cdc_xparam_reduced.pt"), weights_only=True)
    ema, online = select_state(ckpt, "ema"), select_state(ckpt, "model")
    assert set(ema) == set(online)
    assert any(not torch.equal(ema[k], online[k]) for k in ema)
    with pytest.raises(WeightsError):
        CdcEngine({"model": ckpt["model"]}, "x")  # no EMA entry: refused rather than guessed


def test_size_that_the_reference_rejects_is_padded_and_recorded(engines: dict[str, CdcEngine]) -> None:
    img = np.array(Image.open(conformance_dir("cdc", "inputs", "UNSUPPORTED_kodim23_crop96x160_t120_l420.png")).convert("RGB"))
    lat = engines["x"].analyse(to_unit_tensor(img)[0])
    assert lat.padded == (128, 192) and (lat.height, lat.width) == (96, 160)
    back = engines["x"].decode_bitstream(engines["x"].encode_bitstream(lat))
    assert back.padded == (128, 192)


def test_images_above_the_budget_are_refused_not_tiled() -> None:
    ckpt = conformance_dir("cdc", "cdc_xparam_reduced.pt")
    options = RunOptions(device="cpu", weights=str(ckpt), seed=1, steps=1, tile_budget_pixels=64 * 64)
    with pytest.raises(CodecError, match="whole images"):
        _codec("x").run(np.zeros((64, 80, 3), np.uint8), 1, options, TaskContext())
