"""Training the detector's score combiner and measuring its error rates.

The combiner is a logistic regression over a handful of spectral peak strengths. Its weights are
constrained to be non-negative: a stronger peak at a decoder grid frequency may only ever make
"neural" more likely. That keeps the model physically interpretable and stops it from learning
accidental negative evidence from the particular calibration images.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from examiner.analysis.error_rates import (
    roc_auc,
    threshold_for_confident_fpr,
    tpr_at_fpr,
)
from examiner.analysis.logistic import sigmoid
from examiner.core.formats import EVIDENCE_SUFFIXES


@dataclass
class LabelledImage:
    path: Path
    label: int  # 1 = neural, 0 = not neural
    family: str
    bpp: float | None


def collect(folders: Sequence[str | Path], label: int) -> list[LabelledImage]:
    """Images under each folder. The family is the first sub-folder below the given folder (or
    the folder's own name); bpp comes from a ``manifest.json`` there when present, else from
    the size of a compressed file."""
    out: list[LabelledImage] = []
    for folder in folders:
        root = Path(folder)
        manifest: dict[str, Any] = {}
        mf = root / "manifest.json"
        if mf.is_file():
            manifest = json.loads(mf.read_text(encoding="utf-8"))
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix.lower() in EVIDENCE_SUFFIXES)
        for p in files:
            rel = p.relative_to(root).as_posix() if p != root else p.name
            entry = manifest.get(rel, {})
            family = entry.get("family") or (rel.split("/")[0] if "/" in rel else root.name)
            bpp = entry.get("bpp")
            if bpp is None and p.suffix.lower() in {".jpg", ".jpeg", ".webp", ".avif"}:
                bpp = None  # filled in after decoding, when the pixel count is known
            out.append(LabelledImage(p, label, str(family), None if bpp is None else float(bpp)))
    return out


def bpp_band(bpp: float | None) -> str:
    if bpp is None:
        return "unknown/lossless"
    for hi, name in ((0.25, "<0.25"), (0.6, "0.25-0.6"), (1.2, "0.6-1.2"), (2.5, "1.2-2.5")):
        if bpp < hi:
            return name
    return ">=2.5"


# ---- the model ----------------------------------------------------------------------------


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std < 1e-6] = 1.0
    return mean, std


def _class_weights(y: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
    """Each class half the total weight; inside a class, ``sample_weight`` (e.g. one share per
    codec family or camera make) or equal."""
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    out = np.zeros(len(y))
    for cls in (0, 1):
        m = y == cls
        if m.any():
            out[m] = 0.5 * w[m] / max(float(w[m].sum()), 1e-12)
    return out


def family_weights(families: Sequence[str], labels: np.ndarray) -> np.ndarray:
    """Weights giving every family (or negative group) of a class the same total weight, so a
    large family (hundreds of one codec's decodes) does not decide what the combiner learns."""
    out = np.ones(len(families))
    for cls in (0, 1):
        names = [f for f, y in zip(families, labels, strict=True) if y == cls]
        counts = {f: names.count(f) for f in set(names)}
        for i, (f, y) in enumerate(zip(families, labels, strict=True)):
            if y == cls:
                out[i] = 1.0 / counts[f]
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, nonneg: bool | np.ndarray = True,
                 iters: int = 500, sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Class-balanced, L2-penalised logistic regression on standardised x (L-BFGS-B; a few
    milliseconds, which leave-one-family-out validation with its hundreds of fits needs).
    ``nonneg``: all weights (True), none (False) or a per-feature mask kept non-negative."""
    from scipy.optimize import minimize

    n, d = x.shape
    sw = _class_weights(y, sample_weight)
    mask = np.ones(d, bool) if nonneg is True else np.zeros(d, bool) if nonneg is False else np.asarray(nonneg, bool)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:d], theta[d]
        z = x @ w + b
        # log(1 + e^z) - y z, computed without overflow
        ll = np.logaddexp(0.0, z) - y * z
        p = 1.0 / (1.0 + np.exp(-z))
        g = (p - y) * sw
        grad = np.concatenate([x.T @ g + l2 * w, [g.sum()]])
        return float(np.sum(sw * ll) + 0.5 * l2 * w @ w), grad

    bounds = [(0.0, None) if m else (None, None) for m in mask] + [(None, None)]
    res = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": iters, "gtol": 1e-9})
    return res.x[:d].copy(), float(res.x[d])


def fit_mlp(x: np.ndarray, y: np.ndarray, hidden: int, monotone: np.ndarray, l2: float = 1e-2, seed: int = 0,
            iters: int = 300, sample_weight: np.ndarray | None = None) -> dict[str, Any]:
    """Class-balanced logistic output over one layer of ``hidden`` tanh units (L-BFGS, L2
    penalty on both weight layers, fixed seed: deterministic). The per-family traces light up
    different features (phase coherence for one codec, chroma peaks or flat residuals for
    another); a linear combiner averages them away, a small hidden layer can take the strongest.

    Monotone in the features of ``monotone`` (a mask): their input weights and every output
    weight are kept non-negative, and tanh is increasing, so a stronger trace can never lower
    the score, however far an image lies from the training data."""
    from scipy.optimize import minimize

    n, d = x.shape
    rng = np.random.default_rng(seed)
    sw = _class_weights(y, sample_weight)
    h_ = hidden

    def unpack(th: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        return th[: d * h_].reshape(d, h_), th[d * h_ : d * h_ + h_], th[d * h_ + h_ : d * h_ + 2 * h_], float(th[-1])

    def loss(th: np.ndarray) -> tuple[float, np.ndarray]:
        w1, b1, w2, b2 = unpack(th)
        h = np.tanh(x @ w1 + b1)
        z = h @ w2 + b2
        p = 1.0 / (1.0 + np.exp(-z))
        g = (p - y) * sw
        gh = np.outer(g, w2) * (1.0 - h * h)
        grad = np.concatenate([(x.T @ gh + l2 * w1).ravel(), gh.sum(0), h.T @ g + l2 * w2, [g.sum()]])
        value = np.sum(sw * (np.logaddexp(0.0, z) - y * z)) + 0.5 * l2 * (np.sum(w1 * w1) + w2 @ w2)
        return float(value), grad

    th0 = np.concatenate([np.abs(rng.normal(0, 0.3, d * h_)), np.zeros(h_), np.abs(rng.normal(0, 0.3, h_)), [0.0]])
    mono = np.repeat(np.asarray(monotone, bool), h_)  # w1 is d x H, row-major
    bounds = ([(0.0, None) if m else (None, None) for m in mono] + [(None, None)] * h_
              + [(0.0, None)] * h_ + [(None, None)])
    res = minimize(loss, th0, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": iters})
    w1, b1, w2, b2 = unpack(res.x)
    return {"w1": w1.round(6).tolist(), "b1": b1.round(6).tolist(), "w2": w2.round(6).tolist(), "b2": round(b2, 6)}


# ---- error rates ----------------------------------------------------------------------------


def rates(scores: np.ndarray, labels: np.ndarray, verdicts: Sequence[str], families: Sequence[str],
          bpps: Sequence[float | None], threshold_neural: float | None = None) -> dict[str, Any]:
    """ROC AUC, TPR at FPR 1 % / 5 % (thresholds set on this set) and, for the shipped verdict
    thresholds, confusion counts per family and per bpp band."""
    tpr1, t1 = tpr_at_fpr(scores, labels, 0.01)
    tpr5, t5 = tpr_at_fpr(scores, labels, 0.05)
    out: dict[str, Any] = {
        "n_positives": int((labels == 1).sum()),
        "n_negatives": int((labels == 0).sum()),
        "roc_auc": round(roc_auc(scores, labels), 4),
        "tpr_at_fpr_1pct": round(tpr1, 4),
        "tpr_at_fpr_5pct": round(tpr5, 4),
        "thresholds_on_this_set": {"fpr_1pct": round(t1, 4), "fpr_5pct": round(t5, 4)},
    }
    v = np.asarray(verdicts)
    neg, pos = labels == 0, labels == 1
    out["with_shipped_thresholds"] = {
        "false_positive_rate": round(float(np.mean(v[neg] == "neural")), 4) if neg.any() else None,
        "true_positive_rate": round(float(np.mean(v[pos] == "neural")), 4) if pos.any() else None,
        "inconclusive_negatives": round(float(np.mean(v[neg] == "inconclusive")), 4) if neg.any() else None,
        "inconclusive_positives": round(float(np.mean(v[pos] == "inconclusive")), 4) if pos.any() else None,
    }
    out["per_family"] = _table(labels, v, list(families))
    out["per_bpp_band"] = _table(labels, v, [bpp_band(b) for b in bpps])
    return out


def _table(labels: np.ndarray, verdicts: np.ndarray, keys: list[str]) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for key in sorted(set(keys)):
        idx = np.array([k == key for k in keys])
        for lab, name in ((1, "positives"), (0, "negatives")):
            m = idx & (labels == lab)
            if not m.any():
                continue
            row = table.setdefault(f"{key} ({name})", {"n": 0})
            row["n"] = int(m.sum())
            for verdict in ("neural", "inconclusive", "not-neural"):
                row[verdict] = int(np.sum(verdicts[m] == verdict))
    return table


# ---- feature extraction and model building ----------------------------------------------------

COMPRESSED_SUFFIXES = {".jpg", ".jpeg", ".webp", ".avif", ".jxl"}

# The features the shipped model combines, and the range each is clipped to before it counts:
# one freak peak must not decide a verdict on its own.
# The phase-coherence features count on the diagonal lattice only: re-sampling by a rational
# factor leaves coherent patterns along the axes.
DEFAULT_FEATURES: tuple[str, ...] = (
    "y_p2_diag", "y_p4_diag", "y_p4_axis", "y_p8_diag", "y_p8_axis", "y_p2_axis",
    "c_p4_diag", "c_p4_axis", "c_p8_diag", "c_p8_axis", "c_p2_axis", "y_ac4", "y_ac8",
    "y_coh4_diag", "y_coh8_diag", "y_coh16_diag",
)


def jpeg_explained(name: str) -> bool:
    """Features at frequencies JPEG's block grids can produce: luma k/8, k/16; all chroma."""
    return name.startswith("c_") or any(name.startswith(p) for p in ("y_p8", "y_p16", "y_ac8", "y_ac16"))


def signed(name: str) -> bool:
    """Features whose direction is not known beforehand (residual statistics, JPEG evidence,
    camera-pipeline evidence): their weights may take either sign. Every trace feature may only
    add to "neural"."""
    return name.startswith(("t_", "jpeg_", "cfa_"))


def default_clip(name: str) -> list[float]:
    # A peak ratio below the floor (log ratio < 0) is no evidence either way; above 6 (400 times
    # the floor) nothing more is learnt.
    return [-50.0, 50.0] if "_ac" in name or signed(name) else [0.0, 6.0]


@dataclass
class Measured:
    items: list[LabelledImage]
    features: list[dict[str, float]]
    errors: list[dict[str, str]]


def extract(items: list[LabelledImage], ctx: Any = None) -> Measured:
    """Spectral features of every image; a file that cannot be read is recorded, not fatal."""
    from examiner.analysis.detector import image_features
    from examiner.core.evidence import open_evidence
    from examiner.core.tasks import silent
    from examiner.errors import ExaminerError

    ctx = ctx or silent()
    kept: list[LabelledImage] = []
    feats: list[dict[str, float]] = []
    errors: list[dict[str, str]] = []
    for i, item in enumerate(items):
        ctx.progress(i, len(items), item.path.name)
        try:
            px = open_evidence(item.path).pixels
            f = image_features(px, item.path)
        except (ExaminerError, ValueError) as exc:
            errors.append({"path": str(item.path), "error": str(exc)})
            continue
        if item.bpp is None and item.path.suffix.lower() in COMPRESSED_SUFFIXES:
            item.bpp = 8.0 * item.path.stat().st_size / float(px.shape[0] * px.shape[1])
        kept.append(item)
        feats.append(f)
    ctx.progress(len(items), len(items), "features done")
    return Measured(kept, feats, errors)


def composition(m: Measured) -> dict[str, Any]:
    fams: dict[str, dict[str, int]] = {}
    for it in m.items:
        key = "positives" if it.label else "negatives"
        fams.setdefault(key, {})
        fams[key][it.family] = fams[key].get(it.family, 0) + 1
    return {"counts": fams, "n_positives": sum(fams.get("positives", {}).values()),
            "n_negatives": sum(fams.get("negatives", {}).values()), "unreadable": len(m.errors)}


# After JPEG only luma periods 2 and 4 are free of JPEG's own grids in the power spectrum; phase
# coherence is free of them at every period, because the sign of JPEG's block edges follows the
# content.
JPEG_BRANCH_FEATURES: tuple[str, ...] = (
    "y_p2_diag", "y_p4_diag", "y_p4_axis", "y_p2_axis", "y_ac4", "y_coh4_diag", "y_coh8_diag", "y_coh16_diag",
)

# Model v3: every spectral and coherence feature, the residual statistics of :mod:`texture` and
# the JPEG-evidence strengths, through a hidden layer of V3_HIDDEN units (chosen by the
# leave-one-family-out figures, see docs/validation/detector.md). Its JPEG branch leaves out what JPEG's own
# grids explain.
V3_FEATURES: tuple[str, ...] = (
    tuple(f"y_p{p}_{k}" for p in (2, 4, 8, 16) for k in ("axis", "diag")) + ("y_ac2", "y_ac4", "y_ac8", "y_ac16")
    + tuple(f"y_coh{p}_{k}" for p in (16, 8, 4) for k in ("axis", "diag"))
    + tuple(f"c_p{p}_{k}" for p in (2, 4, 8, 16) for k in ("axis", "diag")) + ("c_ac2", "c_ac4", "c_ac8", "c_ac16")
    + ("t_flat", "t_kurt", "t_band", "jpeg_grid", "jpeg_dct")
)
V3_JPEG_FEATURES: tuple[str, ...] = tuple(f for f in V3_FEATURES if not jpeg_explained(f))
V3_HIDDEN = 8

# Model v4: v3's features plus the camera-pipeline evidence of :mod:`cfa` (demosaicking traces)
# and how far a JPEG file's table is from IJG scaling (cameras write tables of their own).
V4_CAMERA_FEATURES: tuple[str, ...] = (
    "cfa_g_diag", "cfa_g_rowcol", "cfa_rb_rowcol", "cfa_rb_diag", "cfa_bayer", "jpeg_table_custom")
V4_FEATURES: tuple[str, ...] = V3_FEATURES + V4_CAMERA_FEATURES
V4_JPEG_FEATURES: tuple[str, ...] = V3_JPEG_FEATURES + V4_CAMERA_FEATURES

# The grid peaks of the baseline, the chroma diagonal peaks and the luma phase coherence (the
# traces of stride-2 up-sampling), and the camera-pipeline evidence; without the residual
# statistics, which an image up-scaled by classical interpolation shares with a decoder's output.
V4_GRID_FEATURES: tuple[str, ...] = (
    tuple(f"y_p{p}_{k}" for p in (2, 4, 8, 16) for k in ("axis", "diag"))
    + tuple(f"c_p{p}_{k}" for p in (2, 4, 8, 16) for k in ("axis", "diag"))
    + tuple(f"y_coh{p}_diag" for p in (4, 8, 16)) + V4_CAMERA_FEATURES)
V4_GRID_JPEG_FEATURES: tuple[str, ...] = tuple(f for f in V4_GRID_FEATURES if not jpeg_explained(f))

# The plain baseline every shipped model must beat: a logistic regression over twelve grid-peak
# strengths (luma periods 2-16 on the axes and diagonals, chroma periods 2-16 on the axes).
BASELINE_FEATURES: tuple[str, ...] = (
    tuple(f"y_p{p}_{k}" for p in (2, 4, 8, 16) for k in ("axis", "diag")) + tuple(f"c_p{p}_axis" for p in (2, 4, 8, 16)))


def _fit_branch(m: Measured, rows: np.ndarray, features: Sequence[str], version: str,
                not_neural_quantile: float, hidden: int = 0, monotone: bool = True, balance: bool = False,
                signed_all: bool = False) -> Any:
    from examiner.analysis.detector import DetectorModel

    labels = np.array([it.label for it in m.items])[rows]
    feats = [f for f, keep in zip(m.features, rows, strict=True) if keep]
    if labels.sum() == 0 or labels.sum() == len(labels):
        raise ValueError("calibration needs both positives and negatives (with and without JPEG evidence)")
    clip = {f: default_clip(f) for f in features}
    proto = DetectorModel(version, list(features), clip, np.zeros(len(features)), np.ones(len(features)),
                          np.zeros(len(features)), 0.0, 1.0, 0.0)
    x = np.array([proto.vector(f) for f in feats])
    mean, std = standardise(x)
    sw = (family_weights([it.family for it, keep in zip(m.items, rows, strict=True) if keep], labels)
          if balance else None)
    nonneg = np.array([not signed_all and not signed(f) for f in features])
    w, b = fit_logistic((x - mean) / std, labels.astype(float), nonneg=nonneg, sample_weight=sw)
    model = DetectorModel(version, list(features), clip, mean, std, w, b, 1.0, 0.0)
    if hidden:
        model.hidden = fit_mlp((x - mean) / std, labels.astype(float), hidden,
                               monotone=np.array([monotone and not signed(f) for f in features]), sample_weight=sw)
    scores = np.array([float(sigmoid(model.logit(f))) for f in feats])
    neg = scores[labels == 0]
    # The 1 % target must hold beyond this particular set of negatives, so the threshold is set
    # where the 95 % upper confidence bound of the false-positive rate is 1 %.
    model.threshold_neural = round(threshold_for_confident_fpr(neg, 0.01, 0.95), 6)
    model.threshold_not_neural = round(min(float(np.quantile(neg, not_neural_quantile)), model.threshold_neural), 6)
    return model


def train(m: Measured, features: Sequence[str] = DEFAULT_FEATURES, version: str = "2",
          not_neural_quantile: float = 0.90, jpeg_features: Sequence[str] = (), hidden: int = 0,
          monotone: bool = True, jpeg_branch: bool = True, balance: bool = False, signed_all: bool = False) -> Any:
    """Fit the combiners on a calibration set and fix the verdict thresholds on its negatives:
    one for images without JPEG evidence, one (luma periods 2 and 4 only) for images with it,
    each with a false-positive rate of at most 1 % (95 % confidence) on its own negatives."""
    from examiner.analysis.detector import JPEG_KEY

    is_jpeg = np.array([f.get(JPEG_KEY, 0.0) >= 0.5 for f in m.features])
    kw = {"hidden": hidden, "monotone": monotone, "balance": balance, "signed_all": signed_all}
    if not jpeg_branch:
        return _fit_branch(m, np.ones(len(m.features), bool), features, version, not_neural_quantile, **kw)
    main = _fit_branch(m, ~is_jpeg, features, version, not_neural_quantile, **kw)
    main.jpeg_masked = [f for f in features if jpeg_explained(f)]
    try:
        main.jpeg_branch = _fit_branch(m, is_jpeg, jpeg_features or JPEG_BRANCH_FEATURES, version,
                                       not_neural_quantile, **kw)
    except ValueError:
        # No JPEG-compressed positives and negatives to calibrate on: images with JPEG evidence
        # are scored by the main combiner with the JPEG-explained features switched off.
        main.jpeg_branch = None
    return main


def evaluate(model: Any, m: Measured) -> dict[str, Any]:
    labels = np.array([it.label for it in m.items])
    scores = np.array([model.score(f) for f in m.features])
    verdicts = [model.verdict(s, f) for s, f in zip(scores, m.features, strict=True)]
    if model.lr_calibration is not None:
        # The two branches' scores are on scales of their own; their likelihood ratios are not.
        # LR / (1 + LR) ranks the images by LR on a 0-1 scale.
        lrs = np.array([model.likelihood_ratio(s, f) for s, f in zip(scores, m.features, strict=True)])
        scores = lrs / (1.0 + lrs)
    out = rates(scores, labels, verdicts, [it.family for it in m.items], [it.bpp for it in m.items])
    out["composition"] = composition(m)
    return out
