"""Error-rate statistics of a detector: ROC AUC, thresholds for a false-positive rate, and the
one-sided Clopper-Pearson bound on a rate observed as k of n. Pure functions of scores and labels,
used at run time (likelihood-ratio decision levels) and in calibration and validation alike.
"""

from __future__ import annotations

import numpy as np


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    allv = np.concatenate([pos, neg])[order]
    # Average ranks over ties.
    i = 0
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        ranks[order[i : j + 1]] = 0.5 * (i + j) + 1
        i = j + 1
    r_pos = ranks[: len(pos)].sum()
    return float((r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def threshold_for_fpr(neg_scores: np.ndarray, fpr: float) -> float:
    """Smallest threshold t with at most ``fpr`` of negatives scoring >= t."""
    s = np.sort(np.asarray(neg_scores))[::-1]
    k = int(np.floor(fpr * len(s)))  # this many negatives may be at or above t
    if k >= len(s):
        return float(s[-1])
    return float(np.nextafter(s[k], np.inf))


def fpr_upper_bound(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound on a rate observed as k of n."""
    from scipy.stats import beta

    if k >= n:
        return 1.0
    return float(beta.ppf(confidence, k + 1, n - k))


def threshold_for_confident_fpr(neg_scores: np.ndarray, fpr: float, confidence: float = 0.95) -> float:
    """Smallest threshold whose false-positive rate is at most ``fpr`` with the given confidence
    (Clopper-Pearson), judged on these negatives. With too few negatives to show that, the
    threshold sits just above the highest negative."""
    s = np.sort(np.asarray(neg_scores))[::-1]
    n = len(s)
    k = 0
    while k + 1 < n and fpr_upper_bound(k + 1, n, confidence) <= fpr:
        k += 1
    return float(np.nextafter(s[k], np.inf))


def tpr_at_fpr(scores: np.ndarray, labels: np.ndarray, fpr: float) -> tuple[float, float]:
    t = threshold_for_fpr(scores[labels == 0], fpr)
    return float(np.mean(scores[labels == 1] >= t)), t
