"""CDC networks (Yang & Mandt 2023): the conditional U-Net denoiser and the context compressor.

Module names reproduce the official checkpoints' keys (``denoise_fn.downs.0.0.block1.block.0``,
``context_fn.enc.3.1.conv``, ...). Both published parameterisations are covered: x-prediction
(``ResnetCompressor``, encoder levels ``[resnet, down]``) and epsilon-prediction
(``BigCompressor``, levels ``[resnet, placeholder, down]`` with a 3-channel finest context). Every
width, kernel and level count is read from the state-dict shapes, so the official dim = 64
models and narrower ones load through the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from examiner.errors import WeightsError


class LayerNorm(nn.Module):
    """Channel LayerNorm with biased variance and eps 1e-5, as CDC defines it."""

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))
        self.b = nn.Parameter(torch.zeros(1, dim, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        var = torch.var(x, dim=1, unbiased=False, keepdim=True)
        mean = torch.mean(x, dim=1, keepdim=True)
        return (x - mean) / (var + self.eps).sqrt() * self.g + self.b


class Block(nn.Module):
    def __init__(self, dim: int, dim_out: int, kernel: int) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(dim, dim_out, kernel, padding=kernel // 2), LayerNorm(dim_out), nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        return self.block(x)


class ResnetBlock(nn.Module):
    def __init__(self, dim: int, dim_out: int, time_dim: int | None, kernel: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.LeakyReLU(0.2), nn.Linear(time_dim, dim_out)) if time_dim else None
        self.block1 = Block(dim, dim_out, kernel)
        self.block2 = Block(dim_out, dim_out, 3)
        self.res_conv: nn.Module = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x: Tensor, t: Tensor | None = None) -> Tensor:
        h = self.block1(x)
        if self.mlp is not None and t is not None:
            h = h + self.mlp(t)[:, :, None, None]
        h = self.block2(h)
        return h + self.res_conv(x)


class LinearAttention(nn.Module):
    """One head, head width = channels; softmax over positions on the keys only."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.scale = dim**-0.5
        self.to_qkv = nn.Conv2d(dim, dim * 3, 1, bias=False)
        self.to_out = nn.Conv2d(dim, dim, 1)

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        q, k, v = self.to_qkv(x).reshape(b, 3, c, h * w).unbind(dim=1)
        q = q * self.scale
        k = k.softmax(dim=-1)
        context = torch.einsum("bdn,ben->bde", k, v)
        out = torch.einsum("bde,bdn->ben", context, q)
        return self.to_out(out.reshape(b, c, h, w))


class PreNorm(nn.Module):
    def __init__(self, dim: int, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.norm = LayerNorm(dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(self.norm(x))


class Residual(nn.Module):
    def __init__(self, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x) + x


def attention(dim: int) -> Residual:
    return Residual(PreNorm(dim, LinearAttention(dim)))


class Downsample(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, 3, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, dim: int, dim_out: int) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(dim, dim_out, 4, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


@dataclass(frozen=True)
class ResLevel:
    dim_in: int
    dim_out: int
    kernel: int
    resample: bool  # has a down/up-sampling layer
    resample_out: int  # output channels of the up-sampling layer


@dataclass(frozen=True)
class CdcConfig:
    time_hidden: int
    time_dim: int
    downs: tuple[ResLevel, ...]
    ups: tuple[ResLevel, ...]
    mid: int
    out_channels: int
    final_kernel: int
    enc: tuple[ResLevel, ...]
    dec: tuple[ResLevel, ...]
    placeholder: bool  # BigCompressor layout: resampler at index 2
    latent_channels: int
    hyper_channels: int
    prior_layers: tuple[tuple[int, int], ...]
    timesteps: int

    @property
    def context_channels(self) -> tuple[int, ...]:
        chans, prev = [], 3
        for level in self.downs:
            chans.append(level.dim_in - prev)
            prev = level.dim_out
        return tuple(c for c in chans if c > 0)

    @classmethod
    def from_state_dict(cls, sd: Mapping[str, Tensor]) -> CdcConfig:
        def shape(key: str) -> tuple[int, ...]:
            if key not in sd:
                raise WeightsError(f"not a CDC checkpoint: key {key!r} is missing")
            return tuple(sd[key].shape)

        def levels(prefix: str, res_index: int, tail: str) -> tuple[ResLevel, ...]:
            out, i = [], 0
            while f"{prefix}.{i}.0.block1.block.0.weight" in sd:
                w = shape(f"{prefix}.{i}.0.block1.block.0.weight")
                rkey = f"{prefix}.{i}.{res_index}.conv.weight"
                has = rkey in sd
                rout = shape(rkey)[1] if has and tail == "up" else w[0]
                out.append(ResLevel(w[1], w[0], w[2], has, rout))
                i += 1
            return tuple(out)

        placeholder = any(k.startswith("context_fn.enc.0.2.") for k in sd)
        rindex = 2 if placeholder else 1
        th = shape("denoise_fn.time_mlp.0.weight")
        td = shape("denoise_fn.time_mlp.2.weight")
        layers, n = [], 0
        while f"context_fn.prior.affine.{n}.weight" in sd:
            w = shape(f"context_fn.prior.affine.{n}.weight")
            layers.append((w[-2], w[-1]))
            n += 1
        cfg = cls(
            time_hidden=th[0],
            time_dim=td[0],
            downs=levels("denoise_fn.downs", 3, "down"),
            ups=levels("denoise_fn.ups", 3, "up"),
            mid=shape("denoise_fn.mid_block1.block1.block.0.weight")[0],
            out_channels=shape("denoise_fn.final_conv.1.weight")[0],
            final_kernel=shape("denoise_fn.final_conv.1.weight")[-1],
            enc=levels("context_fn.enc", rindex, "down"),
            dec=levels("context_fn.dec", rindex, "up"),
            placeholder=placeholder,
            latent_channels=shape("context_fn.hyper_enc.0.0.weight")[1],
            hyper_channels=shape("context_fn.hyper_enc.2.0.weight")[0],
            prior_layers=tuple(layers),
            timesteps=shape("train_alphas_cumprod")[0],
        )
        if not cfg.downs or not cfg.ups or not cfg.enc or not cfg.dec or not layers:
            raise WeightsError("not a CDC checkpoint: the U-Net or compressor levels are missing")
        return cfg


class Unet(nn.Module):
    def __init__(self, cfg: CdcConfig) -> None:
        super().__init__()
        self.time_mlp = nn.Sequential(nn.Linear(1, cfg.time_hidden), nn.GELU(), nn.Linear(cfg.time_hidden, cfg.time_dim))
        self.downs = nn.ModuleList()
        for lv in cfg.downs:
            self.downs.append(
                nn.ModuleList(
                    [
                        ResnetBlock(lv.dim_in, lv.dim_out, cfg.time_dim, lv.kernel),
                        ResnetBlock(lv.dim_out, lv.dim_out, cfg.time_dim, 3),
                        attention(lv.dim_out),
                        Downsample(lv.dim_out) if lv.resample else nn.Identity(),
                    ]
                )
            )
        self.mid_block1 = ResnetBlock(cfg.mid, cfg.mid, cfg.time_dim, 3)
        self.mid_attn = attention(cfg.mid)
        self.mid_block2 = ResnetBlock(cfg.mid, cfg.mid, cfg.time_dim, 3)
        self.ups = nn.ModuleList()
        for lv in cfg.ups:
            self.ups.append(
                nn.ModuleList(
                    [
                        ResnetBlock(lv.dim_in, lv.dim_out, cfg.time_dim, lv.kernel),
                        ResnetBlock(lv.dim_out, lv.dim_out, cfg.time_dim, 3),
                        attention(lv.dim_out),
                        Upsample(lv.dim_out, lv.resample_out) if lv.resample else nn.Identity(),
                    ]
                )
            )
        final = cfg.ups[-1].resample_out
        self.final_conv = nn.Sequential(
            LayerNorm(final), nn.Conv2d(final, cfg.out_channels, cfg.final_kernel, padding=cfg.final_kernel // 2)
        )

    def forward(self, x: Tensor, time: Tensor, context: list[Tensor]) -> Tensor:
        t = self.time_mlp(time)
        skips = []
        for idx, (block1, block2, attn, down) in enumerate(self.downs):
            if idx < len(context):
                x = torch.cat([x, context[idx]], dim=1)
            x = block2(block1(x, t), t)
            x = attn(x)
            skips.append(x)
            x = down(x)
        x = self.mid_block2(self.mid_attn(self.mid_block1(x, t)), t)
        for block1, block2, attn, up in self.ups:
            x = torch.cat([x, skips.pop()], dim=1)
            x = attn(block2(block1(x, t), t))
            x = up(x)
        return self.final_conv(x)


class FlexiblePrior(nn.Module):
    """Factorised density of the hyper-latents; per-channel monotone MLP on the CDF logits."""

    def __init__(self, channels: int, layers: tuple[tuple[int, int], ...]) -> None:
        super().__init__()
        self._medians = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.affine = nn.ModuleList()
        for fan_in, fan_out in layers:
            lin = nn.Module()
            lin.weight = nn.Parameter(torch.zeros(channels, 1, 1, fan_in, fan_out))
            lin.bias = nn.Parameter(torch.zeros(channels, 1, 1, 1, fan_out))
            self.affine.append(lin)
        self.a = nn.ParameterList([nn.Parameter(torch.zeros(channels, 1, 1, 1, fo)) for _, fo in layers[:-1]])

    @property
    def medians(self) -> Tensor:
        return self._medians

    def cdf_logits(self, x: Tensor) -> Tensor:
        """``x``: (C, 1, 1, N) -> (C, 1, 1, N)."""
        h = x.unsqueeze(-1)
        for i, lin in enumerate(self.affine):
            h = torch.matmul(h, F.softplus(lin.weight)) + lin.bias
            if i < len(self.a):
                h = h + torch.tanh(self.a[i]) * torch.tanh(h)
        return h.squeeze(-1)

    def pmf(self, x: Tensor) -> Tensor:
        upper = self.cdf_logits(x + 0.5)
        lower = self.cdf_logits(x - 0.5)
        # Evaluate on the flatter side of the sigmoid; an exact tie may take either side.
        sign = torch.where(upper + lower > 0, -1.0, 1.0).to(upper.dtype)
        return torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))


class Compressor(nn.Module):
    def __init__(self, cfg: CdcConfig) -> None:
        super().__init__()
        self.placeholder = cfg.placeholder
        self.enc = nn.ModuleList()
        for i, lv in enumerate(cfg.enc):
            parts: list[nn.Module] = [ResnetBlock(lv.dim_in, lv.dim_out, None, lv.kernel)]
            if cfg.placeholder:
                parts.append(nn.Identity())
            parts.append(Downsample(lv.dim_out))
            self.enc.append(nn.ModuleList(parts))
            del i
        self.dec = nn.ModuleList()
        for lv in cfg.dec:
            parts = [ResnetBlock(lv.dim_in, lv.dim_out, None, lv.kernel)]
            if cfg.placeholder:
                parts.append(nn.Identity())
            parts.append(Upsample(lv.dim_out, lv.resample_out))
            self.dec.append(nn.ModuleList(parts))
        c, hc = cfg.latent_channels, cfg.hyper_channels
        self.hyper_enc = nn.ModuleList(
            [
                nn.Sequential(nn.Conv2d(c, hc, 3, 1, 1), nn.LeakyReLU(0.2)),
                nn.Sequential(nn.Conv2d(hc, hc, 5, 2, 2), nn.LeakyReLU(0.2)),
                nn.Sequential(nn.Conv2d(hc, hc, 5, 2, 2)),
            ]
        )
        self.hyper_dec = nn.ModuleList(
            [
                nn.Sequential(nn.ConvTranspose2d(hc, hc, 5, 2, 2, 1), nn.LeakyReLU(0.2)),
                nn.Sequential(nn.ConvTranspose2d(hc, hc, 5, 2, 2, 1), nn.LeakyReLU(0.2)),
                nn.Sequential(nn.Conv2d(hc, 2 * c, 3, 1, 1)),
            ]
        )
        self.prior = FlexiblePrior(hc, cfg.prior_layers)

    def encode(self, x: Tensor) -> Tensor:
        for level in self.enc:
            x = level[-1](level[0](x))
        return x

    def hyper_encode(self, y: Tensor) -> Tensor:
        for layer in self.hyper_enc:
            y = layer(y)
        return y

    def hyper_decode(self, z_hat: Tensor) -> tuple[Tensor, Tensor]:
        h = z_hat
        for layer in self.hyper_dec:
            h = layer(h)
        mean, scale = h.chunk(2, dim=1)
        return mean, scale.clamp(min=0.1)

    def decode(self, y_hat: Tensor) -> list[Tensor]:
        """Context feature maps, finest first."""
        out = []
        x = y_hat
        for level in self.dec:
            x = level[-1](level[0](x))
            out.append(x)
        return out[::-1]


SCHEDULE_KEYS_X = (
    "train_snr",
    "train_betas",
    "train_alphas_cumprod",
    "train_sqrt_alphas_cumprod",
    "train_sqrt_one_minus_alphas_cumprod",
    "train_sqrt_recip_alphas_cumprod",
    "train_sqrt_recipm1_alphas_cumprod",
)


class CdcModel(nn.Module):
    """``denoise_fn``, ``context_fn`` and the training schedule buffers, keyed as the official
    ``GaussianDiffusion`` state dict (without the LPIPS loss network)."""

    def __init__(self, cfg: CdcConfig, schedule_keys: tuple[str, ...]) -> None:
        super().__init__()
        self.config = cfg
        self.denoise_fn = Unet(cfg)
        self.context_fn = Compressor(cfg)
        for key in schedule_keys:
            self.register_buffer(key, torch.zeros(cfg.timesteps))

    @property
    def alphas_cumprod(self) -> Tensor:
        return self.train_alphas_cumprod


def select_state(checkpoint: Mapping[str, object], entry: str) -> dict[str, Tensor]:
    """The decoder's state dict from an official container: ``ema`` -> its ``ema_model.*``
    weights (x-parameterisation), ``model`` -> as is; LPIPS keys dropped."""
    if not isinstance(checkpoint, Mapping) or entry not in checkpoint:
        raise WeightsError(f"not a CDC checkpoint: it holds no {entry!r} entry")
    raw = checkpoint[entry]
    if not isinstance(raw, Mapping):
        raise WeightsError(f"CDC checkpoint entry {entry!r} is not a state dict")
    if entry == "ema":
        prefix = "ema_model."
        state = {k[len(prefix) :]: v for k, v in raw.items() if k.startswith(prefix)}
        if not state:
            raise WeightsError("CDC checkpoint 'ema' entry holds no 'ema_model.*' weights")
    else:
        state = dict(raw)
    return {k: v for k, v in state.items() if not k.startswith("loss_fn_vgg.") and isinstance(v, Tensor)}


def build_model(state: Mapping[str, Tensor], device: str = "cpu", load: bool = True) -> CdcModel:
    cfg = CdcConfig.from_state_dict(state)
    schedule = tuple(k for k in SCHEDULE_KEYS_X if k in state)
    if "train_alphas_cumprod" not in schedule:
        raise WeightsError("CDC checkpoint lacks the train_alphas_cumprod schedule")
    with torch.device(device):
        model = CdcModel(cfg, schedule)
    if load:
        try:
            model.load_state_dict(dict(state), strict=True)
        except RuntimeError as exc:
            raise WeightsError(f"CDC checkpoint does not fit the model built from its shapes ({str(exc)[:400]})") from exc
    return model.eval().requires_grad_(False)
