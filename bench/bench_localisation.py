"""Localisation of neural content pasted into a camera image: fit the window model, measure IoU.

    python bench/bench_localisation.py --data /work/detector-data --shared ../shared/data \
        [--fit examiner/data/localisation_v2.json]

With ``--fit`` the window model of :mod:`examiner.analysis.localise` is fitted first and written
(with the figures below as its measured rates): positives are the windows of kodim01-11 (odd)
decoded by every codec under ``DATA/codecs`` (the project's small codecs and the demonstration
codec), negatives the windows of every second detector v3 negative of kodim01-12; the threshold
is a quantile of all kodim01-12 negatives' highest window score, the smallest at which a
threshold set on kodim01-06 leaves 95 % of kodim07-12 clean and vice versa, and the growth
threshold (the lower level at which windows connected to a flagged one join its area) is the
one of threshold - 0, 0.25, ..., 3 with the most splices into kodim01-12 at IoU >= 0.5 (ties:
the higher). Without it the shipped model is measured.

Measured on kodim13-24 only (sources never fitted on): splices, a box of 192-320 pixels a side
at a random place copied from the decoded image into the original, for every decoder under
``DATA/codecs`` and SwinT-ChARM and the checkerboard codec of ``neural-dev`` (never fitted on);
and every detector v3 negative of kodim13-24 for images where nothing may be flagged. Targets
(issue 14): IoU >= 0.5 on at least 80 % of splices, nothing flagged on at least 95 % of
untouched images. The decoders are the fitted families: this measures unseen images, not
unseen codecs, except for the two external ones, which are reported separately.
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


def decoded_dirs(data: Path, shared: Path | None) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for d in sorted((data / "codecs").iterdir()):
        sub = d / "decoded" if (d / "decoded").is_dir() else d
        if (sub / "kodim01.png").is_file():
            out[d.name] = sub
    for name in ("swint-charm", "checkerboard") if shared is not None else ():
        out[name] = shared / "neural-dev" / name
    return out


def _decoded(folder: Path, stem: str) -> Path | None:
    hits = sorted(folder.glob(f"{stem}*.png"))
    return hits[0] if hits else None


def _splices(data: Path, shared: Path, first: int, last: int, seed: int,
             external: bool) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(decoder, splice, pasted-box mask) for kodim<first>..<last> and every decoder under
    ``DATA/codecs`` (with ``external``, also the two never-fitted ``neural-dev`` ones): a box of
    192-320 pixels a side at a random place copied from the decoded image into the original."""
    rng = np.random.default_rng(seed)
    out = []
    for fam, folder in decoded_dirs(data, shared if external else None).items():
        for i in range(first, last + 1):
            stem = f"kodim{i:02d}"
            dec = _decoded(folder, stem)
            if dec is None:
                continue
            orig = np.asarray(Image.open(shared / "kodak" / f"{stem}.png").convert("RGB"))
            rec = np.asarray(Image.open(dec).convert("RGB"))
            if rec.shape != orig.shape:
                continue
            h, w = orig.shape[:2]
            bh, bw = (int(v) for v in rng.integers(192, 321, 2))
            y, x = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
            splice = orig.copy()
            splice[y : y + bh, x : x + bw] = rec[y : y + bh, x : x + bw]
            box = np.zeros((h, w), bool)
            box[y : y + bh, x : x + bw] = True
            out.append((fam, splice, box))
    return out


def _iou(model: localise.LocalModel, splice: np.ndarray, box: np.ndarray) -> float:
    return _mask_iou(localise.localise(splice, model).pixel_mask(box.shape), box)


def _mask_iou(pm: np.ndarray, box: np.ndarray) -> float:
    return float((pm & box).sum() / max(1, (pm | box).sum()))


def _choose_growth(model: localise.LocalModel, data: Path, shared: Path) -> float:
    # The window scores do not depend on the growth threshold: take each splice's map once and
    # only redraw its flagged area for each candidate.
    maps = [(localise.localise(s, model), b) for _, s, b in _splices(data, shared, 1, 12, seed=12, external=False)]
    best, best_rate = model.threshold, -1.0
    for k in range(13):
        growth = model.threshold - 0.25 * k
        rate = float(np.mean([
            _mask_iou(localise.Localisation(loc.scores, localise.flag_windows(loc.scores, model.threshold, growth),
                                            loc.stride, model.threshold, growth).pixel_mask(b.shape), b) >= 0.5
            for loc, b in maps]))
        if rate > best_rate:
            best, best_rate = growth, rate
    return best


def _threshold(neg_max: np.ndarray, first_half: np.ndarray) -> tuple[float, float]:
    """The threshold at the smallest quantile q (0.95, 0.955, ... 0.995) of the calibration
    negatives' highest window scores such that q's threshold taken on kodim01-06 alone leaves
    at least 95 % of kodim07-12's negatives unflagged and vice versa: the level untouched images
    of other sources stay clean at, not only the ones it was set on (set at q = 0.95 on all of
    them, 92.7 % of the test sources' negatives stayed clean)."""
    a, b = neg_max[first_half], neg_max[~first_half]
    for q in np.arange(0.95, 0.9951, 0.005):
        if np.mean(b < np.quantile(a, q)) >= 0.95 and np.mean(a < np.quantile(b, q)) >= 0.95:
            return float(np.quantile(neg_max, q)), float(q)
    return float(np.quantile(neg_max, 0.995)), 0.995


def _fit(data: Path, shared: Path, negatives: list[Any]) -> localise.LocalModel:
    from examiner.analysis.calibration import fit_logistic
    from examiner.core.evidence import open_evidence

    xs, ys, neg_max = [], [], []
    for folder in decoded_dirs(data, None).values():
        for i in range(1, 12, 2):
            dec = _decoded(folder, f"kodim{i:02d}")
            if dec is not None:
                f, _ = localise.window_features(np.asarray(Image.open(dec).convert("RGB")))
                xs.append(f.reshape(-1, f.shape[-1]))
                ys.append(np.ones(xs[-1].shape[0]))
    cal = [it for it in negatives if _split(it.source) == "calibration"]
    neg_feats = []
    for k, it in enumerate(cal):
        f, _ = localise.window_features(open_evidence(data / "images" / it.rel).pixels)
        neg_feats.append(f.reshape(-1, f.shape[-1]))
        if k % 2 == 0:
            xs.append(neg_feats[-1])
            ys.append(np.zeros(xs[-1].shape[0]))
    x, y = np.concatenate(xs), np.concatenate(ys)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    w, b = fit_logistic((x - mean) / std, y)
    model = localise.LocalModel(mean, std, w, b, 0.0, {})
    for f in neg_feats:
        neg_max.append(float(model.scores(f).max()) if f.size else -np.inf)
    model.threshold, q = _threshold(np.array(neg_max), np.array([int(it.source[5:7]) <= 6 for it in cal]))
    model.measured = {"threshold_quantile": round(q, 4)}
    model.grow_threshold = _choose_growth(model, data, shared)
    return model


def _split(source: str) -> str:
    return "calibration" if source.startswith("kodim") and int(source[5:7]) <= 12 else "test"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--shared", type=Path, required=True)
    ap.add_argument("--fit", type=Path, default=None, help="fit the window model and write it here")
    args = ap.parse_args()
    from examiner.core.evidence import open_evidence

    negatives = [it for it in lofo.load_items(args.data / "images") if it.label == 0]
    model = _fit(args.data, args.shared, negatives) if args.fit else localise.load_model()
    clean = [not localise.localise(open_evidence(args.data / "images" / it.rel).pixels, model).flagged
             for it in negatives if _split(it.source) == "test"]
    per_family: dict[str, list[float]] = {}
    for fam, splice, box in _splices(args.data, args.shared, 13, 24, seed=14, external=True):
        per_family.setdefault(fam, []).append(_iou(model, splice, box))
    external = ("swint-charm", "checkerboard")
    fitted = [v for f, vs in per_family.items() if f not in external for v in vs]
    unseen = [v for f, vs in per_family.items() if f in external for v in vs]
    result: dict[str, Any] = {
        "threshold_quantile": model.measured.get("threshold_quantile"),
        "threshold": round(model.threshold, 4), "grow_threshold": round(model.growth, 4),
        "window": "2x2 tiles of 128 pixels",
        "splices_fitted_decoders": len(fitted),
        "iou_at_least_0.5_fitted_decoders": round(float(np.mean(np.array(fitted) >= 0.5)), 4),
        "median_iou_fitted_decoders": round(float(np.median(fitted)), 4),
        "splices_unseen_decoders": len(unseen),
        "iou_at_least_0.5_unseen_decoders": round(float(np.mean(np.array(unseen) >= 0.5)), 4) if unseen else None,
        "untouched_test_images": len(clean), "untouched_nothing_flagged": round(float(np.mean(clean)), 4),
        "per_decoder_iou_at_least_0.5": {f: round(float(np.mean(np.array(v) >= 0.5)), 3) for f, v in per_family.items()},
    }
    print(json.dumps(result, indent=1))
    if args.fit:
        model.measured = result
        args.fit.write_text(json.dumps(model.to_dict(), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
