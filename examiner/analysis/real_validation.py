"""Validation of the detector on real data: camera makes left out, real codec families left out.

The data set is a folder written by ``bench/make_detector_v4_data.py`` (``DATA/images`` with its
manifests). Negatives are real camera JPEGs (family ``camera-<make>``, each with the chains a
photo meets: screenshot, re-saves, a messaging app's resize, WebP, a crop) and the Kodak scans
with their classical codings; positives are decoded outputs of published codecs and of the
bundled demonstration codec, with the same chains.

Protocol (nothing a figure is measured on was fitted on the same make, family or photo):

* leave one make out: for each camera make M, the combiner and its LR calibration are fitted on
  every image whose source photo is not of make M (so the demonstration codec's decodes of M's
  photos are held out too) and tested on all of M's images;
* the decision level: ``neural`` needs an LR at or above the smallest ENFSI boundary (10, 100,
  1000, 10000) at which the pooled left-out-make images were called neural at most 1 % of the
  time, chosen for images with and without JPEG evidence separately; the 95 % upper bound that
  the sample allows is stated beside it;
* leave one family out: for each real codec family F, the model is fitted without F and tested
  on F's images at that decision level; balanced accuracy is the mean of F's true-positive rate
  and the left-out-make true-negative rate;
* leave one Kodak processing group out: the same for each kind of classical processing of the
  Kodak scans (JPEG, WebP, AVIF, resizing, ...);
* augmentation (images the project made itself: simulated "camera-like" negatives) may be in
  training, but is never tested, never quoted and never selects anything.

The same protocol, folds and decision rule run for every candidate combiner and for the plain
baseline (a logistic regression over twelve grid-peak features).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from examiner.analysis import likelihood
from examiner.analysis.error_rates import fpr_upper_bound
from examiner.analysis.lofo import Fitter, Item, fit_with_lr

# Negative groups the project simulated: training augmentation only.
AUGMENTATION_GROUPS = frozenset({"camera-like"})
CAMERA_PREFIX = "camera-"
MAX_FPR = 0.01


@dataclass
class Scored:
    item: Item
    lr: float
    jpeg: bool  # scored by the JPEG branch


def make_of(it: Item) -> str | None:
    return it.family[len(CAMERA_PREFIX):] if it.label == 0 and it.family.startswith(CAMERA_PREFIX) else None


def _score(model: Any, items: Sequence[Item], feats: dict[str, dict[str, float]]) -> list[Scored]:
    from examiner.analysis.detector import JPEG_KEY

    out = []
    for it in items:
        f = feats[it.rel]
        s = model.score(f)
        lr = model.likelihood_ratio(s, f)
        out.append(Scored(it, float(lr), model.jpeg_branch is not None and f.get(JPEG_KEY, 0.0) >= 0.5))
    return out


def _sources_by_make(items: Sequence[Item]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for it in items:
        m = make_of(it)
        if m:
            out.setdefault(m, set()).add(it.source)
    return out


def decision_levels(scored: Sequence[Scored], max_fpr: float = MAX_FPR) -> dict[str, float]:
    """Per branch, the smallest ENFSI boundary at which at most ``max_fpr`` of the left-out
    negatives reach it (the largest boundary when none does)."""
    out = {}
    for key, is_jpeg in (("jpeg", True), ("no_jpeg", False)):
        lrs = np.array([s.lr for s in scored if s.jpeg == is_jpeg])
        level = likelihood.DECISION_LEVELS[-1]
        for cand in likelihood.DECISION_LEVELS:
            if lrs.size == 0 or float(np.mean(lrs >= cand)) <= max_fpr:
                level = cand
                break
        out[key] = level
    return out


def _called(s: Scored, levels: dict[str, float]) -> bool:
    return bool(np.isfinite(s.lr) and s.lr >= levels["jpeg" if s.jpeg else "no_jpeg"])


def _neg_row(scored: Sequence[Scored], levels: dict[str, float]) -> dict[str, Any]:
    k = sum(_called(s, levels) for s in scored)
    photos = {s.item.source for s in scored}
    photos_hit = sorted({s.item.source for s in scored if _called(s, levels)})
    incon = sum(s.lr > likelihood.NOT_NEURAL_LR and not _called(s, levels) for s in scored if np.isfinite(s.lr))
    return {"n": len(scored), "n_photos": len(photos), "called_neural": k,
            "false_positive_rate": round(k / max(1, len(scored)), 4),
            "fpr_upper_95": round(fpr_upper_bound(k, len(scored)), 4),
            "photos_called_neural": len(photos_hit),
            "photo_rate_upper_95": round(fpr_upper_bound(len(photos_hit), len(photos)), 4),
            "inconclusive": int(incon), "called_neural_files": [s.item.rel for s in scored if _called(s, levels)][:10]}


def _pos_row(scored: Sequence[Scored], levels: dict[str, float], tnr: float) -> dict[str, Any]:
    hit = [_called(s, levels) for s in scored]
    tpr = float(np.mean(hit)) if hit else float("nan")
    variants: dict[str, list[int]] = {}
    for s, h in zip(scored, hit, strict=True):
        v = variants.setdefault(s.item.variant, [0, 0])
        v[0] += int(h)
        v[1] += 1
    lo = 1.0 - fpr_upper_bound(len(hit) - sum(hit), len(hit)) if hit else float("nan")
    lrs = [s.lr for s in scored if np.isfinite(s.lr) and s.lr > 0]
    return {"n": len(scored), "found": int(sum(hit)), "true_positive_rate": round(tpr, 4),
            "tpr_lower_95": round(lo, 4), "balanced_accuracy": round(0.5 * (tpr + tnr), 4),
            "not_neural": int(sum(np.isfinite(s.lr) and s.lr <= likelihood.NOT_NEURAL_LR for s in scored)),
            "median_log10_lr": round(float(np.median(np.log10(lrs))), 3) if lrs else None,
            "found_per_variant": {k: f"{a}/{b}" for k, (a, b) in sorted(variants.items())}}


def run(items: list[Item], feats: dict[str, dict[str, float]], fitter: Fitter,
        log: Callable[[str], None] = print, use_augmentation: bool = True) -> dict[str, Any]:
    items = [it for it in items if it.rel in feats]
    augment = [it for it in items if it.label == 0 and it.family in AUGMENTATION_GROUPS]
    real = [it for it in items if not (it.label == 0 and it.family in AUGMENTATION_GROUPS)]
    pool = real + (augment if use_augmentation else [])
    by_make = _sources_by_make(real)

    # 1. Camera makes left out: the scores that set the decision level.
    lomo: dict[str, list[Scored]] = {}
    for make, sources in sorted(by_make.items()):
        train = [it for it in pool if it.source not in sources]
        test = [it for it in real if it.label == 0 and it.source in sources]
        lomo[make] = _score(fit_with_lr(train, feats, fitter), test, feats)
        log(f"left out make {make}: {len(test)} images")
    pooled = [s for v in lomo.values() for s in v]
    levels = decision_levels(pooled)
    log(f"decision levels: {levels}")
    makes = {m: _neg_row(v, levels) for m, v in lomo.items()}
    camera = _neg_row(pooled, levels)
    tnr = 1.0 - camera["false_positive_rate"]

    # 2. Kodak processing groups left out.
    groups: dict[str, Any] = {}
    for grp in sorted({it.family for it in real if it.label == 0 and make_of(it) is None}):
        train = [it for it in pool if not (it.label == 0 and it.family == grp)]
        test = [it for it in real if it.label == 0 and it.family == grp]
        groups[grp] = _neg_row(_score(fit_with_lr(train, feats, fitter), test, feats), levels)
        log(f"left out group {grp}: FPR {groups[grp]['false_positive_rate']}")

    # 3. Real codec families left out.
    families: dict[str, Any] = {}
    for fam in sorted({it.family for it in real if it.label == 1}):
        train = [it for it in pool if not (it.label == 1 and it.family == fam)]
        test = [it for it in real if it.label == 1 and it.family == fam]
        families[fam] = _pos_row(_score(fit_with_lr(train, feats, fitter), test, feats), levels, tnr)
        log(f"left out family {fam}: TPR {families[fam]['true_positive_rate']}")

    tprs = [r["true_positive_rate"] for r in families.values()]
    return {
        "protocol": __doc__.split("Protocol", 1)[1].split("The same protocol")[0].strip() if __doc__ else "",
        "n_positives": sum(it.label for it in real), "n_negatives": sum(1 - it.label for it in real),
        "n_augmentation": len(augment) if use_augmentation else 0,
        "decision_levels": levels, "camera_pooled": camera, "camera_makes_left_out": makes,
        "kodak_groups_left_out": groups, "families_left_out": families,
        "worst_family_tpr": min(tprs) if tprs else None,
        "mean_family_tpr": round(float(np.mean(tprs)), 4) if tprs else None,
    }


def combiner(name: str) -> Fitter:
    """The candidate combiners, all judged by :func:`run`:

    * ``baseline``: logistic regression over twelve grid-peak strengths, one branch;
    * ``v3-refit``: model v3's recipe (its features, a monotone hidden layer of 8) refitted;
    * ``v4-linear``: v3's features plus camera-pipeline evidence, a linear combiner;
    * ``v4-mlp``: the same features through v3's monotone hidden layer;
    * ``-bal``: every codec family and every negative group (camera make, kind of processing)
      with the same total weight in the fit, so Cool-chic's 600 decodes do not decide alone;
    * ``-signed``: trace features may count either way (a codec that leaves less chroma grid
      than a camera);
    * ``v4-grid``: the baseline's grid peaks, chroma diagonal peaks, luma phase coherence and the
      camera-pipeline evidence, without the residual statistics.
    """
    from examiner.analysis import calibration as c

    if name == "baseline":
        return lambda m: c.train(m, features=c.BASELINE_FEATURES, version="baseline", jpeg_branch=False)
    if name == "v3-refit":
        return lambda m: c.train(m, features=c.V3_FEATURES, jpeg_features=c.V3_JPEG_FEATURES, version="v3-refit",
                                 hidden=c.V3_HIDDEN)
    if name == "v4-linear":
        return lambda m: c.train(m, features=c.V4_FEATURES, jpeg_features=c.V4_JPEG_FEATURES, version="4")
    if name == "v4-mlp":
        return lambda m: c.train(m, features=c.V4_FEATURES, jpeg_features=c.V4_JPEG_FEATURES, version="4",
                                 hidden=c.V3_HIDDEN)
    v4 = {"features": c.V4_FEATURES, "jpeg_features": c.V4_JPEG_FEATURES, "version": "4", "balance": True}
    if name == "v4-linear-bal":
        return lambda m: c.train(m, **v4)
    if name == "v4-signed-bal":
        return lambda m: c.train(m, signed_all=True, **v4)
    if name == "v4-mlp-bal":
        return lambda m: c.train(m, hidden=c.V3_HIDDEN, **v4)
    if name == "v4-mlp-signed-bal":
        return lambda m: c.train(m, hidden=c.V3_HIDDEN, monotone=False, signed_all=True, **v4)
    grid = {"features": c.V4_GRID_FEATURES, "jpeg_features": c.V4_GRID_JPEG_FEATURES, "version": "4", "balance": True}
    if name == "v4-grid-bal":
        return lambda m: c.train(m, **grid)
    if name == "v4-grid-mlp-bal":
        return lambda m: c.train(m, hidden=c.V3_HIDDEN, **grid)
    raise ValueError(f"unknown combiner {name!r}")


COMBINERS = ("baseline", "v3-refit", "v4-linear", "v4-mlp", "v4-linear-bal", "v4-signed-bal", "v4-mlp-bal",
             "v4-mlp-signed-bal", "v4-grid-bal", "v4-grid-mlp-bal")


def family_profiles(model: Any, items: Sequence[Item], feats: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Per branch and real codec family: the centroid of the family's standardised model inputs
    and their spread (median RMS distance to the centroid), for the explanation's "resembles a
    family found poorly" sentence."""
    out: dict[str, Any] = {"jpeg": {}, "no_jpeg": {}}
    for fam in sorted({it.family for it in items if it.label == 1}):
        rows: dict[str, list[np.ndarray]] = {"jpeg": [], "no_jpeg": []}
        for it in items:
            if it.label == 1 and it.family == fam and it.rel in feats:
                f = feats[it.rel]
                branch = model.branch(f)
                rows["jpeg" if branch is not model else "no_jpeg"].append(branch._inputs(f))
        for key, xs in rows.items():
            if len(xs) < 5:
                continue
            x = np.array(xs)
            c = x.mean(axis=0)
            spread = float(np.median(np.sqrt(np.mean((x - c) ** 2, axis=1))))
            out[key][fam] = {"centroid": c.round(4).tolist(), "spread": round(spread, 4), "n": len(xs)}
    return out
