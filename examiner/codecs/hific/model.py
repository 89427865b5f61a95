"""HiFiC networks (Mentzer et al. 2020) laid out like the public PyTorch port's checkpoints.

Every channel count is read from the checkpoint's tensor shapes, never from constants, so the
full official models (HIFIC-low/med/high) and narrower test models load through the same code.
The module names reproduce the port's state-dict keys exactly (``Encoder.conv_block1.1.weight``
and so on); ``Discriminator.*`` keys are training-only and are never built.

The numerics follow the port to the letter, because a reconstruction is evidence: ChannelNorm
uses the unbiased (N-1) variance with eps 1e-3, the encoder's stride-2 blocks pad reflectively on
the right and top only, and quantisation rounds half up via ``floor(x + 0.5)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from examiner.errors import WeightsError

SCALE_LOWER_BOUND = 0.11  # floor applied to the predicted latent scales


class ChannelNorm2D(nn.Module):
    """Normalisation across channels at each pixel (unbiased variance, as the port computes it)."""

    def __init__(self, channels: int, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        mean = torch.mean(x, dim=1, keepdim=True)
        var = torch.var(x, dim=1, keepdim=True)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.gamma + self.beta


def _conv_block(pad: nn.Module, cin: int, cout: int, k: int, stride: int) -> nn.Sequential:
    return nn.Sequential(pad, nn.Conv2d(cin, cout, k, stride=stride), ChannelNorm2D(cout), nn.ReLU())


class Encoder(nn.Module):
    def __init__(self, widths: tuple[int, ...], latent_channels: int) -> None:
        super().__init__()
        if len(widths) != 5:
            raise ValueError("the HiFiC encoder has five convolution blocks")
        self.conv_block1 = _conv_block(nn.ReflectionPad2d(3), 3, widths[0], 7, 1)
        # Asymmetric padding (left 0, right 1, top 1, bottom 0) before each stride-2 convolution.
        self.conv_block2 = _conv_block(nn.ReflectionPad2d((0, 1, 1, 0)), widths[0], widths[1], 3, 2)
        self.conv_block3 = _conv_block(nn.ReflectionPad2d((0, 1, 1, 0)), widths[1], widths[2], 3, 2)
        self.conv_block4 = _conv_block(nn.ReflectionPad2d((0, 1, 1, 0)), widths[2], widths[3], 3, 2)
        self.conv_block5 = _conv_block(nn.ReflectionPad2d((0, 1, 1, 0)), widths[3], widths[4], 3, 2)
        self.conv_block_out = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(widths[4], latent_channels, 3))

    def forward(self, x: Tensor) -> Tensor:
        for block in (self.conv_block1, self.conv_block2, self.conv_block3, self.conv_block4, self.conv_block5):
            x = block(x)
        return self.conv_block_out(x)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.conv1 = nn.Conv2d(channels, channels, 3)
        self.conv2 = nn.Conv2d(channels, channels, 3)
        self.norm1 = ChannelNorm2D(channels)
        self.norm2 = ChannelNorm2D(channels)

    def forward(self, x: Tensor) -> Tensor:
        res = F.relu(self.norm1(self.conv1(self.pad(x))))
        res = self.norm2(self.conv2(self.pad(res)))
        return res + x


def _upconv_block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1), ChannelNorm2D(cout), nn.ReLU()
    )


class Generator(nn.Module):
    def __init__(self, latent_channels: int, widths: tuple[int, ...], n_residual_blocks: int) -> None:
        super().__init__()
        if len(widths) != 5:
            raise ValueError("the HiFiC generator has five widths")
        self.n_residual_blocks = n_residual_blocks
        self.conv_block_init = nn.Sequential(
            ChannelNorm2D(latent_channels),
            nn.ReflectionPad2d(1),
            nn.Conv2d(latent_channels, widths[0], 3),
            ChannelNorm2D(widths[0]),
        )  # no activation: the residual trunk and its skip start from the normalised features
        for m in range(n_residual_blocks):
            self.add_module(f"resblock_{m}", ResidualBlock(widths[0]))
        self.upconv_block1 = _upconv_block(widths[0], widths[1])
        self.upconv_block2 = _upconv_block(widths[1], widths[2])
        self.upconv_block3 = _upconv_block(widths[2], widths[3])
        self.upconv_block4 = _upconv_block(widths[3], widths[4])
        self.conv_block_out = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(widths[4], 3, 7))

    def forward(self, y_hat: Tensor) -> Tensor:
        head = self.conv_block_init(y_hat)
        x = head
        for m in range(self.n_residual_blocks):
            x = getattr(self, f"resblock_{m}")(x)
        x = x + head
        for block in (self.upconv_block1, self.upconv_block2, self.upconv_block3, self.upconv_block4):
            x = block(x)
        return self.conv_block_out(x)


class HyperAnalysis(nn.Module):
    def __init__(self, latent_channels: int, filters: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(latent_channels, filters, 3, padding=1)
        self.conv2 = nn.Conv2d(filters, filters, 5, stride=2, padding=2, padding_mode="reflect")
        self.conv3 = nn.Conv2d(filters, filters, 5, stride=2, padding=2, padding_mode="reflect")

    def forward(self, y: Tensor) -> Tensor:
        return self.conv3(F.relu(self.conv2(F.relu(self.conv1(y)))))


class HyperSynthesis(nn.Module):
    def __init__(self, filters: int, latent_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.ConvTranspose2d(filters, filters, 5, stride=2, padding=2, output_padding=1)
        self.conv2 = nn.ConvTranspose2d(filters, filters, 5, stride=2, padding=2, output_padding=1)
        self.conv3 = nn.ConvTranspose2d(filters, latent_channels, 3, stride=1, padding=1)

    def forward(self, z_hat: Tensor) -> Tensor:
        return self.conv3(F.relu(self.conv2(F.relu(self.conv1(z_hat)))))


class FactorizedDensity(nn.Module):
    """The univariate, per-channel density of the hyper-latents (Ballé et al. 2018, appendix 6.1).

    Parameters are stored as ``H_k``, ``a_k``, ``b_k`` with shapes ``(C, out, in)`` / ``(C, out, 1)``;
    the layer sizes come from those shapes."""

    def __init__(self, channels: int, layer_shapes: list[tuple[int, int]]) -> None:
        super().__init__()
        self.n_layers = len(layer_shapes)
        for k, (fan_out, fan_in) in enumerate(layer_shapes):
            self.register_parameter(f"H_{k}", nn.Parameter(torch.zeros(channels, fan_out, fan_in)))
            self.register_parameter(f"a_{k}", nn.Parameter(torch.zeros(channels, fan_out, 1)))
            self.register_parameter(f"b_{k}", nn.Parameter(torch.zeros(channels, fan_out, 1)))

    def cdf_logits(self, x: Tensor) -> Tensor:
        """``x``: (C, 1, N) -> logits of the cumulative density, same shape."""
        logits = x
        for k in range(self.n_layers):
            logits = torch.bmm(F.softplus(getattr(self, f"H_{k}")), logits) + getattr(self, f"b_{k}")
            if k < self.n_layers - 1:
                logits = logits + torch.tanh(getattr(self, f"a_{k}")) * torch.tanh(logits)
        return logits

    def pmf(self, symbols: Tensor) -> Tensor:
        """Probability of each integer in ``symbols`` (C, 1, N), evaluated on the sigmoid's
        flatter side for accuracy."""
        upper = self.cdf_logits(symbols + 0.5)
        lower = self.cdf_logits(symbols - 0.5)
        # Evaluate on the flatter side of the sigmoid; an exact tie may take either side.
        sign = torch.where(upper + lower > 0, -1.0, 1.0).to(upper.dtype)
        return torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))


class Hyperprior(nn.Module):
    def __init__(self, latent_channels: int, filters: int, density_layers: list[tuple[int, int]]) -> None:
        super().__init__()
        self.analysis_net = HyperAnalysis(latent_channels, filters)
        self.synthesis_mu = HyperSynthesis(filters, latent_channels)
        self.synthesis_std = HyperSynthesis(filters, latent_channels)
        self.hyperlatent_likelihood = FactorizedDensity(filters, density_layers)


@dataclass(frozen=True)
class HificConfig:
    """The shape of a HiFiC model plus the two processing switches read from ``args``."""

    latent_channels: int
    encoder_widths: tuple[int, ...]
    generator_widths: tuple[int, ...]
    n_residual_blocks: int
    hyper_filters: int
    density_layers: tuple[tuple[int, int], ...]
    normalize_input_image: bool
    likelihood_type: str  # gaussian | logistic

    @classmethod
    def from_checkpoint(cls, state: Mapping[str, Any], args: Mapping[str, Any]) -> HificConfig:
        def shape(key: str) -> tuple[int, ...]:
            if key not in state:
                raise WeightsError(f"not a HiFiC checkpoint: key {key!r} is missing")
            return tuple(state[key].shape)

        enc = tuple(shape(f"Encoder.conv_block{i}.1.weight")[0] for i in range(1, 6))
        latent = shape("Encoder.conv_block_out.1.weight")[0]
        gen0 = shape("Generator.conv_block_init.2.weight")[0]
        gen = (gen0,) + tuple(shape(f"Generator.upconv_block{i}.0.weight")[1] for i in range(1, 5))
        n_res = 0
        while f"Generator.resblock_{n_res}.conv1.weight" in state:
            n_res += 1
        hyper = shape("Hyperprior.analysis_net.conv1.weight")[0]
        layers: list[tuple[int, int]] = []
        while f"Hyperprior.hyperlatent_likelihood.H_{len(layers)}" in state:
            h = shape(f"Hyperprior.hyperlatent_likelihood.H_{len(layers)}")
            layers.append((h[1], h[2]))
        if not layers:
            raise WeightsError("not a HiFiC checkpoint: the hyper-latent density is missing")
        declared = args.get("n_residual_blocks")
        if declared is not None and int(declared) != n_res:
            raise WeightsError(
                f"HiFiC checkpoint is inconsistent: args say {declared} residual blocks, weights hold {n_res}"
            )
        likelihood = str(args.get("likelihood_type", "gaussian"))
        if likelihood not in ("gaussian", "logistic"):
            raise WeightsError(f"HiFiC checkpoint uses an unsupported likelihood_type {likelihood!r}")
        if args.get("use_latent_mixture_model"):
            raise WeightsError("HiFiC checkpoints with the latent mixture model are not supported")
        return cls(
            latent_channels=latent,
            encoder_widths=enc,
            generator_widths=gen,
            n_residual_blocks=n_res,
            hyper_filters=hyper,
            density_layers=tuple(layers),
            normalize_input_image=bool(args.get("normalize_input_image", False)),
            likelihood_type=likelihood,
        )


class HificModel(nn.Module):
    """Encoder, generator and hyperprior; its ``state_dict`` keys equal the port's evaluation
    keys minus the entropy-coding tables it builds at load time."""

    def __init__(self, config: HificConfig) -> None:
        super().__init__()
        self.config = config
        self.Encoder = Encoder(config.encoder_widths, config.latent_channels)
        self.Generator = Generator(config.latent_channels, config.generator_widths, config.n_residual_blocks)
        self.Hyperprior = Hyperprior(config.latent_channels, config.hyper_filters, list(config.density_layers))


def decoder_state(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """The checkpoint entries the model uses: discriminator keys are dropped."""
    return {k: v for k, v in state.items() if not k.startswith("Discriminator.")}


def build_model(config: HificConfig, state: Mapping[str, Tensor] | None = None, device: str = "cpu") -> HificModel:
    """Build on ``device`` ("meta" allocates nothing) and, given ``state``, load it strictly."""
    with torch.device(device):
        model = HificModel(config)
    if state is not None:
        wanted = decoder_state(state)
        missing, unexpected = model.load_state_dict(wanted, strict=False)
        if missing or unexpected:
            raise WeightsError(
                "HiFiC checkpoint does not fit the model built from its own shapes: "
                f"missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}"
            )
    return model.eval().requires_grad_(False)
