"""Seconds per megapixel (encode + decode) for every shipped codec, on the CPU and on a GPU
when torch sees one.

Classical codecs run on a generated 2 MP image; neural models (randomly initialised at the
official size of quality 3, since speed does not depend on weight values) on a Kodak-sized
768 x 512 image, through the examiner's engine. The autoregressive models (mbt2018,
cheng2020) code their latents sequentially and are far slower on the CPU.

Usage: .venv/bin/python bench/bench_codec_speed.py [--codecs ...] [--repeats 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

CLASSICAL = {"jpeg": 75, "webp": 75, "avif": 60, "jpegxl": 75}
NEURAL = {
    "bmshj2018-factorized-mse": ("FactorizedPrior", (128, 192), "bmshj2018-factorized-prior-3"),
    "bmshj2018-hyperprior-mse": ("ScaleHyperprior", (128, 192), "bmshj2018-hyperprior-3"),
    "mbt2018-mean-mse": ("MeanScaleHyperprior", (128, 192), "mbt2018-mean-3"),
    "mbt2018-mse": ("JointAutoregressiveHierarchicalPriors", (192, 192), "mbt2018-3"),
    "cheng2020-anchor-mse": ("Cheng2020Anchor", (128,), "cheng2020-anchor-3"),
    "cheng2020-attn-mse": ("Cheng2020Attention", (128,), "cheng2020_attn-mse-3"),
}


def photo_like(h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([128 + 90 * np.sin(x / 37) * np.cos(y / 53), 128 + 80 * np.cos((x + y) / 61),
                    100 + 0.25 * (x % 97) + 0.2 * (y % 89)], axis=2)  # fmt: skip
    return np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)


def random_weights(codec_id: str, folder: Path) -> Path:
    from random_compressai_weights import write_random_weights

    return write_random_weights(*NEURAL[codec_id], folder)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--codecs", default=",".join([*CLASSICAL, *NEURAL]))
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    from examiner.codecs import engine
    from examiner.codecs.api import RunOptions

    devices = ["cpu"] + (["cuda"] if engine.cuda_available() else [])
    big, kodak = photo_like(1200, 1600), photo_like(512, 768)
    print(f"{'codec':28s} {'device':6s} {'image':>10s} {'s/MP enc':>9s} {'s/MP dec':>9s} {'s/MP total':>10s}  bpp")
    with tempfile.TemporaryDirectory(prefix="examiner-bench-") as tmp:
        for codec_id in args.codecs.split(","):
            neural = codec_id in NEURAL
            img = kodak if neural else big
            mp = img.shape[0] * img.shape[1] / 1e6
            opts_weights = str(random_weights(codec_id, Path(tmp))) if neural else None
            quality = 3 if neural else CLASSICAL[codec_id]
            for device in devices if neural else ["cpu"]:
                opts = RunOptions(device=device, weights=opts_weights)
                try:
                    engine.run(codec_id, img[:128, :128].copy(), quality, opts)  # warm-up
                    best = None
                    for _ in range(args.repeats):
                        rec = engine.run(codec_id, img, quality, opts)
                        if best is None or rec.encode_s + rec.decode_s < best.encode_s + best.decode_s:
                            best = rec
                except Exception as exc:  # noqa: BLE001 - report and go on with the next codec
                    print(f"{codec_id:28s} {device:6s} failed: {exc}")
                    continue
                assert best is not None
                size = f"{img.shape[1]}x{img.shape[0]}"
                print(
                    f"{codec_id:28s} {device:6s} {size:>10s} {best.encode_s / mp:9.3f} {best.decode_s / mp:9.3f} "
                    f"{(best.encode_s + best.decode_s) / mp:10.3f}  {best.bpp:.3f}"
                    + ("  (random weights)" if neural else "")
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
