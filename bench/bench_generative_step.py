"""Cost of one HiFiC-style adversarial fine-tuning step of the demonstration codec's decoder.

The generative variant of the demonstration codec would fine-tune the decoder ``g_s`` of the
lowest-rate model with a conditional patch discriminator that sees the (upsampled) quantised
latent next to the image, as in HiFiC (Mentzer et al. 2020), plus the distortion term; the
encoder and entropy model stay frozen, so the rate does not change. This script times such a
step on this machine (random data, same crop and batch as the codec training) and prints the
figures the model card quotes. Run: ``.venv/bin/python bench/bench_generative_step.py``.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from examiner.training.codec_training import build_model


class ConditionalPatchDiscriminator(nn.Module):
    """HiFiC's discriminator: latent -> 12 channels, upsampled x16, concatenated with the image."""

    def __init__(self, latent_channels: int) -> None:
        super().__init__()
        self.latent = nn.Sequential(nn.Conv2d(latent_channels, 12, 3, padding=1), nn.LeakyReLU(0.2))
        layers: list[nn.Module] = []
        c = 3 + 12
        for width in (64, 128, 256, 512):
            layers += [nn.utils.spectral_norm(nn.Conv2d(c, width, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            c = width
        layers.append(nn.Conv2d(c, 1, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, image: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        z = nn.functional.interpolate(self.latent(latent), scale_factor=16, mode="nearest")
        return self.body(torch.cat([image, z], dim=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    codec = build_model(64, 96)
    disc = ConditionalPatchDiscriminator(96)
    g_opt = torch.optim.Adam(codec.g_s.parameters(), lr=1e-4)
    d_opt = torch.optim.Adam(disc.parameters(), lr=1e-4)
    x = torch.rand(args.batch, 3, args.crop, args.crop)
    bce = nn.functional.binary_cross_entropy_with_logits
    times = []
    for i in range(args.steps + 1):
        t0 = time.perf_counter()
        with torch.no_grad():
            y = codec.g_a(x)
            y_hat = torch.round(y)  # frozen encoder: the rate term is constant
        x_hat = codec.g_s(y_hat)
        d_real, d_fake = disc(x, y_hat), disc(x_hat.detach(), y_hat)
        d_loss = bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        g_adv = disc(x_hat, y_hat)
        g_loss = 0.0018 * 255**2 * nn.functional.mse_loss(x_hat, x) + 0.15 * bce(g_adv, torch.ones_like(g_adv))
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        if i > 0:  # the first step pays for allocations
            times.append(time.perf_counter() - t0)
    per_step = sum(times) / len(times)
    params = sum(p.numel() for p in disc.parameters())
    print(f"discriminator parameters: {params}")
    print(f"adversarial fine-tuning step (batch {args.batch}, crop {args.crop}, {args.threads} thread(s)): {per_step:.3f} s")
    for steps in (20_000, 50_000):
        print(f"{steps} steps: {steps * per_step / 3600:.1f} h")


if __name__ == "__main__":
    main()
