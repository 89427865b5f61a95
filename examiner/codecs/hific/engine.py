"""HiFiC encode and decode with real bitstreams, following the public PyTorch port exactly.

Processing (as the port's ``compress.py`` does it):

1. ``uint8 / 255``; with ``normalize_input_image`` mapped to [-1, 1].
2. Reflection padding, bottom and right, to a multiple of 16; encoder; the latent is padded the
   same way to a multiple of 4 for the two stride-2 hyper-analysis layers.
3. Hyper-latent symbols ``floor(z + 0.5)``; ``mu``/``sigma`` from them, ``sigma >= 0.11``.
4. Latent symbols ``floor((y + 0.5) - mu)``; ``y_hat = symbol + mu``.
5. Generator at the padded latent size; ``tanh`` and ``(g + 1) / 2`` with normalisation; crop
   top-left to the input size; clamp to [0, 1].

Symbols are coded with :mod:`examiner.codecs.latent_coding`. The port's own ``.hfc`` coder
decodes some large symbols wrongly (:mod:`examiner.codecs.hific.reference_coder`); this engine
decodes the intended values and reports where the port would not, or emulates the port on
request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from examiner.codecs import latent_coding as lc
from examiner.codecs.hific.model import SCALE_LOWER_BOUND, HificConfig, HificModel, build_model
from examiner.codecs.hific.reference_coder import reference_decoded_symbols
from examiner.codecs.latent_tiling import TilePlan, plan_tiles, tiled_apply
from examiner.codecs.torch_checkpoint import load_checkpoint
from examiner.errors import CodecError, WeightsError

MAGIC = b"MXH1"
LIKELIHOODS = ("gaussian", "logistic")
CODER_SCALES = lc.scale_table(SCALE_LOWER_BOUND, 256.0, 64)
# Receptive-field margins that make tiling exact: the generator sees about 21 latent pixels
# around each output pixel (9 residual blocks of two 3x3 convolutions, plus the head and the
# up-sampling layers); the encoder about 50 image pixels.
GENERATOR_MARGIN = 24
ENCODER_MARGIN = 64


@dataclass
class HificLatents:
    height: int
    width: int
    y_symbols: np.ndarray  # (C, h, w) int64, at the padded latent size
    z_symbols: np.ndarray  # (Cz, hz, wz) int64
    mu: Tensor  # (1, C, h, w) float32
    sigma: Tensor
    extras: dict[str, Any] = field(default_factory=dict)

    def y_hat(self, symbols: np.ndarray | None = None) -> Tensor:
        sym = self.y_symbols if symbols is None else symbols
        return torch.from_numpy(sym.astype(np.float32))[None].to(self.mu.device, self.mu.dtype) + self.mu


class HificEngine:
    def __init__(self, checkpoint: Mapping[str, Any], device: str = "cpu", dtype: torch.dtype = torch.float32):
        if not isinstance(checkpoint, Mapping) or "model_state_dict" not in checkpoint:
            raise WeightsError("not a HiFiC checkpoint: it holds no 'model_state_dict'")
        args = checkpoint.get("args") or {}
        if not isinstance(args, Mapping):
            raise WeightsError("HiFiC checkpoint 'args' is not a dictionary")
        self.args = dict(args)
        self.config: HificConfig = HificConfig.from_checkpoint(checkpoint["model_state_dict"], args)
        try:
            model = build_model(self.config, checkpoint["model_state_dict"])
        except RuntimeError as exc:  # shape mismatches raised by load_state_dict
            raise WeightsError(f"HiFiC checkpoint does not fit its own layout ({str(exc)[:300]})") from exc
        self.device = device
        self.dtype = dtype
        self.model: HificModel = model.to(device=device, dtype=dtype)
        self.n_parameters = sum(p.numel() for p in self.model.parameters())

    @classmethod
    def from_file(
        cls, path: str | Path, expected_sha256: str | None = None, device: str = "cpu", dtype: torch.dtype = torch.float32
    ) -> tuple[HificEngine, str]:
        obj, sha = load_checkpoint(path, expected_sha256)
        try:
            return cls(obj, device, dtype), sha
        except WeightsError as exc:
            raise WeightsError(f"{path}: {exc}") from exc

    # --- encoder side --------------------------------------------------------------------

    def _prepare(self, x01: Tensor) -> Tensor:
        x = x01.to(self.device, self.dtype)
        if self.config.normalize_input_image:
            x = (x - 0.5) / 0.5
        return x

    @staticmethod
    def _pad_bottom_right(x: Tensor, factor: int, what: str) -> Tensor:
        h, w = x.shape[-2:]
        ph, pw = (factor - h % factor) % factor, (factor - w % factor) % factor
        if ph == 0 and pw == 0:
            return x
        if ph >= h or pw >= w:
            raise CodecError(f"{what} of {h}x{w} is too small to pad by reflection to a multiple of {factor}")
        return F.pad(x, (0, pw, 0, ph), mode="reflect")

    def hyper_decode(self, z_hat: Tensor) -> tuple[Tensor, Tensor]:
        hp = self.model.Hyperprior
        mu = hp.synthesis_mu(z_hat)
        sigma = torch.clamp(hp.synthesis_std(z_hat), min=SCALE_LOWER_BOUND)
        return mu, sigma

    @torch.no_grad()
    def analyse(self, x01: Tensor, tiles: TilePlan | None = None, keep: bool = False) -> HificLatents:
        height, width = x01.shape[-2:]
        x = self._pad_bottom_right(self._prepare(x01), 16, "image")
        if tiles is None:
            y = self.model.Encoder(x)
        else:
            y = tiled_apply(self.model.Encoder, x, Fraction(1, 16), tiles)
        y_pad = self._pad_bottom_right(y, 4, "latent")
        if min(y_pad.shape[-2:]) < 8:
            # The hyper-analysis pads by reflection by 2 after halving the latent once; the port
            # fails on smaller images in the same way.
            raise CodecError(f"HiFiC needs images of at least 113 pixels on each side, got {height}x{width}")
        if not bool(torch.isfinite(y_pad).all()):
            raise CodecError("the HiFiC encoder produced non-finite latents (damaged checkpoint?)")
        z = self.model.Hyperprior.analysis_net(y_pad)
        z_sym = torch.floor(z + 0.5)
        mu, sigma = self.hyper_decode(z_sym)
        y_sym = torch.floor((y_pad + 0.5) - mu)
        extras: dict[str, Any] = {}
        if keep:
            extras = {"input": x, "y": y, "y_padded": y_pad, "z": z}
        return HificLatents(
            int(height),
            int(width),
            y_sym[0].to("cpu", torch.float64).numpy().astype(np.int64),
            z_sym[0].to("cpu", torch.float64).numpy().astype(np.int64),
            mu,
            sigma,
            extras,
        )

    # --- entropy coding ------------------------------------------------------------------

    def z_pmfs(self, lo: int, hi: int) -> np.ndarray:
        density = self.model.Hyperprior.hyperlatent_likelihood
        channels = self.config.hyper_filters
        values = torch.arange(lo, hi + 1, dtype=torch.float32)
        grid = values.to(self.device, self.dtype).expand(channels, 1, -1).contiguous()
        with torch.no_grad():
            pmf = density.pmf(grid)[:, 0, :]
        return np.maximum(pmf.to("cpu", torch.float64).numpy(), 1e-12)

    def theoretical_bits(self, lat: HificLatents) -> float:
        """Ideal code length under the model's own likelihoods (what the port reports as bpp)."""
        sigma = lat.sigma[0].to("cpu", torch.float64).numpy()
        return lc.hyperprior_information_bits(
            lat.y_symbols, sigma, self.config.likelihood_type, lat.z_symbols, self.z_pmfs
        )

    def encode_bitstream(self, lat: HificLatents) -> bytes:
        sigma = lat.sigma[0].to("cpu", torch.float64).numpy()
        (zlo, zhi, ylo, yhi), z_words, y_words = lc.encode_hyperprior(
            lat.z_symbols, self.z_pmfs, lat.y_symbols, sigma, self.config.likelihood_type, CODER_SCALES
        )
        c, h, w = lat.y_symbols.shape
        _, hz, wz = lat.z_symbols.shape
        fields = [lat.height, lat.width, c, h, w, hz, wz, zlo, zhi, ylo, yhi, LIKELIHOODS.index(self.config.likelihood_type)]
        return lc.pack(MAGIC, fields, [z_words, y_words])

    @torch.no_grad()
    def decode_bitstream(self, data: bytes) -> HificLatents:
        fields, (z_words, y_words) = lc.unpack(MAGIC, data, 2)
        if len(fields) != 12:
            raise CodecError("HiFiC bitstream header has the wrong number of fields")
        height, width, c, h, w, hz, wz, zlo, zhi, ylo, yhi, lk = fields
        if c != self.config.latent_channels or lk != LIKELIHOODS.index(self.config.likelihood_type):
            raise CodecError("HiFiC bitstream was made with a different model")
        if not (lc.symbol_range_fits(zlo, zhi) and lc.symbol_range_fits(ylo, yhi)):
            raise CodecError("HiFiC bitstream header is corrupt (symbol range)")
        z_sym = lc.decode_per_channel(z_words, self.z_pmfs(zlo, zhi), zlo, (self.config.hyper_filters, hz, wz))
        z_hat = torch.from_numpy(z_sym.astype(np.float32))[None].to(self.device, self.dtype)
        mu, sigma = self.hyper_decode(z_hat)
        if tuple(mu.shape[-2:]) != (h, w):
            raise CodecError("HiFiC bitstream header is inconsistent (latent size)")
        s64 = sigma[0].to("cpu", torch.float64).numpy()
        y_sym = lc.decode_conditional(y_words, s64, self.config.likelihood_type, CODER_SCALES, ylo, yhi)
        return HificLatents(height, width, y_sym, z_sym, mu, sigma)

    # --- decoder side --------------------------------------------------------------------

    @torch.no_grad()
    def synthesise(
        self, y_hat: Tensor, height: int, width: int, tiles: TilePlan | None = None,
        on_tile: Callable[[int, int], None] | None = None,
    ) -> Tensor:
        """Decoder output in [0, 1], (1, 3, height, width), float32 on the CPU."""
        if tiles is None:
            g = self.model.Generator(y_hat)
        else:
            g = tiled_apply(self.model.Generator, y_hat, Fraction(16), tiles, on_tile)
        if self.config.normalize_input_image:
            g = torch.tanh(g)
        g = g[:, :, :height, :width]
        if self.config.normalize_input_image:
            g = (g + 1.0) / 2.0
        return torch.clamp(g, 0.0, 1.0).to("cpu", torch.float32)

    def reference_symbols(self, lat: HificLatents) -> np.ndarray:
        sigma = lat.sigma[0].to("cpu", torch.float32).numpy()
        return reference_decoded_symbols(lat.y_symbols, sigma, self.config.likelihood_type)


def plan_for(height: int, width: int, budget_pixels: int | None) -> tuple[TilePlan | None, TilePlan | None]:
    """Encoder and generator tile plans for an image, or ``(None, None)`` when it fits the budget.

    Tiles are square; their core is chosen so that core plus margins stays near the budget."""
    if budget_pixels is None or height * width <= budget_pixels:
        return None, None
    side = int(budget_pixels**0.5)
    core_lat = max(4, side // 16 - 2 * GENERATOR_MARGIN)
    core_img = max(64, (side - 2 * ENCODER_MARGIN) // 16 * 16)
    hp, wp = -(-height // 16), -(-width // 16)
    hp4, wp4 = -(-hp // 4) * 4, -(-wp // 4) * 4
    enc = plan_tiles(hp * 16, wp * 16, core_img, ENCODER_MARGIN, 16)
    gen = plan_tiles(hp4, wp4, core_lat, GENERATOR_MARGIN, 1)
    return enc, gen
