"""CDC encode and decode, following the official test scripts exactly, with real bitstreams.

Encoder: ``x * 2 - 1``; ``y = enc(x)``; ``z = hyper_enc(y)``; hyper-latent symbols
``round(z - medians)`` (half to even, as ``torch.round``); ``mean, scale = hyper_dec(z_hat)`` with
``scale >= 0.1``; latent symbols ``round(y - mean)``; ``y_hat = symbol + mean``.

Decoder: the context pyramid ``dec(y_hat)`` conditions a DDIM sampler (eta = 0) that starts
from ``init = N(0, 1) * gamma`` drawn from a CPU generator seeded with the run's seed. The
schedule is the checkpoint's ``train_alphas_cumprod`` at ``linspace(0, T-1, steps).long()``.
x-parameterisation predicts x0 (clamped to [-1, 1]) at time ``index / T``; epsilon-
parameterisation predicts the noise at time ``i / steps``. Output ``clamp(-1, 1) / 2 + 0.5``.

The reference needs H and W to be multiples of 64 and does not pad; this engine pads by
reflection at the bottom and right, and crops the result, recording both sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from examiner.codecs import latent_coding as lc
from examiner.codecs.cdc.model import CdcModel, build_model, select_state
from examiner.codecs.torch_checkpoint import load_checkpoint
from examiner.errors import CodecError, WeightsError

MAGIC = b"MXC1"
MIN_SCALE = 0.1
CODER_SCALES = lc.scale_table(MIN_SCALE, 256.0, 64)
MULTIPLE = 64


@dataclass(frozen=True)
class Variant:
    key: str  # "x" or "eps"
    entry: str  # checkpoint entry holding the decoder weights
    default_steps: int
    label: str


VARIANTS = {
    "x": Variant("x", "ema", 65, "x-parameterisation (EMA weights)"),
    "eps": Variant("eps", "model", 200, "epsilon-parameterisation"),
}


@dataclass
class CdcLatents:
    height: int
    width: int
    padded: tuple[int, int]
    y_symbols: np.ndarray  # (C, h, w) int64
    z_symbols: np.ndarray
    mean: Tensor
    scale: Tensor
    extras: dict[str, Any] = field(default_factory=dict)

    def y_hat(self) -> Tensor:
        return torch.from_numpy(self.y_symbols.astype(np.float32))[None].to(self.mean.device) + self.mean


def schedule(alphas_cumprod: Tensor, steps: int) -> tuple[Tensor, Tensor, Tensor]:
    """Indices, alpha-bar and previous alpha-bar of a ``steps``-step DDIM run (truncating)."""
    total = alphas_cumprod.shape[0]
    index = torch.linspace(0, total - 1, steps).long()
    acp = alphas_cumprod.to("cpu")[index]
    acp_prev = F.pad(acp[:-1], (1, 0), value=1.0)
    return index, acp, acp_prev


def initial_noise(shape: tuple[int, ...], seed: int, gamma: float = 0.8) -> Tensor:
    """The sampler's start, as the reference draws it: ``torch.manual_seed(seed)`` then
    ``randn_like(x) * gamma`` on the CPU, where ``x`` (decoded from an image as H x W x C) is laid
    out channels-last in memory; ``randn_like`` keeps that layout, which changes the draw order."""
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    noise = torch.empty(shape, dtype=torch.float32).to(memory_format=torch.channels_last)
    noise.normal_(generator=gen)
    return (noise * gamma).contiguous()


class CdcEngine:
    def __init__(self, checkpoint: Mapping[str, Any], variant: str, device: str = "cpu", dtype: torch.dtype = torch.float32):
        if variant not in VARIANTS:
            raise CodecError(f"unknown CDC variant {variant!r}")
        self.variant = VARIANTS[variant]
        state = select_state(checkpoint, self.variant.entry)
        if variant == "x" and "train_snr" not in state:
            raise WeightsError("this is not an x-parameterisation CDC checkpoint (no train_snr schedule)")
        self.model: CdcModel = build_model(state).to(device=device)
        if dtype != torch.float32:
            self.model.denoise_fn.to(dtype)
        self.device = device
        self.dtype = dtype
        self.config = self.model.config
        self.n_parameters = sum(p.numel() for p in self.model.parameters())

    @classmethod
    def from_file(
        cls, path: str | Path, variant: str, expected_sha256: str | None = None, device: str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> tuple[CdcEngine, str]:
        obj, sha = load_checkpoint(path, expected_sha256)
        try:
            return cls(obj, variant, device, dtype), sha
        except WeightsError as exc:
            raise WeightsError(f"{path}: {exc}") from exc

    # --- encoder side --------------------------------------------------------------------

    @staticmethod
    def pad(x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % MULTIPLE, (-w) % MULTIPLE
        if ph == 0 and pw == 0:
            return x
        if ph >= h or pw >= w:
            raise CodecError(f"image of {h}x{w} is too small to pad by reflection to a multiple of {MULTIPLE}")
        return F.pad(x, (0, pw, 0, ph), mode="reflect")

    @torch.no_grad()
    def analyse(self, x01: Tensor, keep: bool = False) -> CdcLatents:
        height, width = (int(v) for v in x01.shape[-2:])
        x = self.pad(x01.to(self.device, torch.float32)) * 2.0 - 1.0
        cf = self.model.context_fn
        y = cf.encode(x)
        if not bool(torch.isfinite(y).all()):
            raise CodecError("the CDC encoder produced non-finite latents (damaged checkpoint?)")
        z = cf.hyper_encode(y)
        med = cf.prior.medians
        z_sym = torch.round(z - med)
        mean, scale = cf.hyper_decode(z_sym + med)
        y_sym = torch.round(y - mean)
        extras = {"input": x, "y": y, "z": z} if keep else {}
        return CdcLatents(
            height,
            width,
            (int(x.shape[-2]), int(x.shape[-1])),
            y_sym[0].to("cpu", torch.float64).numpy().astype(np.int64),
            z_sym[0].to("cpu", torch.float64).numpy().astype(np.int64),
            mean,
            scale,
            extras,
        )

    # --- entropy coding ------------------------------------------------------------------

    def z_pmfs(self, lo: int, hi: int) -> np.ndarray:
        prior = self.model.context_fn.prior
        med = prior.medians.reshape(-1, 1, 1, 1)
        k = torch.arange(lo, hi + 1, dtype=torch.float32, device=self.device).reshape(1, 1, 1, -1)
        with torch.no_grad():
            pmf = prior.pmf(k + med).reshape(med.shape[0], -1)
        return np.maximum(pmf.to("cpu", torch.float64).numpy(), 1e-12)

    def theoretical_bits(self, lat: CdcLatents) -> float:
        scale = lat.scale[0].to("cpu", torch.float64).numpy()
        return lc.hyperprior_information_bits(lat.y_symbols, scale, "gaussian", lat.z_symbols, self.z_pmfs)

    def encode_bitstream(self, lat: CdcLatents) -> bytes:
        scale = lat.scale[0].to("cpu", torch.float64).numpy()
        (zlo, zhi, ylo, yhi), z_words, y_words = lc.encode_hyperprior(
            lat.z_symbols, self.z_pmfs, lat.y_symbols, scale, "gaussian", CODER_SCALES
        )
        c, h, w = lat.y_symbols.shape
        _, hz, wz = lat.z_symbols.shape
        fields = [lat.height, lat.width, lat.padded[0], lat.padded[1], c, h, w, hz, wz, zlo, zhi, ylo, yhi]
        return lc.pack(MAGIC, fields, [z_words, y_words])

    @torch.no_grad()
    def decode_bitstream(self, data: bytes) -> CdcLatents:
        fields, (z_words, y_words) = lc.unpack(MAGIC, data, 2)
        if len(fields) != 13:
            raise CodecError("CDC bitstream header has the wrong number of fields")
        height, width, hp, wp, c, h, w, hz, wz, zlo, zhi, ylo, yhi = fields
        if c != self.config.latent_channels or hp != h * 16 or wp != w * 16:
            raise CodecError("CDC bitstream does not fit this model (latent layout)")
        if not (lc.symbol_range_fits(zlo, zhi) and lc.symbol_range_fits(ylo, yhi)):
            raise CodecError("CDC bitstream header is corrupt (symbol range)")
        z_sym = lc.decode_per_channel(z_words, self.z_pmfs(zlo, zhi), zlo, (self.config.hyper_channels, hz, wz))
        med = self.model.context_fn.prior.medians
        z_hat = torch.from_numpy(z_sym.astype(np.float32))[None].to(self.device) + med
        mean, scale = self.model.context_fn.hyper_decode(z_hat)
        if tuple(mean.shape[-2:]) != (h, w):
            raise CodecError("CDC bitstream header is inconsistent (latent size)")
        y_sym = lc.decode_conditional(y_words, scale[0].to("cpu", torch.float64).numpy(), "gaussian", CODER_SCALES, ylo, yhi)
        return CdcLatents(height, width, (hp, wp), y_sym, z_sym, mean, scale)

    # --- decoder side --------------------------------------------------------------------

    @torch.no_grad()
    def context(self, y_hat: Tensor) -> list[Tensor]:
        return self.model.context_fn.decode(y_hat.to(self.device, torch.float32))

    @torch.no_grad()
    def sample(
        self,
        context: list[Tensor],
        init: Tensor,
        steps: int,
        on_step: Callable[[int, int], None] | None = None,
        trace: list[dict[str, Tensor]] | None = None,
    ) -> Tensor:
        """DDIM with eta = 0 from ``init`` (x_T); returns the raw sampler output."""
        if steps < 1:
            raise CodecError("the number of sampling steps must be at least 1")
        index, acp, acp_prev = schedule(self.model.alphas_cumprod, steps)
        total = self.model.alphas_cumprod.shape[0]
        ctx = [c.to(self.dtype) for c in context]
        x = init.to(self.device, torch.float32)
        batch = x.shape[0]
        for n, i in enumerate(reversed(range(steps))):
            a, a_prev = acp[i].to(self.device), acp_prev[i].to(self.device)
            if self.variant.key == "x":
                t_in = torch.full((batch, 1), float(index[i]) / total, dtype=torch.float32)
            else:
                t_in = torch.full((batch, 1), i / steps, dtype=torch.float32)
            t_in = t_in.to(self.device)
            out = self.model.denoise_fn(x.to(self.dtype), t_in.to(self.dtype), ctx).to(torch.float32)
            if trace is not None:
                trace.append({"x_in": x.cpu(), "out": out.cpu(), "time": t_in.cpu()})
            if self.variant.key == "x":
                x0 = out.clamp(-1.0, 1.0)
                eps = (torch.sqrt(1.0 / a) * x - x0) / torch.sqrt(1.0 / a - 1.0)
                x = torch.sqrt(a_prev) * x0 + torch.sqrt(torch.clamp(1.0 - a_prev, min=0.0)) * eps
            else:
                eps = out
                x0 = torch.sqrt(1.0 / a) * x - torch.sqrt(1.0 / a - 1.0) * eps
                x = torch.sqrt(a_prev) * x0 + torch.sqrt(1.0 - a_prev) * eps
            if on_step is not None:
                on_step(n + 1, steps)
        return x

    @staticmethod
    def postprocess(raw: Tensor, height: int, width: int) -> Tensor:
        """[0, 1] image cropped to the input size (float32, CPU)."""
        return (raw.clamp(-1.0, 1.0) / 2.0 + 0.5)[:, :, :height, :width].to("cpu", torch.float32)
