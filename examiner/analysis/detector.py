"""The combined verdict: was this image ever through a neural codec, and how strong is the evidence?

The spectral peak strengths and phase coherence of :mod:`examiner.analysis.spectral`, the
residual statistics of :mod:`examiner.analysis.texture` and the JPEG evidence's strengths go
with the camera-pipeline evidence of :mod:`examiner.analysis.cfa` through a small combiner
(model v4: linear, non-negative in every trace feature; v3: one hidden layer) to a score in
[0, 1]. The score becomes a likelihood ratio by
the calibration of :mod:`examiner.analysis.likelihood`, and the verdict follows from the LR:

* ``neural`` at or above the model's decision level, an ENFSI boundary at which real camera
  photos of makes left out of training were called neural at most 1 % of the time;
* ``not-neural`` at or below 1/10;
* ``inconclusive`` in between, or when the image lies outside the validated domain (too
  small, too flat, JPEG below quality 30), which the result says.

JPEG evidence (:mod:`examiner.analysis.jpeg_evidence`) also qualifies the explanation: JPEG at
moderate quality erases the finest decoder traces, so their absence in a JPEG is weaker
evidence than in a lossless file.

The model (features, weights, LR calibration, decision levels) and the error rates measured
with it by leave-one-family-out validation ship in a versioned JSON file,
``examiner/data/detector_v4.json``, with the composition of the data they were measured on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from examiner.analysis import cfa, detector_rates, jpeg_evidence, likelihood, localise, spectral, texture
from examiner.analysis.likelihood import LrCalibration
from examiner.analysis.logistic import sigmoid
from examiner.core.tasks import TaskContext, silent
from examiner.errors import ExaminerError

if TYPE_CHECKING:
    from examiner.core.settings import Settings

MODEL_FILE = "detector_v4.json"
# Midpoint-rule steps of the integrated per-feature attribution used by the explanation.
INTEGRATION_STEPS = 32
# Key in a feature dict that carries the JPEG-evidence flag into the model.
JPEG_KEY = "jpeg_compressed"
# How far the file's JPEG luminance table is from any IJG-scaled table (log(1 + mean absolute
# step difference); 0 for IJG tables and for files that are not JPEG): cameras write tables of
# their own, and software re-saves write IJG ones.
TABLE_KEY = "jpeg_table_custom"

METHOD: dict[str, Any] = {
    "name": "Neural-compression trace detection",
    "version": "4",
    "description": (
        "The image's luma and chroma are high-pass filtered (each pixel minus its 3x3 mean), cut "
        "into Hann-windowed tiles and their power spectra averaged, which makes the result "
        "independent of where the tiles fall. Learned image decoders up-sample with stride-2 "
        "layers, so their outputs carry peaks at the frequencies k/2, k/4, k/8 and k/16 cycles "
        "per pixel; because that pattern repeats with the same phase everywhere, the phase "
        "coherence of 16x16 cells at periods 4, 8 and 16 is measured too. Evidence of a camera pipeline "
        "counts on the other side: the demosaicking traces a colour filter array leaves (green's "
        "quincunx against red and blue's rows and columns) and a JPEG quantisation table that no "
        "IJG scaling gives, as cameras write. A linear combiner (one for images without and one for "
        "images with JPEG evidence) turns the features into a score, and the score is converted "
        "into a likelihood ratio by logistic calibration on images the combiner had not been fitted "
        "on. The verdict follows from the likelihood ratio: neural at or above the level at which "
        "real camera photos of makes left out of training were called neural at most 1% of the "
        "time, not-neural at or below 1/10, inconclusive in between or when the image is outside "
        "the validated domain. Error rates come from real data only: camera makes left out of "
        "training in turn, and published codec families left out in turn, with a plain baseline "
        "(a logistic regression over twelve grid-peak strengths) measured in the same folds."
    ),
    "parameters": {
        "tile": spectral.TILE,
        "periods": list(spectral.PERIODS),
        "coherence cell": spectral.COHERENCE_CELL,
        "coherence periods": list(spectral.COHERENCE_PERIODS),
        "residual": "pixel minus 3x3 mean",
        "window": "Hann",
        "camera-pipeline evidence": "CFA contrasts of the 4-neighbour prediction residual per 2x2 position "
                                    f"(centre crop of at most {cfa.MAX_SIDE} pixels); JPEG table distance from IJG scaling",
        "combiner": "linear, one per branch (JPEG evidence or not); trace features non-negative; every codec "
                    "family and every camera make or kind of processing weighted equally in the fit",
        "likelihood ratio": "log LR = a logit(score) + b, class-balanced logistic calibration on out-of-fold "
                            "scores, 90% bootstrap interval, capped at the calibration set size",
        "neural verdict": "LR at or above the smallest ENFSI boundary at which photos of camera makes left out "
                          "of training were called neural at most 1% of the time",
        "not-neural verdict": f"LR at most {likelihood.NOT_NEURAL_LR:g}",
        "validated domain": "at least 256 pixels a side, residual RMS at least 0.25 grey levels, "
                            "JPEG quality at least 30",
    },
    "limitations": [
        "Traces weaken at high bit rates and are largely erased by JPEG re-compression below "
        "about quality 90, by down-scaling, by heavy filtering and by printing/re-photographing; "
        "a not-neural or inconclusive verdict is therefore not proof that no neural codec was involved.",
        "The camera photos behind the false-positive rate are 75 photos of 9 makes; phones and "
        "processing chains unlike them (multi-frame computational photography, beauty filters, "
        "AI upscaling in the phone) were not in the validation data.",
        "Codec families unlike those in the validation data may be missed; the families found "
        "poorly when left out are named with their rates in every result.",
        "An image up-scaled x2 by classical interpolation carries the band-limited, periodic "
        "residual of a stride-2 decoder: with such up-scales of smooth scans left out of training, "
        "all of them were called neural. Where an up-scale is possible, a neural verdict needs "
        "that history excluded.",
    ],
    "citations": ["bergmann2023frequency", "bergmann2024forensic", "bergmann2025jpegai", "popescu2005cfa",
                  likelihood.CITATION],
}

# Plain-language names for the features, used in explanations.
_FEATURE_WORDS = {
    "p2": "period-2 (k/2)", "p4": "period-4 (k/4)", "p8": "period-8 (k/8)", "p16": "period-16 (k/16)",
}


@dataclass
class DetectorModel:
    version: str
    features: list[str]
    clip: dict[str, list[float]]
    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    bias: float
    threshold_neural: float
    threshold_not_neural: float
    measured: dict[str, Any] = field(default_factory=dict)
    composition: dict[str, Any] = field(default_factory=dict)
    # Features at frequencies that JPEG's own block grids explain (luma k/8 and k/16; every
    # chroma frequency, whose 4:2:0 blocks are 16 pixels wide): they do not count when the
    # image shows JPEG compression.
    jpeg_masked: list[str] = field(default_factory=list)
    # A combiner of its own, with its own thresholds, for images that show JPEG compression:
    # after JPEG only the luma period-2/4 evidence is left, and JPEG negatives set its bar.
    jpeg_branch: DetectorModel | None = None
    # Likelihood-ratio calibration of this branch's score, and the LR a "neural" verdict needs
    # (an ENFSI boundary chosen so that held-out negatives are called neural at most 1 % of the
    # time, 95 % upper bound). Models without it (v2) give no LR.
    lr_calibration: LrCalibration | None = None
    lr_neural: float = 0.0
    # Model v3: one hidden layer of tanh units between the standardised features and the logit
    # ({"w1": d x H, "b1": H, "w2": H, "b2": float}); the linear weights then only serve the
    # explanation's first guess and v2 compatibility.
    hidden: dict[str, Any] | None = None
    # SHA-256 of the file the model was read from (not stored in it): names the exact model
    # in every result.
    sha256: str = ""

    def branch(self, features: dict[str, float]) -> DetectorModel:
        if self.jpeg_branch is not None and features.get(JPEG_KEY, 0.0) >= 0.5:
            return self.jpeg_branch
        return self

    def vector(self, features: dict[str, float]) -> np.ndarray:
        x = np.array([float(features.get(f, 0.0)) for f in self.features])
        lo = np.array([self.clip.get(f, [-np.inf, np.inf])[0] for f in self.features])
        hi = np.array([self.clip.get(f, [-np.inf, np.inf])[1] for f in self.features])
        return np.clip(x, lo, hi)

    def _inputs(self, features: dict[str, float]) -> np.ndarray:
        x = (self.vector(features) - self.mean) / self.std
        if features.get(JPEG_KEY, 0.0) >= 0.5 and self.jpeg_masked:
            x[[f in self.jpeg_masked for f in self.features]] = 0.0
        return x

    def contributions(self, features: dict[str, float]) -> np.ndarray:
        """Per-feature terms of the logit (of this model itself, not of its JPEG branch).
        ``features[JPEG_KEY]`` (1.0 when the image shows JPEG compression) switches the masked
        features off. With a hidden layer: each input times the logit's slope along it at this
        point, integrated along the straight path from the all-zero input (the calibration mean)
        to this one, for the explanation only. A slope taken at the point alone is near zero
        exactly when the hidden units saturate, that is, for the strongest evidence; the
        integrated terms add up to the logit's rise over the mean input instead."""
        x = self._inputs(features)
        if self.hidden is None:
            return self.weights * x
        w1, b1, w2 = (np.asarray(self.hidden[k], float) for k in ("w1", "b1", "w2"))
        alphas = (np.arange(INTEGRATION_STEPS) + 0.5) / INTEGRATION_STEPS
        h = np.tanh(np.outer(alphas, x) @ w1 + b1)  # steps x hidden
        slopes = (w2 * (1.0 - h * h)) @ w1.T  # steps x inputs
        return x * slopes.mean(axis=0)

    def logit(self, features: dict[str, float]) -> float:
        """This model's own logit (not its JPEG branch's)."""
        x = self._inputs(features)
        if self.hidden is None:
            return float(self.weights @ x + self.bias)
        w1, b1, w2 = (np.asarray(self.hidden[k], float) for k in ("w1", "b1", "w2"))
        return float(np.tanh(x @ w1 + b1) @ w2 + float(self.hidden["b2"]))

    def score(self, features: dict[str, float]) -> float:
        return float(sigmoid(self.branch(features).logit(features)))

    def likelihood_ratio(self, score: float, features: dict[str, float]) -> float:
        """The calibrated LR of ``score`` (NaN for a model without LR calibration)."""
        cal = self.branch(features).lr_calibration
        return float("nan") if cal is None else cal.lr(score)

    def lr_interval(self, score: float, features: dict[str, float]) -> tuple[float, float]:
        cal = self.branch(features).lr_calibration
        return (float("nan"), float("nan")) if cal is None else cal.interval(score)

    def verdict_for_lr(self, lr: float, features: dict[str, float]) -> str:
        """The verdict follows from the LR: neural at or above the branch's decision level,
        not-neural at or below 1/10, inconclusive in between (no or weak support either way)."""
        m = self.branch(features)
        if not np.isfinite(lr) or m.lr_calibration is None:
            return self.verdict(self.score(features), features)
        if lr >= m.lr_neural:
            return "neural"
        if lr <= likelihood.NOT_NEURAL_LR:
            return "not-neural"
        return "inconclusive"

    def verdict(self, score: float, features: dict[str, float] | None = None) -> str:
        m = self.branch(features or {})
        if m.lr_calibration is not None:
            lr = m.lr_calibration.lr(score)
            return "neural" if lr >= m.lr_neural else "not-neural" if lr <= likelihood.NOT_NEURAL_LR else "inconclusive"
        if score >= m.threshold_neural:
            return "neural"
        if score < m.threshold_not_neural:
            return "not-neural"
        return "inconclusive"

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "miscompression-examiner detector model", "version": self.version,
            "features": self.features, "clip": self.clip, "mean": self.mean.round(6).tolist(),
            "std": self.std.round(6).tolist(), "weights": self.weights.round(6).tolist(),
            "bias": round(self.bias, 6), "threshold_neural": self.threshold_neural,
            "threshold_not_neural": self.threshold_not_neural, "measured": self.measured,
            "composition": self.composition, "jpeg_masked": self.jpeg_masked,
            "jpeg_branch": None if self.jpeg_branch is None else self.jpeg_branch.to_dict(),
            "lr_calibration": None if self.lr_calibration is None else self.lr_calibration.to_dict(),
            "lr_neural": self.lr_neural, "hidden": self.hidden,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DetectorModel:
        return cls(
            version=str(d["version"]), features=list(d["features"]), clip=dict(d.get("clip", {})),
            mean=np.asarray(d["mean"], float), std=np.asarray(d["std"], float),
            weights=np.asarray(d["weights"], float), bias=float(d["bias"]),
            threshold_neural=float(d["threshold_neural"]), threshold_not_neural=float(d["threshold_not_neural"]),
            measured=dict(d.get("measured", {})), composition=dict(d.get("composition", {})),
            jpeg_masked=list(d.get("jpeg_masked", [])),
            jpeg_branch=None if not d.get("jpeg_branch") else DetectorModel.from_dict(d["jpeg_branch"]),
            lr_calibration=None if not d.get("lr_calibration") else LrCalibration.from_dict(d["lr_calibration"]),
            lr_neural=float(d.get("lr_neural", 0.0)),
            hidden=None if not d.get("hidden") else {k: d["hidden"][k] for k in ("w1", "b1", "w2", "b2")},
        )


def attach_lr(model: DetectorModel, feats: list[dict[str, float]], oof_scores: np.ndarray, labels: np.ndarray,
              n_bootstrap: int = 200) -> None:
    """Calibrate each branch's LR on out-of-fold scores of the images that branch scores, and
    set its decision level; the score thresholds are kept equal to the LR's for the views that
    show them."""
    is_jpeg = np.array([model.jpeg_branch is not None and f.get(JPEG_KEY, 0.0) >= 0.5 for f in feats])
    for branch, rows in ((model, ~is_jpeg), (model.jpeg_branch, is_jpeg)):
        if branch is None or not rows.any():
            continue
        s, y = np.asarray(oof_scores)[rows], np.asarray(labels)[rows]
        branch.lr_calibration = likelihood.calibrate(s, y, n_bootstrap=n_bootstrap)
        branch.lr_neural = likelihood.decision_level(branch.lr_calibration, s[y == 0])
        branch.threshold_neural = round(branch.lr_calibration.score_for_lr(branch.lr_neural), 6)
        branch.threshold_not_neural = round(branch.lr_calibration.score_for_lr(likelihood.NOT_NEURAL_LR), 6)


def image_features(pixels: np.ndarray, path: str | Path | None = None) -> dict[str, float]:
    """Every feature a model may use: spectral peaks and coherence, residual statistics, and
    the JPEG-evidence flag and strengths."""
    feats = dict(spectral.analyse(pixels).features)
    feats.update(_extra_features(pixels, jpeg_evidence.analyse(pixels, path)))
    return feats


def _extra_features(pixels: np.ndarray, jpg: jpeg_evidence.JpegEvidence) -> dict[str, float]:
    f = texture.features(spectral.luma(pixels))
    f.update(cfa.features(pixels))
    f[TABLE_KEY] = jpeg_evidence.table_deviation(jpg.luma_table)
    f[JPEG_KEY] = 1.0 if jpg.compressed else 0.0
    f["jpeg_grid"] = float(jpg.grid_strength)
    f["jpeg_dct"] = float(jpg.dct_quant_score)
    f["jpeg_quality"] = float(jpg.container_quality or 0.0)  # for the domain check, not a model feature
    return f


_MODEL: DetectorModel | None = None


def load_model(path: str | Path | None = None) -> DetectorModel:
    """The shipped model (cached) or one from ``path`` (e.g. a fresh calibration)."""
    global _MODEL
    if path is None and _MODEL is not None:
        return _MODEL
    where = str(path) if path is not None else f"examiner/data/{MODEL_FILE}"
    try:
        if path is not None:
            text = Path(path).read_text(encoding="utf-8")
        else:
            text = (Path(__file__).resolve().parents[1] / "data" / MODEL_FILE).read_text(encoding="utf-8")
        model = DetectorModel.from_dict(json.loads(text))
        model.sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ExaminerError(f"{where}: cannot load the detector model ({type(exc).__name__}: {exc})") from exc
    for m in (model, model.jpeg_branch):
        if m is None:
            continue
        if len(m.weights) != len(m.features) or len(m.mean) != len(m.features):
            raise ExaminerError(f"{where}: detector model is inconsistent (feature and weight counts differ)")
        if m.hidden is not None and np.asarray(m.hidden["w1"], float).shape[0] != len(m.features):
            raise ExaminerError(f"{where}: detector model is inconsistent (hidden layer and feature counts differ)")
    if path is None:
        _MODEL = model
    return model


@dataclass
class Detection:
    path: str | None
    score: float
    verdict: str
    explanation: str
    spectral: spectral.SpectralResult
    jpeg: jpeg_evidence.JpegEvidence
    candidates: Any = None  # identify.Identification when codecs were run
    model_version: str = ""
    error_rates: dict[str, Any] = field(default_factory=dict)
    model_sha256: str = ""
    # Calibrated likelihood ratio (NaN when the model has no LR calibration), its 90 % bootstrap
    # interval, the ENFSI verbal equivalent, and why the verdict is inconclusive when it is.
    lr: float = float("nan")
    lr_interval: tuple[float, float] = (float("nan"), float("nan"))
    verbal_scale: str = ""
    out_of_domain: str | None = None
    inconclusive_reason: str | None = None
    # Where the trace is (analysis.localise.summary): boxes of flagged windows, model file, and
    # the rates it was measured at. None when the image has too few tiles for a window.
    localisation: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "path": self.path, "score": round(self.score, 4), "verdict": self.verdict,
            "lr": _round_lr(self.lr), "lr_interval_90": [_round_lr(v) for v in self.lr_interval],
            "log10_lr": None if not np.isfinite(self.lr) else round(float(np.log10(self.lr)), 3),
            "verbal_scale": self.verbal_scale, "out_of_domain": self.out_of_domain,
            "inconclusive_reason": self.inconclusive_reason,
            "explanation": self.explanation, "spectral": self.spectral.key_features(),
            "jpeg": self.jpeg.to_dict(), "model_version": self.model_version, "model_sha256": self.model_sha256,
            "method_module": __name__, "error_rates": self.error_rates, "localisation": self.localisation,
        }
        if self.candidates is not None:
            ident = self.candidates.to_dict()
            d["candidates"] = ident.pop("candidates")
            d["identification"] = ident
        return d


def _round_lr(v: float) -> float | None:
    """LRs in JSON: NaN becomes null; three significant digits are all the data support."""
    return None if not np.isfinite(v) else float(f"{v:.3g}")


# The validated domain: what the sets behind the error rates contain. Outside it the LR is not
# reported as evidence and the verdict is inconclusive, saying why.
MIN_SIDE = 256  # the smallest images in the validation data (Kodak halved) are 384x256
MIN_RESIDUAL_RMS = 0.25  # grey levels: below this the image is flat (a graphic, a blank frame)
MIN_JPEG_QUALITY = 30  # JPEG below this erases every decoder trace (measured: q20 positives)


def domain_issue(pixels: np.ndarray, feats: dict[str, float], jpg: jpeg_evidence.JpegEvidence) -> str | None:
    h, w = pixels.shape[:2]
    if min(h, w) < MIN_SIDE:
        return f"too small: {w}x{h} pixels, the validated minimum is {MIN_SIDE} on each side"
    if feats.get("t_rms", 1.0) < MIN_RESIDUAL_RMS:
        return (f"too flat: the fine-detail residual is {feats['t_rms']:.2f} grey levels RMS "
                f"(validated from {MIN_RESIDUAL_RMS}); there is no texture to carry traces")
    if jpg.container_quality is not None and jpg.container_quality < MIN_JPEG_QUALITY:
        return (f"heavy re-processing: JPEG at quality about {jpg.container_quality:.0f} "
                f"(validated from {MIN_JPEG_QUALITY}), which erases decoder traces")
    return None


def _feature_words(name: str) -> str:
    ch, per, kind = (name.split("_", 2) + [""])[:3]
    if per.startswith("coh"):
        where = "on the axes" if kind == "axis" else "on the diagonal lattice"
        return f"a period-{per[3:]} pattern with the same phase all over the luma residual ({where})"
    plane = "luma" if ch == "y" else "chroma"
    if per.startswith("ac"):
        return f"{plane} residual autocorrelation peaking at a lag of {per[2:]} pixels"
    where = "on the axes" if kind == "axis" else "on the diagonal lattice"
    return f"{_FEATURE_WORDS.get(per, per)} peaks in the {plane} residual spectrum {where}"


_STAT_WORDS = {
    "t_flat": "the share of flat 8x8 areas in the finest residual ({:.0%})",
    "t_kurt": "how heavy-tailed the finest residual is (log kurtosis {:.2f})",
    "t_band": "how much of the finest detail band is left against the next one (log ratio {:.2f})",
    "jpeg_grid": "the strength of an 8x8 block grid (log ratio {:.2f})",
    "jpeg_dct": "the clustering of DCT coefficients at quantisation steps ({:.2f})",
    "cfa_g_diag": "camera demosaicking traces in green (contrast {:.3f})",
    "cfa_g_rowcol": "a row or column pattern in green's residual (contrast {:.3f})",
    "cfa_rb_rowcol": "camera demosaicking traces in red and blue (contrast {:.3f})",
    "cfa_rb_diag": "a diagonal pattern in red and blue's residual (contrast {:.3f})",
    "cfa_bayer": "a high margin between green's and red and blue's demosaicking contrasts ({:.3f})",
    "jpeg_table_custom": "a JPEG table of the camera's own rather than a standard one (distance {:.2f})",
}
# The same features when their value lies below the model's average: for signed features a low
# value is what pushes towards one side, and must be said as such.
_LOW_WORDS = {
    "t_flat": "few flat 8x8 areas in the finest residual ({:.0%})",
    "t_kurt": "a light-tailed finest residual (log kurtosis {:.2f})",
    "t_band": "little of the finest detail band left against the next one (log ratio {:.2f})",
    "jpeg_grid": "a weak or absent 8x8 block grid (log ratio {:.2f})",
    "jpeg_dct": "little clustering of DCT coefficients at quantisation steps ({:.2f})",
    "cfa_g_diag": "weak or no camera demosaicking traces in green (contrast {:.3f})",
    "cfa_g_rowcol": "no row or column pattern in green's residual (contrast {:.3f})",
    "cfa_rb_rowcol": "weak or no camera demosaicking traces in red and blue (contrast {:.3f})",
    "cfa_rb_diag": "no diagonal pattern in red and blue's residual (contrast {:.3f})",
    "cfa_bayer": "a low margin between green's and red and blue's demosaicking contrasts ({:.3f})",
    "jpeg_table_custom": "no camera-specific JPEG table (distance {:.2f})",
}


def _evidence_phrase(name: str, value: float, low: bool = False) -> str:
    """A feature and its strength in words: peaks against the spectral floor, coherence against
    random phases; autocorrelation features have no ratio to quote. ``low``: the value lies below
    the model's average, which is what counts for a signed feature."""
    if low and name in _LOW_WORDS:
        return _LOW_WORDS[name].format(value)
    if low:
        # A trace below the model's average is weak evidence of a decoder, and is named so.
        phrase = _evidence_phrase(name, value)
        return "a weak " + phrase[2:] if phrase.startswith("a ") else "weak " + phrase
    if name in _STAT_WORDS:
        return _STAT_WORDS[name].format(value)
    if "_ac" in name:
        return _feature_words(name)
    if "_coh" in name:
        return f"{_feature_words(name)} (coherence {np.exp(value):.1f} times what random phases give)"
    return f"{_feature_words(name)} ({np.exp(value):.1f} times the local spectral floor)"


def explain(model: DetectorModel, feats: dict[str, float], score: float, verdict: str,
            jpeg: jpeg_evidence.JpegEvidence, identification: Any = None, out_of_domain: str | None = None) -> str:
    branch = model.branch(feats)
    contrib = branch.contributions(feats)
    order = np.argsort(-contrib)
    inputs = branch._inputs(feats)
    strong = [(branch.features[i], feats.get(branch.features[i], 0.0), bool(inputs[i] < 0))
              for i in order if contrib[i] > 0.25][:3]
    rates = model.measured.get("test", {})
    fpr = rates.get("with_shipped_thresholds", {}).get("false_positive_rate")
    tpr = rates.get("with_shipped_thresholds", {}).get("true_positive_rate")
    parts = [f"Score {score:.2f} on a 0-1 scale; verdict: {verdict}."]
    lr = model.likelihood_ratio(score, feats)
    if out_of_domain is not None:
        parts.append(f"The image is outside the domain the method was validated on ({out_of_domain}); "
                     "the likelihood ratio is not evidence here.")
    elif np.isfinite(lr):
        parts.append(f"Likelihood ratio {lr:.3g}: the score is {lr:.3g} times as probable if the image passed "
                     f"through a learned image decoder as if it did not ({likelihood.verbal(lr)}).")
    if strong:
        bits = [_evidence_phrase(n, v, low) for n, v, low in strong]
        parts.append("The score is driven by " + "; ".join(bits) + ".")
    else:
        parts.append("No single trace stands out; the score comes from many weak ones together."
                     if score >= 0.5 else
                     "No spectral peak at the decoder grid frequencies stands out from the image's own spectrum.")
    against = [(branch.features[i], feats.get(branch.features[i], 0.0), bool(inputs[i] < 0))
               for i in order[::-1] if contrib[i] < -0.25][:3]
    if against and verdict != "neural":
        parts.append("Against neural-codec processing speak " + "; ".join(_evidence_phrase(n, v, low)
                                                                            for n, v, low in against) + ".")
    if verdict == "neural":
        periodic = any(any(k in n for k in ("grid", "axis", "diag", "coh")) and not n.startswith("cfa_")
                       for n, _, _ in strong)
        parts.append("Such periodic traces are what the stride-2 up-sampling layers of learned image decoders leave."
                     if periodic or not strong else
                     "Learned image decoders synthesise or smooth the finest detail differently from cameras and "
                     "classical codecs, which is what these residual statistics measure.")
    elif verdict == "inconclusive" and branch.lr_calibration is None:
        parts.append("The traces are stronger than in most never-neural images but below the threshold "
                     "that keeps false positives at 1% or less.")
    if jpeg.compressed:
        q = f" (quality about {jpeg.container_quality:.0f})" if jpeg.container_quality else ""
        parts.append(f"The image also shows JPEG compression{q}: {jpeg.summary}.")
        if verdict == "neural":
            parts.append("The neural traces do not depend on the JPEG block grid, so both histories are present: "
                         "a neural output that was later saved as JPEG.")
        else:
            parts.append("JPEG compression at moderate quality erases the finest decoder traces, so their absence "
                         "here is weak evidence.")
    elif jpeg.container_jpeg:
        parts.append(jpeg.summary[:1].upper() + jpeg.summary[1:] + ".")
    if identification is not None:
        parts.append("Re-compression: " + identification.summary + ".")
    real = model.measured.get("real_data")
    lofo = known_error_rates(model) if model.measured.get("leave_one_family_out") else {}
    if real:
        parts.append(detector_rates.validation_sentence(model, real))
        if verdict != "neural":
            resemblance = detector_rates.family_resemblance(model, feats)
            if resemblance:
                parts.append(resemblance)
    elif lofo.get("balanced_accuracy_worst_family") is not None:
        parts.append(f"Leave-one-family-out validation of model {model.version}: on codec families never seen in "
                     f"training the balanced accuracy was {lofo['balanced_accuracy_worst_family']:.2f} at worst "
                     f"({lofo['worst_family']}) and {lofo['balanced_accuracy_median_family']:.2f} in the median; "
                     f"on kinds of processing never seen in training at most "
                     f"{100 * lofo['false_positive_rate_worst_group']:.1f}% of never-neural images were called neural "
                     f"(95% upper bound {100 * lofo['false_positive_rate_worst_group_upper_95']:.1f}%).")
    elif fpr is not None and tpr is not None:
        parts.append(f"Measured on the held-out test set of model {model.version}: {100 * fpr:.1f}% of "
                     f"never-neural images were called neural and {100 * tpr:.1f}% of neural-codec outputs were found.")
    return " ".join(parts)


def detect_pixels(pixels: np.ndarray, path: str | Path | None = None, model: DetectorModel | None = None,
                  codecs: list[str] | None | str = "none", ctx: TaskContext | None = None,
                  settings: Settings | None = None) -> Detection:
    """Detection on decoded pixels. ``path`` (read only) lets the JPEG tables be read;
    ``codecs``: "none", "auto" (every available codec) or a list of codec ids to identify with,
    found and run as ``settings`` say (None: the built-in defaults)."""
    ctx = ctx or silent()
    model = model or load_model()
    located: list[dict[str, Any] | None] = [None]

    def locate(tiles: np.ndarray, stride: int) -> None:
        loc = localise.localise_tiles(tiles, stride)
        located[0] = localise.summary(loc, pixels.shape[:2]) if loc.flagged_windows.size else None

    spec = spectral.analyse(pixels, ctx.sub(0.0, 0.4, 1.0), on_tiles=locate)
    ctx.check()
    jpg = jpeg_evidence.analyse(pixels, path)
    ctx.progress(0.5, 1.0, "JPEG evidence")
    feats = dict(spec.features)
    feats.update(_extra_features(pixels, jpg))
    score = model.score(feats)
    lr = model.likelihood_ratio(score, feats)
    interval = model.lr_interval(score, feats)
    issue = domain_issue(pixels, feats, jpg)
    verdict = model.verdict_for_lr(lr, feats)
    reason = None
    if issue is not None:
        verdict, reason = "inconclusive", f"outside the validated domain ({issue})"
    elif verdict == "inconclusive":
        reason = (f"likelihood ratio {lr:.3g} is between {likelihood.NOT_NEURAL_LR:g} and "
                  f"{model.branch(feats).lr_neural:g}, the level a neural verdict needs (on held-out never-neural "
                  "images that level was passed at most 1% of the time)" if np.isfinite(lr)
                  else "score between the model's thresholds")
    # Outside the validated domain the LR is still given (so results can be ranked) but is not
    # put into words as evidence.
    words = ("not evaluated (outside the validated domain)" if issue is not None
             else likelihood.verbal(lr) if np.isfinite(lr) else "")
    identification = None
    if codecs != "none":
        from examiner.analysis import identify

        ids = None if codecs == "auto" else list(codecs)  # type: ignore[arg-type]
        hint = {"jpeg": int(jpg.container_quality)} if jpg.container_quality else None
        identification = identify.identify(pixels, ids, ctx.sub(0.5, 1.0, 1.0), quality_hint=hint, settings=settings)
    ctx.progress(1.0, 1.0, "detection done")
    return Detection(
        path=None if path is None else str(path), score=score, verdict=verdict,
        explanation=explain(model, feats, score, verdict, jpg, identification, out_of_domain=issue),
        spectral=spec, jpeg=jpg, candidates=identification, model_version=model.version,
        error_rates=known_error_rates(model), model_sha256=model.sha256, lr=lr, lr_interval=interval, verbal_scale=words,
        out_of_domain=issue, inconclusive_reason=reason, localisation=located[0],
    )


def known_error_rates(model: DetectorModel | None = None) -> dict[str, Any]:
    """The error rates the shipped (or the given) model quotes: see :mod:`detector_rates`."""
    return detector_rates.error_rates(model or load_model())


def detect_file(path: str | Path, model: DetectorModel | None = None, codecs: list[str] | None | str = "none",
                ctx: TaskContext | None = None, settings: Settings | None = None) -> Detection:
    """Open evidence read-only through intake (under the settings' pixel limit) and run
    :func:`detect_pixels`."""
    from examiner.core.evidence import open_evidence

    ev = open_evidence(path, settings.max_pixels if settings is not None else None)
    return detect_pixels(ev.pixels, path, model=model, codecs=codecs, ctx=ctx, settings=settings)

