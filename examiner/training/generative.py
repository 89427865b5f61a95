"""The generative variant of the demonstration codec: a HiFiC-style adversarial decoder.

HiFiC (Mentzer et al. 2020) trains its decoder with a conditional GAN: a patch discriminator
sees the reconstruction (or the original) next to the quantised latent, and the decoder is
rewarded for reconstructions the discriminator takes for originals, on top of the distortion
term. Such a decoder stops averaging plausible details into blur and synthesises them instead,
which is what produces miscompressions.

Here only the synthesis transform ``g_s`` of one trained demonstration model is fine-tuned; the
analysis transform, the hyperprior and the entropy models stay frozen, so the bitstream of an
image is exactly that of the base model and only its decoding changes. The decoder sees the
latent exactly as the real decoder does (hyper-latent rounded around its medians, latent rounded
around its predicted means), so there is no train/test mismatch. No perceptual (LPIPS) term is
used: its pretrained network cannot be fetched here.

Deterministic for a seed, torch version and thread count; a checkpoint holds both networks, both
optimisers and every random-generator state, so ``resume=True`` continues exactly.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from examiner.codecs.demo_pack import DEMO_FILE_PREFIX
from examiner.codecs.weights import sha256_file
from examiner.core.tasks import TaskContext
from examiner.errors import ExaminerError
from examiner.training.codec_pack import GENERATIVE_RECORD
from examiner.training.codec_training import (
    DEFAULT_HOLDOUT,
    CropSampler,
    LogFn,
    list_images,
    load_checkpoint,
    load_rgb,
    restore_run_state,
    run_state,
    save_checkpoint,
    to_tensor,
    write_hashed_safetensors,
)

# Conv weights are stored in half precision to keep the pack small; GDN parameters, whose
# re-parametrised values sit near 2^-18, stay in single precision. Training is in single precision.
HALF_PRECISION_SUFFIX = ".weight"
DECODER_PREFIX = "g_s."


@dataclass
class GenerativeConfig:
    images: str
    base_weights: str  # safetensors file of the trained model whose decoder is fine-tuned
    base_sha256: str
    out: str
    steps: int = 2500
    seed: int = 0
    n: int = 64
    m: int = 96
    lmbda: float = 0.0018  # weight of the distortion term, the base model's own lambda
    beta: float = 0.3  # weight of the adversarial term
    crop: int = 128
    batch: int = 8
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    disc_widths: tuple[int, ...] = (32, 64, 128, 256)
    threads: int = 1
    checkpoint_every: int = 250
    log_every: int = 50
    holdout: tuple[str, ...] = DEFAULT_HOLDOUT
    file_prefix: str = f"{DEMO_FILE_PREFIX}-gan-g_s-q1"
    checkpoints: str = ""


def _torch() -> Any:
    import torch

    return torch


def build_discriminator(latent_channels: int, widths: tuple[int, ...]) -> Any:
    """HiFiC's conditional patch discriminator at reduced width: the latent goes through a 3x3
    convolution to 12 channels, is up-sampled x16 (nearest) to the image size and concatenated
    with the image; spectrally normalised stride-2 4x4 convolutions then give one logit per patch."""
    torch = _torch()
    nn = torch.nn

    class ConditionalPatchDiscriminator(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.latent = nn.Sequential(nn.Conv2d(latent_channels, 12, 3, padding=1), nn.LeakyReLU(0.2))
            layers: list[Any] = []
            c = 3 + 12
            for width in widths:
                layers += [nn.utils.parametrizations.spectral_norm(nn.Conv2d(c, width, 4, stride=2, padding=1)),
                           nn.LeakyReLU(0.2)]
                c = width
            layers.append(nn.Conv2d(c, 1, 1))
            self.body = nn.Sequential(*layers)

        def forward(self, image: Any, latent: Any) -> Any:
            z = nn.functional.interpolate(self.latent(latent), size=image.shape[-2:], mode="nearest")
            return self.body(torch.cat([image, z], dim=1))

    return ConditionalPatchDiscriminator()


def quantised_latent(model: Any, x: Any) -> Any:
    """The latent the real decoder receives for ``x``: what ``compress``/``decompress`` produce."""
    torch = _torch()
    with torch.no_grad():
        y = model.g_a(x)
        z = model.h_a(y)
        z_hat = model.entropy_bottleneck.quantize(z, "dequantize", model.entropy_bottleneck._get_medians())
        _scales, means = model.h_s(z_hat).chunk(2, 1)
        return model.gaussian_conditional.quantize(y, "dequantize", means)


def load_base(cfg: GenerativeConfig) -> Any:
    """The trained model whose decoder is fine-tuned, loaded only after its SHA-256 is checked."""
    from examiner.codecs.weights import load_verified
    from examiner.training.codec_training import build_model

    state, _ = load_verified(cfg.base_weights, cfg.base_sha256)
    model = build_model(cfg.n, cfg.m)
    try:
        model.load_state_dict(state)
    except (RuntimeError, ValueError) as exc:
        raise ExaminerError(f"{cfg.base_weights}: not a mean-scale hyperprior with N={cfg.n}, M={cfg.m} ({exc})") from exc
    model.update(force=True)
    return model.eval()


def decoder_state(model: Any) -> dict[str, Any]:
    """The decoder's tensors as shipped: conv weights in half precision, the rest as trained."""
    torch = _torch()
    return {
        k: v.to(torch.float16) if k.endswith(HALF_PRECISION_SUFFIX) and v.ndim == 4 else v
        for k, v in model.state_dict().items()
        if k.startswith(DECODER_PREFIX)
    }


def export_decoder(cfg: GenerativeConfig, model: Any) -> Path:
    return write_hashed_safetensors(
        decoder_state(model), Path(cfg.out), cfg.file_prefix,
        "demonstration generative decoder (g_s), not a published model",
    )


def high_frequency_ratio(rec: np.ndarray, ref: np.ndarray) -> float:
    """Energy of the 3x3-mean-removed residual of ``rec`` over that of ``ref`` (1: as detailed
    as the original; an MSE decoder's blur gives well under 1)."""
    from examiner.analysis.spectral import luma, residual

    def energy(img: np.ndarray) -> float:
        return float(np.mean(residual(luma(img)) ** 2))

    return energy(rec) / max(energy(ref), 1e-12)


def evaluate(model: Any, images: list[Any]) -> dict[str, float]:
    """Held-out PSNR and high-frequency ratio of the decoded images (rounding quantisation)."""
    torch = _torch()
    import torch.nn.functional as F
    from compressai.ops import compute_padding

    psnrs, hf = [], []
    model.eval()
    with torch.no_grad():
        for img in images:
            x = img.unsqueeze(0)
            pad, unpad = compute_padding(*x.shape[2:], min_div=64)
            x_hat = F.pad(model.g_s(quantised_latent(model, F.pad(x, pad))), unpad).clamp(0, 1)
            rec = torch.round(x_hat * 255)[0].permute(1, 2, 0).numpy()
            ref = (x[0].permute(1, 2, 0).numpy() * 255).round()
            mse = float(np.mean((rec - ref) ** 2))
            psnrs.append(10 * math.log10(255.0**2 / max(mse, 1e-12)))
            hf.append(high_frequency_ratio(rec, ref))
    return {"psnr": float(np.mean(psnrs)), "high_frequency_ratio": float(np.mean(hf))}


@dataclass
class GenerativeResult:
    steps: int
    wall_s: float
    heldout_before: dict[str, float]
    heldout_after: dict[str, float]
    final: dict[str, float] = field(default_factory=dict)


def train_generative(cfg: GenerativeConfig, ctx: TaskContext, resume: bool = False,
                     log: LogFn | None = None) -> dict[str, Any]:
    """Fine-tune the base model's decoder adversarially; returns the record written to
    ``GENERATIVE_RECORD`` in ``cfg.out``."""
    torch = _torch()
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        return _train(cfg, ctx, resume, log or (lambda _m: None))
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _train(cfg: GenerativeConfig, ctx: TaskContext, resume: bool, log: LogFn) -> dict[str, Any]:
    torch = _torch()
    softplus = torch.nn.functional.softplus
    if cfg.steps <= 0:
        raise ExaminerError("--steps must be positive")
    torch.set_num_threads(cfg.threads)
    torch.use_deterministic_algorithms(True)
    out = Path(cfg.out)
    ckdir = Path(cfg.checkpoints) if cfg.checkpoints else out / ".checkpoints"
    ckdir.mkdir(parents=True, exist_ok=True)
    cfg_json = json.loads(json.dumps(asdict(cfg)))
    cfg_json.pop("checkpoints")
    cfg_file = ckdir / "generative_config.json"
    if resume and cfg_file.exists():
        previous = json.loads(cfg_file.read_text(encoding="utf-8"))
        differ = sorted(k for k in set(previous) | set(cfg_json) if k != "steps" and previous.get(k) != cfg_json.get(k))
        if differ:
            raise ExaminerError(f"{cfg_file}: the checkpoints were made with other settings ({', '.join(differ)})")
    cfg_file.write_text(json.dumps(cfg_json, indent=2), encoding="utf-8")

    train_files, test_files = list_images(Path(cfg.images), cfg.holdout)
    train_imgs = [to_tensor(load_rgb(p)) for p in train_files]
    test_imgs = [to_tensor(load_rgb(p)) for p in test_files]
    log(f"training images: {len(train_imgs)}, held out: {len(test_imgs)}")

    torch.manual_seed(cfg.seed)
    model = load_base(cfg)
    before = evaluate(model, test_imgs) if test_imgs else {}
    log(f"base decoder on the held-out images: {before}")
    for p in model.parameters():
        p.requires_grad_(False)
    for p in model.g_s.parameters():
        p.requires_grad_(True)
    disc = build_discriminator(cfg.m, tuple(cfg.disc_widths))
    g_opt = torch.optim.Adam(model.g_s.parameters(), lr=cfg.lr_g)
    d_opt = torch.optim.Adam(disc.parameters(), lr=cfg.lr_d)
    sampler = CropSampler(train_imgs, cfg.crop, cfg.batch, cfg.seed)
    ck_path = ckdir / "generative.pt"
    start, wall_before = 0, 0.0
    if resume and ck_path.exists():
        payload = load_checkpoint(ck_path)
        start, wall_before = restore_run_state(payload, sampler, g_s=model.g_s, disc=disc, g_opt=g_opt, d_opt=d_opt)
        if start > cfg.steps:
            raise ExaminerError(f"{ck_path}: the checkpoint is at step {start}, beyond --steps {cfg.steps}")
        log(f"resumed at step {start}")
    t0 = time.monotonic()
    window: list[tuple[float, float, float, float]] = []
    last: dict[str, float] = {}
    model.g_s.train()
    for step in range(start, cfg.steps):
        ctx.progress(step, cfg.steps, f"adversarial step {step}/{cfg.steps}")
        x = sampler.sample()
        y_hat = quantised_latent(model, x)
        x_hat = model.g_s(y_hat)
        # Discriminator: originals are real, reconstructions fake (non-saturating logistic loss).
        d_real, d_fake = disc(x, y_hat), disc(x_hat.detach(), y_hat)
        d_loss = softplus(-d_real).mean() + softplus(d_fake).mean()
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        # Decoder: distortion as in the base model's training plus the adversarial reward.
        mse = torch.mean((x_hat - x) ** 2)
        adv = softplus(-disc(x_hat, y_hat)).mean()
        g_loss = cfg.lmbda * 255.0**2 * mse + cfg.beta * adv
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        if not math.isfinite(g_loss.item()) or not math.isfinite(d_loss.item()):
            raise ExaminerError(f"the adversarial training diverged at step {step}; lower the learning rates")
        window.append((g_loss.item(), d_loss.item(), mse.item(), adv.item()))
        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.steps:
            arr = np.array(window)
            last = {"g_loss": float(arr[:, 0].mean()), "d_loss": float(arr[:, 1].mean()),
                    "psnr": 10 * math.log10(1.0 / max(arr[:, 2].mean(), 1e-12)), "adv": float(arr[:, 3].mean())}
            log(f"step {done}/{cfg.steps} g {last['g_loss']:.4f} d {last['d_loss']:.4f} psnr {last['psnr']:.2f} "
                f"adv {last['adv']:.3f} {(time.monotonic() - t0) / (done - start):.3f} s/step, "
                f"{wall_before + time.monotonic() - t0:.0f} s")
            window.clear()
        if done % cfg.checkpoint_every == 0 and done < cfg.steps:
            wall_now = wall_before + time.monotonic() - t0
            save_checkpoint(ck_path, run_state(sampler, done, wall_now, g_s=model.g_s, disc=disc, g_opt=g_opt, d_opt=d_opt))
    wall = wall_before + time.monotonic() - t0
    ctx.progress(cfg.steps, cfg.steps, "evaluating")
    # What ships is what is measured: the decoder goes through the half-precision export first.
    shipped = {k: v.float() for k, v in decoder_state(model).items()}
    model.load_state_dict({**model.state_dict(), **shipped})
    after = evaluate(model, test_imgs) if test_imgs else {}
    log(f"generative decoder on the held-out images: {after}")
    path = export_decoder(cfg, model)
    import compressai

    record = {
        "variant": "generative decoder (HiFiC-style conditional adversarial fine-tuning of g_s)",
        "base_weights": Path(cfg.base_weights).name,
        "base_sha256": cfg.base_sha256,
        "decoder_file": path.name,
        "decoder_sha256": sha256_file(path),
        "decoder_size": path.stat().st_size,
        "config": cfg_json,
        "train_images": [p.name for p in train_files],
        "heldout_images": [p.name for p in test_files],
        "discriminator_parameters": int(sum(p.numel() for p in disc.parameters())),
        "decoder_parameters": int(sum(p.numel() for p in model.g_s.parameters())),
        "result": asdict(GenerativeResult(cfg.steps, round(wall, 1), before, after, last)),
        "versions": {"torch": str(torch.__version__), "compressai": compressai.__version__},
    }
    (out / GENERATIVE_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if ck_path.exists():
        ck_path.unlink()
    return record
