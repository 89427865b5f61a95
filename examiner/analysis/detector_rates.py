"""The error rates a detector model quotes, in the form results and the report carry them, and
the sentence that warns when an image resembles a codec family the model finds poorly."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from examiner.analysis.detector import DetectorModel


def error_rates(model: DetectorModel) -> dict[str, Any]:
    """The model's error rates as measured on real data with camera makes and codec families left
    out (model v4), by leave-one-family-out validation (v3) or on its held-out test split (v2),
    with the make-up of the data, in the form the report quotes."""
    real = model.measured.get("real_data")
    if real:
        return real_data_rates(model, real)
    lofo = model.measured.get("leave_one_family_out")
    if lofo:
        fams = lofo.get("families_left_out", {})
        groups = lofo.get("negative_groups_left_out", {})
        bas = [r["balanced_accuracy"] for r in fams.values()]
        worst_g = max(groups.items(), key=lambda kv: kv[1]["fpr_upper_95"], default=(None, {}))
        return {
            "set": "leave-one-family-out validation (each codec family and each negative group held out in turn, "
                   "source images held out by fold)",
            "measured_on": model.composition.get("description", ""),
            "composition": model.composition.get("counts", {}),
            "model_version": model.version,
            "n_positives": lofo.get("n_positives"),
            "n_negatives": lofo.get("n_negatives"),
            "families_left_out": len(fams),
            "balanced_accuracy_worst_family": min(bas) if bas else None,
            "balanced_accuracy_median_family": float(np.median(bas)) if bas else None,
            "worst_family": min(fams, key=lambda k: fams[k]["balanced_accuracy"]) if fams else None,
            "families_below_0.90": sum(b < 0.90 for b in bas),
            "negative_groups_left_out": len(groups),
            "false_positive_rate_worst_group": worst_g[1].get("false_positive_rate"),
            "false_positive_rate_worst_group_upper_95": worst_g[1].get("fpr_upper_95"),
            "worst_negative_group": worst_g[0],
        }
    test = model.measured.get("test") or model.measured.get("calibration") or {}
    shipped = test.get("with_shipped_thresholds", {})
    return {
        "set": "held-out test split" if "test" in model.measured else "calibration split",
        "measured_on": model.composition.get("description", ""),
        "composition": test.get("composition", {}).get("counts", {}),
        "model_version": model.version,
        "roc_auc": test.get("roc_auc"),
        "tpr_at_fpr_1pct": test.get("tpr_at_fpr_1pct"),
        "tpr_at_fpr_5pct": test.get("tpr_at_fpr_5pct"),
        "false_positive_rate": shipped.get("false_positive_rate"),
        "true_positive_rate": shipped.get("true_positive_rate"),
        "n_positives": test.get("n_positives"),
        "n_negatives": test.get("n_negatives"),
    }


def _of(k: int, n: int) -> str:
    return f"{k} of {n} ({100.0 * k / max(1, n):.1f}%)"


def real_data_rates(model: DetectorModel, real: dict[str, Any]) -> dict[str, Any]:
    """Model v4's figures, each with its sample size and 95 % bound, in sentences a report can
    quote as they are: camera photos of makes left out of training, real codec families left
    out, and the plain baseline's in the same folds."""
    cam = real["camera_pooled"]
    base = model.measured.get("baseline", {})
    out: dict[str, Any] = {
        "set": "real data: camera photos with each make left out of training in turn, and real codec "
               "families each left out in turn",
        "measured_on": model.composition.get("description", ""),
        "model_version": model.version,
        "camera photos of left-out makes called neural":
            f"{_of(cam['called_neural'], cam['n'])} images, {cam['photos_called_neural']} of {cam['n_photos']} photos; "
            f"95% upper bound {100 * cam['fpr_upper_95']:.1f}% of images",
        "decision level (LR) with and without JPEG evidence":
            f"{real['decision_levels']['jpeg']:g} and {real['decision_levels']['no_jpeg']:g}",
    }
    fams = real.get("families_left_out", {})
    out["codec families left out (found)"] = {
        fam: f"{r['found']} of {r['n']} ({r['true_positive_rate']:.2f}; 95% lower bound {r['tpr_lower_95']:.2f})"
        for fam, r in fams.items()}
    out["figures"] = {
        "camera_n": cam["n"], "camera_called_neural": cam["called_neural"], "camera_fpr": cam["false_positive_rate"],
        "camera_fpr_upper_95": cam["fpr_upper_95"],
        "families": {fam: {k: r[k] for k in ("n", "found", "true_positive_rate", "tpr_lower_95")} for fam, r in fams.items()},
    }
    if base:
        bc = base["camera_pooled"]
        out["the plain baseline in the same folds (12 grid peaks)"] = (
            f"camera images called neural {_of(bc['called_neural'], bc['n'])}; families found "
            + ", ".join(f"{f} {r['true_positive_rate']:.2f}" for f, r in base.get("families_left_out", {}).items()))
    return out


def family_resemblance(model: DetectorModel, feats: dict[str, float]) -> str | None:
    """Where the image's features lie nearest a codec family the model finds poorly when that
    family is left out, a sentence saying how often such images were found; None otherwise."""
    real = model.measured.get("real_data", {})
    profiles = model.measured.get("family_profiles", {})
    branch = model.branch(feats)
    key = "jpeg" if branch is not model else "no_jpeg"
    best: tuple[float, str] | None = None
    x = branch._inputs(feats)
    for fam, prof in profiles.get(key, {}).items():
        c = np.asarray(prof["centroid"], float)
        if c.shape != x.shape:
            continue
        d = float(np.sqrt(np.mean((x - c) ** 2)) / max(float(prof["spread"]), 1e-6))
        if best is None or d < best[0]:
            best = (d, fam)
    if best is None or best[0] > 1.0:
        return None
    r = real.get("families_left_out", {}).get(best[1])
    if not r or r["true_positive_rate"] >= 0.8:
        return None
    return (f"The image's traces resemble those of {best[1]} outputs, a family this method finds poorly: with "
            f"that family left out of training, {r['found']} of {r['n']} of its images were called neural "
            f"({r['true_positive_rate']:.0%}). A verdict other than neural therefore says little against "
            "processing by such a codec.")


def validation_sentence(model: DetectorModel, real: dict[str, Any]) -> str:
    """The real-data figures in one sentence for the explanation."""
    cam = real["camera_pooled"]
    fams = real.get("families_left_out", {})
    found = sorted(fams.items(), key=lambda kv: kv[1]["true_positive_rate"])
    worst = ", ".join(f"{f} {r['found']} of {r['n']}" for f, r in found[:3])
    return (f"Validation of model {model.version} on real data: of {cam['n']} images from {cam['n_photos']} camera "
            f"photos whose make was left out of training, {cam['called_neural']} "
            f"{'was' if cam['called_neural'] == 1 else 'were'} called neural (95% upper bound "
            f"{100 * cam['fpr_upper_95']:.1f}%); of real codec families each left out in turn, the least found were "
            f"{worst}.")
