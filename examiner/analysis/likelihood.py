"""Likelihood ratios for the detector's score, and the verbal scale that goes with them.

The evidence is the score s of an image; the two propositions are H1 "the image passed through
a learned (neural) image decoder" and H2 "it did not". The likelihood ratio
LR = p(s | H1) / p(s | H2) is what evaluative reporting asks for (ENFSI 2015): it says how much
more probable the observed score is under one proposition than under the other, and leaves the
prior odds to the court.

Calibration: on scores that were not seen when the score's combiner was fitted (out-of-fold
scores, folds made of whole source images), a class-balanced logistic regression of the label on
the score's logit gives log LR = a * logit(s) + b: with the two classes weighted equally the
fitted posterior odds are the likelihood ratio. Bootstrap refits of (a, b) give its uncertainty.
An LR further from 1 than the calibration set can support (more than its number of images of
either class) is capped at that number.

Verbal scale: the ENFSI guideline's, for support of H1 (LR > 1) and, by the reciprocal, of H2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# ENFSI Guideline for Evaluative Reporting in Forensic Science (2015), verbal equivalents of
# the likelihood ratio. Upper bounds of each band (exclusive), and its words.
VERBAL_SCALE: tuple[tuple[float, str], ...] = (
    (2.0, "no support"),
    (10.0, "weak support"),
    (100.0, "moderate support"),
    (1000.0, "moderately strong support"),
    (10000.0, "strong support"),
    (1000000.0, "very strong support"),
    (float("inf"), "extremely strong support"),
)
H1 = "the image passed through a learned (neural) image decoder"
H2 = "the image did not pass through a learned image decoder"
CITATION = "enfsi2015guideline"
# ENFSI boundaries a "neural" verdict may require; the smallest that keeps the false-positive
# rate on held-out negatives at or below 1 % (95 % upper bound) is chosen at calibration.
DECISION_LEVELS = (10.0, 100.0, 1000.0, 10000.0)
NOT_NEURAL_LR = 0.1


def verbal(lr: float) -> str:
    """The verbal equivalent of ``lr``, naming the proposition it supports."""
    if not np.isfinite(lr) or lr <= 0:
        return "no support"
    strength = lr if lr >= 1.0 else 1.0 / lr
    for upper, words in VERBAL_SCALE:
        if strength < upper:
            if words == "no support":
                return "no support for either proposition"
            side = "neural-codec processing" if lr >= 1.0 else "no neural-codec processing"
            return f"{words} for {side}"
    raise AssertionError("unreachable")


def logit(p: np.ndarray | float) -> np.ndarray:
    q = np.clip(np.asarray(p, float), 1e-9, 1 - 1e-9)
    return np.log(q / (1 - q))


def _fit_ab(z: np.ndarray, y: np.ndarray, weights: np.ndarray, iters: int = 60) -> tuple[float, float]:
    """Weighted logistic regression of y on z (Newton's method; two parameters)."""
    a, b = 1.0, 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(a * z + b, -500.0, 500.0)))
        g = np.array([np.sum(weights * (p - y) * z), np.sum(weights * (p - y))])
        h = weights * p * (1 - p)
        hess = np.array([[np.sum(h * z * z), np.sum(h * z)], [np.sum(h * z), np.sum(h)]]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hess, g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-9:
            break
    # A decreasing LR would mean the score points the wrong way: never report that.
    return max(float(a), 1e-3), float(b)


def _balanced_weights(y: np.ndarray) -> np.ndarray:
    pos, neg = max(1, int(y.sum())), max(1, int(len(y) - y.sum()))
    return np.where(y == 1, 0.5 / pos, 0.5 / neg)


@dataclass
class LrCalibration:
    a: float
    b: float
    cap: float  # |log10 LR| never exceeds log10(cap)
    bootstrap: list[tuple[float, float]] = field(default_factory=list)
    n_positives: int = 0
    n_negatives: int = 0

    def log10_lr(self, score: float, a: float | None = None, b: float | None = None) -> float:
        z = float(logit(score))
        ln = (self.a if a is None else a) * z + (self.b if b is None else b)
        lim = np.log10(self.cap)
        return float(np.clip(ln / np.log(10.0), -lim, lim))

    def lr(self, score: float) -> float:
        return float(10.0 ** self.log10_lr(score))

    def interval(self, score: float, level: float = 0.90) -> tuple[float, float]:
        """The central ``level`` interval of the LR over the bootstrap refits."""
        if not self.bootstrap:
            v = self.lr(score)
            return v, v
        logs = np.array([self.log10_lr(score, a, b) for a, b in self.bootstrap])
        lo, hi = np.quantile(logs, [(1 - level) / 2, 1 - (1 - level) / 2])
        return float(10.0**lo), float(10.0**hi)

    def score_for_lr(self, lr: float) -> float:
        """The score at which the (uncapped) LR equals ``lr``."""
        z = (np.log(lr) - self.b) / self.a
        return float(1.0 / (1.0 + np.exp(-z)))

    def to_dict(self) -> dict[str, Any]:
        return {"a": round(self.a, 6), "b": round(self.b, 6), "cap": self.cap,
                "bootstrap": [[round(a, 5), round(b, 5)] for a, b in self.bootstrap],
                "n_positives": self.n_positives, "n_negatives": self.n_negatives,
                "method": "class-balanced logistic regression of the label on logit(score), out-of-fold scores"}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LrCalibration:
        return cls(a=float(d["a"]), b=float(d["b"]), cap=float(d["cap"]),
                   bootstrap=[(float(a), float(b)) for a, b in d.get("bootstrap", [])],
                   n_positives=int(d.get("n_positives", 0)), n_negatives=int(d.get("n_negatives", 0)))


def calibrate(scores: np.ndarray, labels: np.ndarray, n_bootstrap: int = 200, seed: int = 0) -> LrCalibration:
    """Fit log LR = a * logit(s) + b on held-out scores, with bootstrap refits (resampling
    each class separately, so every refit sees both)."""
    s = np.asarray(scores, float)
    y = np.asarray(labels, float)
    if y.sum() == 0 or y.sum() == len(y):
        raise ValueError("LR calibration needs scores of both classes")
    z = logit(s)
    a, b = _fit_ab(z, y, _balanced_weights(y))
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    boot: list[tuple[float, float]] = []
    for _ in range(n_bootstrap):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        boot.append(_fit_ab(z[idx], y[idx], _balanced_weights(y[idx])))
    cap = float(min(len(pos), len(neg)))
    return LrCalibration(a, b, cap, boot, len(pos), len(neg))


def decision_level(cal: LrCalibration, neg_scores: np.ndarray, max_fpr: float = 0.01) -> float:
    """The smallest ENFSI boundary LR whose false-positive rate on these (held-out) negatives
    has a 95 % upper bound of at most ``max_fpr``; the largest boundary when none has."""
    from examiner.analysis.error_rates import fpr_upper_bound

    neg = np.asarray(neg_scores, float)
    for level in DECISION_LEVELS:
        k = int(sum(cal.lr(float(s)) >= level for s in neg))
        if fpr_upper_bound(k, len(neg)) <= max_fpr:
            return level
    return DECISION_LEVELS[-1]
