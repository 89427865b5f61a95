"""Overhead of the examiner's CompressAI path over calling CompressAI directly.

Same image, same model, same process: the direct path is the reference recipe (pad, compress,
decompress, crop, clamp, round); the examiner path is ``engine.run`` with everything it adds
(weight-file hash check, input checks, bitstream serialisation and parsing, records). Runs
alternate, and medians are compared. Uses an imported official bmshj2018-hyperprior weight file
when one is in the user store, otherwise a randomly initialised model of the same size (said so
in the output). Target: at most 5 % overhead.

Usage: .venv/bin/python bench/bench_codec_overhead.py [--repeats 7] [--size 768x512] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET = 0.05


def photo_like(h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([128 + 90 * np.sin(x / 37) * np.cos(y / 53), 128 + 80 * np.cos((x + y) / 61),
                    100 + 0.25 * (x % 97) + 0.2 * (y % 89)], axis=2)  # fmt: skip
    return np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--size", default="768x512", help="WIDTHxHEIGHT (default: Kodak size)")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--quality", type=int, default=3)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))

    import torch
    import torch.nn.functional as F
    from compressai.ops import compute_padding

    from examiner.codecs import engine, registry, weights
    from examiner.codecs.api import RunOptions

    codec_id = "bmshj2018-hyperprior-mse"
    info, _ = registry.get_info(codec_id)
    tmp = tempfile.TemporaryDirectory(prefix="examiner-bench-")
    try:
        resolved = weights.resolve(info, args.quality)
        wpath, source = resolved.path, f"imported weights {resolved.path.name}"
    except Exception:  # noqa: BLE001 - no weights installed: fall back to a random model
        from random_compressai_weights import write_random_weights

        stem = f"bmshj2018-hyperprior-{args.quality}"
        wpath = write_random_weights("ScaleHyperprior", (128, 192), stem, Path(tmp.name))
        source = "a randomly initialised ScaleHyperprior(128, 192) (no official weights installed)"
    state, _ = weights.load_verified(wpath, expected_prefix=weights.parse_weight_name(wpath.name).prefix)  # type: ignore[union-attr]
    from examiner.codecs.compressai_models import build_model

    direct_model, _ = build_model("bmshj2018-hyperprior", state, str(wpath))
    direct_model = direct_model.to(args.device)
    img = photo_like(h, w)
    codec = registry.get_codec(codec_id)
    opts = RunOptions(device=args.device, weights=str(wpath))

    def direct() -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(img).to(args.device).permute(2, 0, 1).unsqueeze(0).float().div(255)
            pad, unpad = compute_padding(h, w, min_div=64)
            enc = direct_model.compress(F.pad(x, pad))
            dec = direct_model.decompress(enc["strings"], enc["shape"])
            out = F.pad(dec["x_hat"], unpad).clamp(0, 1).mul(255).round().byte()[0].permute(1, 2, 0).cpu().numpy()
            if args.device == "cuda":
                torch.cuda.synchronize()
            return out

    def examiner() -> np.ndarray:
        return engine.run(codec, img, args.quality, opts).pixels

    ref, ours = direct(), examiner()  # warm-up (also loads and caches the examiner's model)
    identical = bool(np.array_equal(ref, ours))
    times: dict[str, list[float]] = {"direct": [], "examiner": []}
    for _ in range(args.repeats):
        for name, fn in (("direct", direct), ("examiner", examiner)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    d, e = statistics.median(times["direct"]), statistics.median(times["examiner"])
    overhead = (e - d) / d
    print(f"image {w}x{h}, {codec_id} quality {args.quality} on {args.device}, model: {source}")
    print(f"direct CompressAI compress+decompress: median {d * 1000:.1f} ms over {args.repeats} runs")
    print(f"examiner engine.run:                   median {e * 1000:.1f} ms over {args.repeats} runs")
    print(f"overhead: {100 * overhead:+.1f} % (target <= {100 * TARGET:.0f} %); outputs identical: {identical}")
    tmp.cleanup()
    return 0 if overhead <= TARGET and identical else 1


if __name__ == "__main__":
    sys.exit(main())
