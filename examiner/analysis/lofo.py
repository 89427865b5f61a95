"""Leave-one-family-out validation of the detector, and the fit of the model that ships.

The data set is a folder written by ``bench/make_detector_v3_data.py``: images under
``positives/`` and ``negatives/`` and manifests (``manifest*.json``) giving each file's label,
family (positives: the codec family, whatever was done to its output afterwards; negatives: the
processing group), variant and source image.

Protocol (nothing an image is tested with was fitted on that image's family or source):

* source folds: Kodak images in four folds of six (kodim01-06, 07-12, 13-18, 19-24); every other
  source by a hash of its name;
* leave one family out: for each positive family F and source fold k, the combiner and its LR
  calibration are fitted on the other families' positives and all negatives outside fold k, and
  tested on F's positives in fold k and on the negatives in fold k. The LR calibration inside a
  fold uses scores from an inner cross-validation over the training folds, so the verdict
  thresholds are set on scores the combiner did not see either;
* leave one negative group out: the same with a negative group taken out of training instead,
  which measures the false-positive rate on a kind of processing never seen;
* balanced accuracy of a family is the mean of its true-positive rate (verdict "neural") and the
  true-negative rate on the negatives tested alongside it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from examiner.analysis import likelihood
from examiner.analysis.calibration import LabelledImage, Measured
from examiner.analysis.error_rates import fpr_upper_bound

N_FOLDS = 4


@dataclass
class Item:
    rel: str
    label: int
    family: str
    variant: str
    source: str
    bpp: float | None


def load_items(root: Path) -> list[Item]:
    manifest: dict[str, Any] = {}
    for mf in sorted(root.glob("manifest*.json")):
        manifest.update(json.loads(mf.read_text(encoding="utf-8")))
    return [Item(rel, int(e["label"]), str(e["family"]), str(e.get("variant", "")), str(e["source"]), e.get("bpp"))
            for rel, e in sorted(manifest.items())]


def family_counts(items: Sequence[Item]) -> dict[str, dict[str, int]]:
    """Images per family, positives and negatives apart: the make-up a model file records."""
    out: dict[str, dict[str, int]] = {"positives": {}, "negatives": {}}
    for it in items:
        d = out["positives" if it.label else "negatives"]
        d[it.family] = d.get(it.family, 0) + 1
    return out


def source_fold(source: str) -> int:
    if source.startswith("kodim") and source[5:7].isdigit():
        return (int(source[5:7]) - 1) // 6
    return zlib.crc32(source.encode()) % N_FOLDS


def extract_cached(root: Path, items: list[Item], cache: Path, log: Callable[[str], None] = print,
                   save_every: int = 100) -> dict[str, dict[str, float]]:
    """Features of every item, computed once and kept in ``cache`` (JSON), so a run that is
    interrupted, or one with more images, only computes what is missing."""
    from examiner.analysis.detector import image_features
    from examiner.core.evidence import open_evidence
    from examiner.errors import ExaminerError

    feats: dict[str, dict[str, float]] = json.loads(cache.read_text()) if cache.is_file() else {}
    todo = [it for it in items if it.rel not in feats]
    for i, it in enumerate(todo):
        path = root / it.rel
        try:
            feats[it.rel] = image_features(open_evidence(path).pixels, path)
        except (ExaminerError, ValueError) as exc:
            log(f"unreadable: {path}: {exc}")
            continue
        if (i + 1) % save_every == 0 or i + 1 == len(todo):
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(json.dumps(feats))
            tmp.replace(cache)
            log(f"features: {i + 1}/{len(todo)}")
    return feats


def _measured(items: Sequence[Item], feats: dict[str, dict[str, float]]) -> Measured:
    kept = [it for it in items if it.rel in feats]
    return Measured([LabelledImage(Path(it.rel), it.label, it.family, it.bpp) for it in kept],
                    [feats[it.rel] for it in kept], [])


Fitter = Callable[[Measured], Any]


def fit_with_lr(train_items: Sequence[Item], feats: dict[str, dict[str, float]], fitter: Fitter,
                n_bootstrap: int = 0) -> Any:
    """Fit the combiner on ``train_items``, then its LR calibration on out-of-fold scores of the
    same items (inner folds by source), and the verdict levels from those scores. Validation
    folds need no bootstrap interval (``n_bootstrap`` 0); the shipped model has one."""
    from examiner.analysis.detector import attach_lr

    folds = np.array([source_fold(it.source) for it in train_items])
    oof = np.full(len(train_items), np.nan)
    for k in np.unique(folds):
        inner = fitter(_measured([it for it, f in zip(train_items, folds, strict=True) if f != k], feats))
        for i in np.flatnonzero(folds == k):
            oof[i] = _branch_score(inner, feats[train_items[i].rel])
    model = fitter(_measured(train_items, feats))
    labels = np.array([it.label for it in train_items])
    attach_lr(model, [feats[it.rel] for it in train_items], oof, labels, n_bootstrap=n_bootstrap)
    return model


def _branch_score(model: Any, f: dict[str, float]) -> float:
    return float(model.score(f))


@dataclass
class Outcome:
    item: Item
    score: float
    lr: float
    verdict: str


def _test(model: Any, items: Sequence[Item], feats: dict[str, dict[str, float]]) -> list[Outcome]:
    out = []
    for it in items:
        f = feats[it.rel]
        s = model.score(f)
        lr = model.likelihood_ratio(s, f)
        out.append(Outcome(it, s, lr, model.verdict_for_lr(lr, f)))
    return out


def run(items: list[Item], feats: dict[str, dict[str, float]], fitter: Fitter,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    items = [it for it in items if it.rel in feats]
    families = sorted({it.family for it in items if it.label == 1})
    groups = sorted({it.family for it in items if it.label == 0})
    per_family: dict[str, Any] = {}
    for fam in families:
        outs: list[Outcome] = []
        negs: list[Outcome] = []
        for k in range(N_FOLDS):
            train = [it for it in items if source_fold(it.source) != k and not (it.label == 1 and it.family == fam)]
            test_pos = [it for it in items if it.label == 1 and it.family == fam and source_fold(it.source) == k]
            test_neg = [it for it in items if it.label == 0 and source_fold(it.source) == k]
            if not test_pos:
                continue
            model = fit_with_lr(train, feats, fitter)
            outs += _test(model, test_pos, feats)
            negs += _test(model, test_neg, feats)
        per_family[fam] = _family_row(outs, negs)
        log(f"left out {fam}: balanced accuracy {per_family[fam]['balanced_accuracy']}")
    per_group: dict[str, Any] = {}
    for grp in groups:
        negs = []
        try:
            for k in range(N_FOLDS):
                train = [it for it in items if source_fold(it.source) != k and not (it.label == 0 and it.family == grp)]
                test = [it for it in items if it.label == 0 and it.family == grp and source_fold(it.source) == k]
                if test:
                    negs += _test(fit_with_lr(train, feats, fitter), test, feats)
        except ValueError as exc:
            # Without this group one branch has no negatives left to be fitted on.
            log(f"left out negatives {grp}: not measurable ({exc})")
            per_group[grp] = {"n": sum(it.label == 0 and it.family == grp for it in items), "error": str(exc),
                              "false_positive_rate": None, "fpr_upper_95": None}
            continue
        per_group[grp] = _group_row(negs)
        log(f"left out negatives {grp}: FPR {per_group[grp]['false_positive_rate']}")
    # Every family and every group in training, only the source images held out: the usual
    # cross-validation, for comparison (how much of the figures above is memory).
    cv_pos: list[Outcome] = []
    cv_neg: list[Outcome] = []
    for k in range(N_FOLDS):
        train = [it for it in items if source_fold(it.source) != k]
        test = [it for it in items if source_fold(it.source) == k]
        if not test:
            continue
        model = fit_with_lr(train, feats, fitter)
        cv_pos += _test(model, [it for it in test if it.label == 1], feats)
        cv_neg += _test(model, [it for it in test if it.label == 0], feats)
    source_folds = {
        "families": {fam: _family_row([o for o in cv_pos if o.item.family == fam], cv_neg) for fam in families},
        "negative_groups": {g: _group_row([o for o in cv_neg if o.item.family == g]) for g in groups},
    }
    log("source folds: " + ", ".join(f"{g} FPR {r['false_positive_rate']}" for g, r in source_folds["negative_groups"].items()))
    worst = min((r["balanced_accuracy"] for r in per_family.values()), default=float("nan"))
    return {"protocol": __doc__.split("Protocol", 1)[1].strip() if __doc__ else "",
            "n_positives": sum(it.label for it in items), "n_negatives": sum(1 - it.label for it in items),
            "families_left_out": per_family, "negative_groups_left_out": per_group,
            "source_folds_only": source_folds,
            "worst_family_balanced_accuracy": worst,
            "worst_group_fpr_upper_95": max((r["fpr_upper_95"] for r in per_group.values()
                                             if r["fpr_upper_95"] is not None), default=float("nan"))}


def _family_row(pos: list[Outcome], neg: list[Outcome]) -> dict[str, Any]:
    tpr = float(np.mean([o.verdict == "neural" for o in pos]))
    tnr = float(np.mean([o.verdict != "neural" for o in neg]))
    variants: dict[str, list[int]] = {}
    for o in pos:
        v = variants.setdefault(o.item.variant, [0, 0])
        v[0] += o.verdict == "neural"
        v[1] += 1
    return {"n": len(pos), "true_positive_rate": round(tpr, 4), "true_negative_rate": round(tnr, 4),
            "balanced_accuracy": round(0.5 * (tpr + tnr), 4),
            "inconclusive": int(sum(o.verdict == "inconclusive" for o in pos)),
            "median_log10_lr": round(float(np.median([np.log10(o.lr) for o in pos])), 3),
            "found_per_variant": {k: f"{a}/{b}" for k, (a, b) in sorted(variants.items())}}


def _group_row(neg: list[Outcome]) -> dict[str, Any]:
    k = int(sum(o.verdict == "neural" for o in neg))
    return {"n": len(neg), "called_neural": k, "false_positive_rate": round(k / max(1, len(neg)), 4),
            "fpr_upper_95": round(fpr_upper_bound(k, len(neg)), 4),
            "inconclusive": int(sum(o.verdict == "inconclusive" for o in neg)),
            "called_neural_files": [o.item.rel for o in neg if o.verdict == "neural"][:10]}


def fit_final(items: list[Item], feats: dict[str, dict[str, float]], fitter: Fitter) -> Any:
    """The model that ships: fitted on everything, LR calibrated on out-of-fold scores."""
    return fit_with_lr([it for it in items if it.rel in feats], feats, fitter, n_bootstrap=200)


def likelihood_summary(model: Any) -> dict[str, Any]:
    cal = model.lr_calibration
    return {"lr_neural": model.lr_neural, "lr_not_neural": likelihood.NOT_NEURAL_LR,
            "a": cal.a if cal else None, "b": cal.b if cal else None}
