"""A family of small learned codecs, trained on CPU, whose outputs are detector v3's positives.

They are detector training and validation data, not product codecs: nothing here ships in a pack.
They differ where real learned codecs differ, so that leave-one-family-out validation can ask
whether the detector finds an architecture or an up-sampling it never saw:

* entropy model: factorized prior, scale hyperprior, mean-scale hyperprior, autoregressive
  context (Minnen 2018 joint), channel-wise context (ELIC, CompressAI's Elic2022Chandelier);
* decoder up-sampling: transposed convolution, sub-pixel convolution (pixel shuffle), nearest
  and bilinear up-sampling followed by a convolution, residual-block decoders;
* loss: MSE or MS-SSIM, at several lambdas.

All are tiny (N = 32..48) and trained for 600-1000 steps on 128-pixel crops of kodim01-12,
so they are badly under-trained: their PSNR is far below published codecs. The up-sampling
trace of their decoders is there from the first steps, which is what the detector needs; their
cards (``card.json`` per model) say how far each got.

Used by ``bench/make_detector_v3_data.py``; every model is checkpointed, so an interrupted run
resumes with the same command. The trained weights are kept in ``bench/detector_v3_weights/`` (safetensors, transforms in half
precision, 0.4-8 MB each, SHA-256 in ``SHA256SUMS``), so a fresh checkout remakes the detector data, the
same images bit for bit, without training:

    python bench/detector_v3_codecs.py --export DATA/codecs   # after training: keep the weights

A committed weight file is used only when its SHA-256 matches ``SHA256SUMS``; otherwise the
model is trained as before.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class Spec:
    name: str  # also the positive family's name
    arch: str  # entropy model / architecture
    upsampling: str
    lmbda: float
    loss: str = "mse"
    n: int = 32
    m: int = 48
    steps: int = 1000
    seed: int = 0


# One model per family. Rates are whatever the short training gives at these lambdas; the cards
# record them (they span roughly 0.1-1.5 bpp).
SPECS: tuple[Spec, ...] = (
    Spec("own-factorized-deconv", "factorized", "transposed-conv", 0.0067, seed=1),
    Spec("own-hyperprior-deconv", "scale-hyperprior", "transposed-conv", 0.013, seed=2),
    Spec("own-meanscale-deconv-lowrate", "mean-scale", "transposed-conv", 0.0025, seed=3),
    Spec("own-meanscale-shuffle", "mean-scale", "pixel-shuffle", 0.025, seed=4),
    Spec("own-meanscale-nearest", "mean-scale", "nearest+conv", 0.013, seed=5),
    Spec("own-meanscale-bilinear", "mean-scale", "bilinear+conv", 0.05, seed=6),
    Spec("own-meanscale-resblock", "mean-scale", "residual-blocks+transposed-conv", 0.013, seed=7),
    Spec("own-meanscale-msssim", "mean-scale", "transposed-conv", 16.0, loss="ms-ssim", seed=8),
    # CompressAI's Cheng 2020 models crash in backward with this torch build (heap corruption),
    # so the residual-block + sub-pixel decoder they use is built here on a mean-scale model.
    Spec("own-meanscale-resblock-shuffle", "mean-scale", "residual-blocks+pixel-shuffle", 0.025, seed=9),
    Spec("own-joint-autoregressive", "autoregressive context (Minnen 2018 joint)", "transposed-conv", 0.025, seed=11),
    Spec("own-elic-channelwise", "channel-wise (ELIC)", "residual-bottleneck+transposed-conv", 0.0067,
         n=32, m=64, steps=600, seed=10),
)


class _Up(nn.Module):
    """x2 interpolation then a 3x3 convolution: no kernel overlap, so its trace differs from a
    transposed convolution's."""

    def __init__(self, cin: int, cout: int, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kw: dict[str, Any] = {} if self.mode == "nearest" else {"align_corners": False}
        return self.conv(nn.functional.interpolate(x, scale_factor=2, mode=self.mode, **kw))


def _decoder(kind: str, n: int, m: int) -> nn.Module:
    from compressai.layers import GDN, ResidualBlock, subpel_conv3x3
    from compressai.models.utils import deconv

    if kind == "pixel-shuffle":
        return nn.Sequential(subpel_conv3x3(m, n, 2), GDN(n, inverse=True), subpel_conv3x3(n, n, 2),
                             GDN(n, inverse=True), subpel_conv3x3(n, n, 2), GDN(n, inverse=True),
                             subpel_conv3x3(n, 3, 2))
    if kind in ("nearest+conv", "bilinear+conv"):
        mode = kind.split("+")[0]
        return nn.Sequential(_Up(m, n, mode), GDN(n, inverse=True), _Up(n, n, mode), GDN(n, inverse=True),
                             _Up(n, n, mode), GDN(n, inverse=True), _Up(n, 3, mode))
    if kind == "residual-blocks+transposed-conv":
        return nn.Sequential(ResidualBlock(m, m), deconv(m, n), nn.LeakyReLU(inplace=True), ResidualBlock(n, n),
                             deconv(n, n), nn.LeakyReLU(inplace=True), ResidualBlock(n, n), deconv(n, n),
                             nn.LeakyReLU(inplace=True), deconv(n, 3))
    if kind == "residual-blocks+pixel-shuffle":
        return nn.Sequential(ResidualBlock(m, m), subpel_conv3x3(m, n, 2), nn.LeakyReLU(inplace=True),
                             ResidualBlock(n, n), subpel_conv3x3(n, n, 2), nn.LeakyReLU(inplace=True),
                             ResidualBlock(n, n), subpel_conv3x3(n, n, 2), nn.LeakyReLU(inplace=True),
                             subpel_conv3x3(n, 3, 2))
    raise ValueError(kind)


def build(spec: Spec) -> nn.Module:
    import compressai.models as cm

    if spec.arch == "factorized":
        return cm.FactorizedPrior(spec.n, spec.m)
    if spec.arch == "scale-hyperprior":
        return cm.ScaleHyperprior(spec.n, spec.m)
    if spec.arch.startswith("autoregressive"):
        return cm.JointAutoregressiveHierarchicalPriors(spec.n, spec.m)
    if spec.arch.startswith("channel-wise"):
        return cm.Elic2022Chandelier(spec.n, spec.m, groups=[8, 8, 16, 32])
    model = cm.MeanScaleHyperprior(spec.n, spec.m)
    if spec.upsampling != "transposed-conv":
        model.g_s = _decoder(spec.upsampling, spec.n, spec.m)
    return model


def _loss(spec: Spec, out: dict[str, Any], x: torch.Tensor) -> tuple[torch.Tensor, float, float]:
    n_px = x.shape[0] * x.shape[2] * x.shape[3]
    bpp = sum(torch.log(v).sum() for v in out["likelihoods"].values()) / (-math.log(2) * n_px)
    x_hat = out["x_hat"].clamp(0, 1)
    mse = nn.functional.mse_loss(out["x_hat"], x)
    if spec.loss == "ms-ssim":
        from pytorch_msssim import ms_ssim

        # Three scales and a 7-tap window: 128-pixel crops are too small for the usual five and 11.
        d = 1.0 - ms_ssim(x_hat, x, data_range=1.0, size_average=True, win_size=7,
                           weights=[0.0448, 0.2856, 0.3001])
        loss = spec.lmbda * d + bpp
    else:
        loss = spec.lmbda * 255.0**2 * mse + bpp
    return loss, float(bpp.detach()), float(mse.detach())


def _crops(images: list[np.ndarray], rng: np.random.Generator, crop: int, batch: int) -> torch.Tensor:
    out = []
    for _ in range(batch):
        img = images[int(rng.integers(len(images)))]
        y = int(rng.integers(img.shape[0] - crop + 1))
        x = int(rng.integers(img.shape[1] - crop + 1))
        c = img[y : y + crop, x : x + crop]
        if rng.random() < 0.5:
            c = c[:, ::-1]
        out.append(np.ascontiguousarray(c))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).float() / 255.0


def train(spec: Spec, images: list[np.ndarray], folder: Path, log: Callable[[str], None], crop: int = 128,
          batch: int = 4, checkpoint_every: int = 50) -> nn.Module:
    """Train (or resume, or just load) one model; ``folder/weights.pt`` holds the final weights
    (a plain state dict, read back with ``weights_only=True``)."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / "weights.pt"
    torch.manual_seed(spec.seed)
    model = build(spec)
    if load_committed(spec, model):
        return model.eval()
    if final.is_file():
        model.load_state_dict(torch.load(final, weights_only=True))
        return as_kept(model).eval()
    aux_params = [p for n, p in model.named_parameters() if n.endswith(".quantiles")]
    main_params = [p for n, p in model.named_parameters() if not n.endswith(".quantiles")]
    opt = torch.optim.Adam(main_params, lr=1e-3)
    aux_opt = torch.optim.Adam(aux_params, lr=1e-3)
    rng = np.random.default_rng(spec.seed)
    step, seconds = 0, 0.0
    ckpt = folder / "checkpoint.pt"
    if ckpt.is_file():
        state = torch.load(ckpt, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        aux_opt.load_state_dict(state["aux_opt"])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        step, seconds = int(state["step"]), float(state["seconds"])
    model.train()
    last = (0.0, 0.0)
    while step < spec.steps:
        t0 = time.perf_counter()
        for g in opt.param_groups:  # cosine decay: short runs need a high start and a low end
            g["lr"] = 1e-4 + 0.5 * (1e-3 - 1e-4) * (1 + math.cos(math.pi * step / spec.steps))
        x = _crops(images, rng, crop, batch)
        out = model(x)
        loss, bpp, mse = _loss(spec, out, x)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(main_params, 1.0)
        opt.step()
        aux = model.aux_loss()
        aux_opt.zero_grad()
        aux.backward()
        aux_opt.step()
        step += 1
        seconds += time.perf_counter() - t0
        last = (bpp, mse)
        if step % checkpoint_every == 0 or step == spec.steps:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "aux_opt": aux_opt.state_dict(),
                        "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(), "step": step,
                        "seconds": seconds}, ckpt)
            log(f"{spec.name}: step {step}/{spec.steps} bpp {bpp:.3f} psnr {10 * math.log10(1 / max(mse, 1e-10)):.2f} "
                f"({seconds / step:.2f} s/step)")
    model.eval()
    torch.save(model.state_dict(), final)
    as_kept(model)
    (folder / "train.json").write_text(json.dumps({"steps": step, "seconds": round(seconds, 1),
                                                    "last_batch_bpp": last[0], "threads": torch.get_num_threads()}))
    ckpt.unlink(missing_ok=True)
    return model


WEIGHTS_DIR = Path(__file__).resolve().parent / "detector_v3_weights"
# The transforms are kept as half precision, so all eleven fit in 17 MB beside the demonstration
# pack's 24 MB (the repository's model files stay under 50 MB). The entropy models stay float32:
# rounded, their likelihoods reach zero on some images and the estimated rate becomes infinite.
# The data are always decoded with the rounded weights, whether just trained or loaded, so the
# same files give the same images everywhere.
KEPT_DTYPE = torch.float16


def _rounded_keys(model: nn.Module) -> set[str]:
    """State-dict keys kept as half precision: floating-point tensors outside the entropy models."""
    from compressai.entropy_models import EntropyModel

    exact = tuple(f"{name}." for name, m in model.named_modules() if isinstance(m, EntropyModel))
    return {k for k, v in model.state_dict().items() if v.is_floating_point() and not k.startswith(exact)}


def as_kept(model: nn.Module) -> nn.Module:
    """Round the weights to what the kept file holds (in place)."""
    keys = _rounded_keys(model)
    with torch.no_grad():
        for k, t in model.state_dict(keep_vars=True).items():
            if k in keys:
                t.copy_(t.to(KEPT_DTYPE).to(t.dtype))
    return model
SUMS = WEIGHTS_DIR / "SHA256SUMS"


def _sums() -> dict[str, str]:
    if not SUMS.is_file():
        return {}
    out: dict[str, str] = {}
    for line in SUMS.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        if digest and name:
            out[name.strip()] = digest.strip()
    return out


def load_committed(spec: Spec, model: nn.Module) -> bool:
    """Load ``spec``'s committed weights into ``model`` when the file is there and its SHA-256
    is the recorded one; a file that does not match is refused, never loaded."""
    import hashlib

    from safetensors.torch import load

    path = WEIGHTS_DIR / f"{spec.name}.safetensors"
    want = _sums().get(path.name)
    if not path.is_file() or want is None:
        return False
    data = path.read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        raise ValueError(f"{path}: SHA-256 {got} is not the recorded {want}; remove it or retrain")
    # load_state_dict copies into the float32 model, widening the half-precision values exactly.
    model.load_state_dict(load(data), strict=True)
    return True


def export(spec: Spec, model: nn.Module) -> str:
    """Write ``spec``'s weights as safetensors and record their SHA-256; returns the digest."""
    import hashlib

    from safetensors.torch import save

    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    keys = _rounded_keys(model)
    data = save({k: (v.to(KEPT_DTYPE) if k in keys else v).detach().contiguous().clone()
                 for k, v in model.state_dict().items()})
    path = WEIGHTS_DIR / f"{spec.name}.safetensors"
    path.write_bytes(data)
    sums = _sums()
    sums[path.name] = hashlib.sha256(data).hexdigest()
    SUMS.write_text("".join(f"{d}  {n}\n" for n, d in sorted(sums.items())), encoding="utf-8")
    return sums[path.name]


@torch.no_grad()
def reconstruct(model: nn.Module, img: np.ndarray) -> tuple[np.ndarray, float]:
    """Decoded pixels and the estimated rate (bpp from the entropy model's likelihoods, with the
    latents rounded as a real decoder sees them)."""
    h, w = img.shape[:2]
    ph, pw = (-h) % 64, (-w) % 64
    x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float() / 255.0
    x = nn.functional.pad(x, (0, pw, 0, ph), mode="replicate")
    out = model(x)
    bpp = float(sum(torch.log(v).sum() for v in out["likelihoods"].values()) / (-math.log(2) * h * w))
    rec = out["x_hat"][0, :, :h, :w].clamp(0, 1).permute(1, 2, 0).numpy()
    return (rec * 255.0 + 0.5).astype(np.uint8), bpp


def card(spec: Spec, folder: Path, psnrs: list[float], bpps: list[float], model: nn.Module) -> dict[str, Any]:
    record = json.loads((folder / "train.json").read_text()) if (folder / "train.json").is_file() else {}
    c = {"family": spec.name, "architecture": spec.arch, "decoder_upsampling": spec.upsampling,
         "loss": spec.loss, "lambda": spec.lmbda, "N": spec.n, "M": spec.m, "steps": spec.steps,
         "seed": spec.seed, "parameters": sum(p.numel() for p in model.parameters()),
         "training_seconds": record.get("seconds"), "training_images": "kodim01-12, 128-px crops, batch 4",
         "mean_bpp_estimated": round(float(np.mean(bpps)), 4), "mean_psnr_db": round(float(np.mean(psnrs)), 2),
         "note": "under-trained: detector data only, not a usable codec"}
    (folder / "card.json").write_text(json.dumps(c, indent=1))
    return c


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Keep the trained small codecs' weights in the repository.")
    ap.add_argument("--export", type=Path, required=True, metavar="DATA/codecs",
                    help="the codecs folder a data run trained into (one sub-folder per family)")
    args = ap.parse_args()
    for spec in SPECS:
        final = args.export / spec.name / "weights.pt"
        if not final.is_file():
            print(f"{spec.name}: not trained yet ({final} missing)")
            continue
        model = build(spec)
        model.load_state_dict(torch.load(final, weights_only=True))
        print(f"{spec.name}: {export(spec, model)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
