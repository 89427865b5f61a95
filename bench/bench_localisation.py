"""Localisation of neural content pasted into a camera image: IoU with the pasted box.

    python bench/bench_localisation.py --data /work/detector-data --shared ../shared/data [--write-json OUT]

Splices: for every Kodak image and every decoder whose output of that image exists (the project's
own codecs, the demonstration codec, SwinT-ChARM, the checkerboard codec), a box of 192-320 pixels
a side at a random place is copied from the decoded image into the original. Untouched images:
every negative of the detector v3 data set (originals, JPEG, WebP, AVIF, JPEG XL, resized,
cropped, sharpened, noisy, re-saved, camera-like).

The flagging threshold is set on the untouched images of kodim01-12 (95 % of them flag nothing);
every figure is measured on kodim13-24 only. Targets (issue 14): IoU >= 0.5 on at least 80 % of
splices, nothing flagged on at least 95 % of untouched images.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from examiner.analysis import localise, lofo

sys.path.insert(0, str(Path(__file__).resolve().parent))


def decoded_dirs(data: Path, shared: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for d in sorted((data / "codecs").iterdir()):
        sub = d / "decoded" if (d / "decoded").is_dir() else d
        if (sub / "kodim01.png").is_file():
            out[d.name] = sub
    for name in ("swint-charm", "checkerboard"):
        out[name] = shared / "neural-dev" / name
    return out


def _decoded(folder: Path, stem: str) -> Path | None:
    hits = sorted(folder.glob(f"{stem}*.png"))
    return hits[0] if hits else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--shared", type=Path, required=True)
    ap.add_argument("--write-json", type=Path, default=None)
    args = ap.parse_args()
    items = [it for it in lofo.load_items(args.data / "images") if it.label == 0]
    from examiner.core.evidence import open_evidence

    untouched: dict[str, list[float]] = {"calibration": [], "test": []}
    for it in items:
        split = "calibration" if it.source.startswith("kodim") and int(it.source[5:7]) <= 12 else "test"
        z = localise.coherence_map(open_evidence(args.data / "images" / it.rel).pixels)
        untouched[split].append(float(z.max()) if z.size else -np.inf)
    threshold = float(np.quantile(untouched["calibration"], 0.95))
    rng = np.random.default_rng(14)
    per_family: dict[str, list[float]] = {}
    for fam, folder in decoded_dirs(args.data, args.shared).items():
        for i in range(13, 25):
            stem = f"kodim{i:02d}"
            dec = _decoded(folder, stem)
            if dec is None:
                continue
            orig = np.asarray(Image.open(args.shared / "kodak" / f"{stem}.png").convert("RGB"))
            rec = np.asarray(Image.open(dec).convert("RGB"))
            if rec.shape != orig.shape:
                continue
            h, w = orig.shape[:2]
            bh, bw = (int(v) for v in rng.integers(192, 321, 2))
            y, x = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
            splice = orig.copy()
            splice[y : y + bh, x : x + bw] = rec[y : y + bh, x : x + bw]
            found = localise.localise(splice, threshold)
            pm = found.pixel_mask((h, w))
            box = np.zeros((h, w), bool)
            box[y : y + bh, x : x + bw] = True
            per_family.setdefault(fam, []).append(float((pm & box).sum() / max(1, (pm | box).sum())))
    all_iou = [v for vs in per_family.values() for v in vs]
    test = np.array(untouched["test"])
    result: dict[str, Any] = {
        "threshold_log_coherence": round(threshold, 4), "window_pixels": localise.WINDOW * localise.CELL,
        "splices": len(all_iou), "iou_at_least_0.5": round(float(np.mean(np.array(all_iou) >= 0.5)), 4),
        "median_iou": round(float(np.median(all_iou)), 4),
        "untouched_test_images": len(test), "untouched_nothing_flagged": round(float(np.mean(test < threshold)), 4),
        "per_family_iou_at_least_0.5": {f: round(float(np.mean(np.array(v) >= 0.5)), 3) for f, v in per_family.items()},
    }
    print(json.dumps(result, indent=1))
    if args.write_json:
        args.write_json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
