"""Speed and memory of the in-process generative codecs (HiFiC, CDC), in seconds per megapixel.

Full-size models are built with random weights at the published widths (HiFiC: encoder 60..960,
C = 220, 9 residual blocks; CDC: dim 64, layout from the conformance key list when present), so
the figures hold for the official checkpoints. The reduced conformance checkpoints are timed
too when ``$EXAMINER_CONFORMANCE_DIR`` (default ../shared/conformance) is there.

Usage: .venv/bin/python bench/bench_generative_codecs.py [--size 256] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examiner.codecs.cdc.engine import CdcEngine, initial_noise  # noqa: E402
from examiner.codecs.cdc.model import build_model as build_cdc  # noqa: E402
from examiner.codecs.hific.engine import HificEngine, plan_for  # noqa: E402
from examiner.codecs.hific.model import HificConfig, HificModel  # noqa: E402

CONFORMANCE = Path(os.environ.get("EXAMINER_CONFORMANCE_DIR", Path(__file__).resolve().parents[2] / "shared" / "conformance"))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def full_hific_checkpoint() -> dict:
    cfg = HificConfig(220, (60, 120, 240, 480, 960), (960, 480, 240, 120, 60), 9, 320,
                      ((3, 1), (3, 3), (3, 3), (1, 3)), True, "gaussian")
    torch.manual_seed(0)
    model = HificModel(cfg)
    return {"model_state_dict": model.state_dict(), "args": {"n_residual_blocks": 9, "normalize_input_image": True,
                                                             "likelihood_type": "gaussian"}}


def bench_hific(name: str, engine: HificEngine, size: int, device: str, budget: int | None = None) -> None:
    x = torch.rand(1, 3, size, size)
    enc_plan, gen_plan = plan_for(size, size, budget)
    t0 = time.perf_counter()
    lat = engine.analyse(x, tiles=enc_plan)
    bits = engine.encode_bitstream(lat)
    t1 = time.perf_counter()
    back = engine.decode_bitstream(bits)
    engine.synthesise(back.y_hat(), size, size, gen_plan)
    t2 = time.perf_counter()
    mp = size * size / 1e6
    tiles = "untiled" if gen_plan is None else f"{len(gen_plan.boxes)} generator tiles"
    print(f"{name:<34} {device:<5} {size}x{size} {tiles:<18} encode {(t1 - t0) / mp:8.2f} s/MP  "
          f"decode {(t2 - t1) / mp:8.2f} s/MP  {8 * len(bits) / size / size:.3f} bpp  peak RSS {peak_rss_mb():.0f} MB")


def bench_cdc(name: str, engine: CdcEngine, size: int, steps: int, device: str, default_steps: int) -> None:
    x = torch.rand(1, 3, size, size)
    t0 = time.perf_counter()
    lat = engine.analyse(x)
    engine.encode_bitstream(lat)
    t1 = time.perf_counter()
    ctx = engine.context(lat.y_hat())
    engine.sample(ctx, initial_noise((1, 3, size, size), 0), steps)
    t2 = time.perf_counter()
    mp = size * size / 1e6
    per_step = (t2 - t1) / steps / mp
    print(f"{name:<34} {device:<5} {size}x{size} {steps} steps        encode {(t1 - t0) / mp:8.2f} s/MP  "
          f"{per_step:8.2f} s/MP per step -> {per_step * default_steps:9.1f} s/MP at {default_steps} steps  "
          f"peak RSS {peak_rss_mb():.0f} MB")


def full_cdc_engine(variant: str, device: str) -> CdcEngine | None:
    name = "xparam" if variant == "x" else "epsilonparam"
    spec_path = CONFORMANCE / "cdc" / f"cdc_{name}_full_config_keys.json"
    if not spec_path.exists():
        return None
    spec = json.loads(spec_path.read_text())["configs"]["lpips_weight_0.0"]["model_state_dict"]
    shapes = {k: torch.empty(s, device="meta") for k, s, _ in spec}
    model = build_cdc(shapes, device="meta", load=False)
    torch.manual_seed(0)
    state = {}
    for k, v in model.state_dict().items():
        state[k] = torch.randn(v.shape) * 0.02 if not k.startswith("train_") else torch.linspace(1.0, 1e-4, v.shape[0])
    for k in state:
        if k.endswith(".g"):
            state[k] = torch.ones_like(state[k])
    entry = "ema" if variant == "x" else "model"
    ckpt = {entry: {("ema_model." + k if entry == "ema" else k): v for k, v in state.items()}}
    return CdcEngine(ckpt, variant, device)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = args.device
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {dev}")
    with torch.no_grad():
        hific = HificEngine(full_hific_checkpoint(), dev)
        print(f"HiFiC full size: {hific.n_parameters / 1e6:.1f} M parameters")
        bench_hific("HiFiC full size (random weights)", hific, args.size, dev)
        bench_hific("HiFiC full size, tiled", hific, args.size, dev, budget=(args.size // 2) ** 2)
        del hific
        for variant, steps in (("x", 65), ("eps", 200)):
            eng = full_cdc_engine(variant, dev)
            if eng is not None:
                print(f"CDC {variant} full size: {eng.n_parameters / 1e6:.1f} M parameters")
                bench_cdc(f"CDC {variant} full size (random weights)", eng, min(args.size, 128), 2, dev, steps)
                del eng
        if (CONFORMANCE / "hific").exists():
            red, _ = HificEngine.from_file(CONFORMANCE / "hific" / "hific_reduced_gauss_norm.pt", device=dev)
            bench_hific("HiFiC reduced conformance ckpt", red, args.size, dev)
            for variant, name, steps in (("x", "xparam", 65), ("eps", "epsilonparam", 200)):
                eng, _ = CdcEngine.from_file(CONFORMANCE / "cdc" / f"cdc_{name}_reduced.pt", variant, device=dev)
                bench_cdc(f"CDC {variant} reduced conformance ckpt", eng, 128, 4, dev, steps)


if __name__ == "__main__":
    main()
