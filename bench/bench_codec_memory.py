"""Peak resident memory when re-compressing a 24-megapixel image on the CPU.

Each codec runs in a fresh subprocess (so peaks do not mix) on a generated 6000 x 4000 RGB
image, through the examiner's engine with its default tile budget, including the PSNR and
MS-SSIM the `recompress` command computes. Neural models are randomly initialised at the
size of the official zoo configurations (the official weights are not needed to measure
memory: activations, not weight values, dominate). Target: under 4 GiB peak RSS.

Usage: .venv/bin/python bench/bench_codec_memory.py [--codecs jpeg,bmshj2018-hyperprior-mse,...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIB = 1024**3
TARGET_GIB = 4.0
HEIGHT, WIDTH = 4000, 6000
# Random models at the largest official configuration of each architecture.
MODELS = {
    "bmshj2018-hyperprior-mse": ("ScaleHyperprior", (192, 320), "bmshj2018-hyperprior-8"),
    "mbt2018-mean-mse": ("MeanScaleHyperprior", (192, 320), "mbt2018-mean-8"),
    "bmshj2018-factorized-mse": ("FactorizedPrior", (192, 320), "bmshj2018-factorized-prior-8"),
}
QUALITY = {"jpeg": 75, "webp": 75, "avif": 60, "jpegxl": 75}

CHILD = r"""
import json, resource, sys, time, hashlib, io
import numpy as np
sys.path.insert(0, sys.argv[2])
from codec_image import generated
from examiner.codecs import engine
from examiner.codecs.api import RunOptions
cfg = json.loads(sys.argv[1])
img = generated(cfg["height"], cfg["width"])
opts = RunOptions(device="cpu", weights=cfg.get("weights"), params=cfg.get("params", {}))
t0 = time.perf_counter()
rec = engine.run(cfg["codec"], img, cfg["quality"], opts)
run_s = time.perf_counter() - t0
after_run = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
ps = engine.psnr(img, rec.pixels)
ms = engine.ms_ssim(img, rec.pixels)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"peak_rss": peak, "peak_rss_codec": after_run, "run_s": run_s, "bpp": rec.bpp, "psnr": ps,
                  "ms_ssim": ms, "tiled": rec.tiled, "tiles": (rec.tiles or {}).get("count", 1)}))
"""

IMAGE_HELPER = '''
import numpy as np

def generated(h, w):
    """Deterministic photo-like test image built row block by row block (bounded memory)."""
    out = np.empty((h, w, 3), dtype=np.uint8)
    x = np.arange(w, dtype=np.float32)[None, :]
    rng = np.random.default_rng(0)
    for y0 in range(0, h, 500):
        y = np.arange(y0, min(h, y0 + 500), dtype=np.float32)[:, None]
        r = 128 + 90 * np.sin(x / 37.0) * np.cos(y / 53.0)
        g = 128 + 80 * np.cos((x + y) / 61.0)
        b = 100 + 0.25 * (x % 97) + 0.2 * (y % 89)
        block = np.stack(np.broadcast_arrays(r, g, b), axis=2) + rng.normal(0, 4, (len(y), w, 3))
        out[y0 : y0 + len(y)] = np.clip(block, 0, 255).astype(np.uint8)
    return out
'''


def make_weights(codec_id: str, folder: Path) -> str:
    from random_compressai_weights import write_random_weights

    return str(write_random_weights(*MODELS[codec_id], folder))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--codecs", default="jpeg,jpegxl,bmshj2018-hyperprior-mse,mbt2018-mean-mse")
    ap.add_argument("--height", type=int, default=HEIGHT)
    ap.add_argument("--width", type=int, default=WIDTH)
    args = ap.parse_args()
    repo = Path(__file__).resolve().parent.parent
    mp = args.height * args.width / 1e6
    print(f"peak RSS for a {args.width}x{args.height} ({mp:.1f} MP) RGB image on the CPU; target < {TARGET_GIB} GiB")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="examiner-bench-") as tmp:
        tmpd = Path(tmp)
        (tmpd / "codec_image.py").write_text(IMAGE_HELPER)
        env = dict(os.environ, EXAMINER_DATA_DIR=str(tmpd / "data"), EXAMINER_CONFIG_DIR=str(tmpd / "config"))
        for codec_id in args.codecs.split(","):
            cfg: dict[str, object] = {"codec": codec_id, "height": args.height, "width": args.width}
            if codec_id in MODELS:
                cfg["weights"] = make_weights(codec_id, tmpd)
                cfg["quality"] = 8
                note = f"random-initialised {MODELS[codec_id][0]}{MODELS[codec_id][1]}"
            else:
                cfg["quality"] = QUALITY.get(codec_id, 75)
                note = f"quality {cfg['quality']}"
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, json.dumps(cfg), str(tmpd)],
                cwd=repo, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                failures += 1
                print(f"{codec_id:28s} FAILED: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            peak = r["peak_rss"] / GIB
            ok = "OK" if peak < TARGET_GIB else "OVER TARGET"
            failures += peak >= TARGET_GIB
            print(
                f"{codec_id:28s} peak RSS {peak:5.2f} GiB (codec run {r['peak_rss_codec'] / GIB:5.2f} GiB) {ok}; "
                f"{r['tiles']} tile(s); run {r['run_s']:.1f} s, wall {wall:.1f} s; {r['bpp']:.3f} bpp; {note}"
            )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
