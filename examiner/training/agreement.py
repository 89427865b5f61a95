"""Inter-rater agreement on marked regions: Cohen's kappa, Fleiss' kappa, Krippendorff's alpha.

Several examiners mark the same evidence. Their regions are first matched into *units* (one
unit is one place that at least one rater marked; regions of different raters belong to the same
unit when their intersection over union reaches a threshold). Each rater then gives each unit a
nominal value per question: marked or not (presence), each category present or not, the Symbol
flag set or not. Agreement on each question is measured with

* Cohen's kappa for two raters (Cohen 1960): ``(p_o - p_e) / (1 - p_e)``, chance agreement from
  each rater's own label frequencies;
* Fleiss' kappa for any fixed number of raters (Fleiss 1971): mean pairwise agreement per unit
  against chance from the pooled label shares; it needs every rater to rate every unit;
* Krippendorff's alpha for nominal data (Krippendorff 2011, "Computing Krippendorff's
  Alpha-Reliability"): ``1 - D_o / D_e`` from the coincidence matrix. It is used because it
  allows missing values: for the category and Symbol questions a rater who did not mark a unit
  gives no value there, rather than a forced "no".

Confidence intervals are percentile bootstrap intervals over units (resampling units with
replacement, a fixed seed so reports are reproducible); they are given only when there are at
least :data:`MIN_UNITS_FOR_CI` units.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from examiner.core.regions import CORE_CATEGORIES, Region
from examiner.errors import ExaminerError

MIN_UNITS_FOR_CI = 10
BOOTSTRAP_SAMPLES = 2000
DEFAULT_IOU = 0.5

Label = Hashable
MISSING = None

METHOD: dict[str, Any] = {
    "name": "Inter-rater agreement on marked regions",
    "description": (
        "The raters' regions on the same evidence are matched into units by intersection over union "
        "of their pixel masks (greedily, best overlaps first, at most one region per rater and unit). "
        "For each unit every rater gives a value per question: marked or not, each category present "
        "or not, the Symbol flag set or not. Agreement is Cohen's kappa for two raters and Fleiss' "
        "kappa for more, over the units every rater rated, and Krippendorff's alpha for nominal data, "
        "which also uses units some raters did not mark (their value is missing). 95% confidence "
        "intervals are percentile bootstrap intervals over units."
    ),
    "parameters": {
        "iou_threshold": DEFAULT_IOU,
        "bootstrap_samples": BOOTSTRAP_SAMPLES,
        "min_units_for_ci": MIN_UNITS_FOR_CI,
        "bootstrap_seed": 0,
    },
    "limitations": (
        "Presence agreement is computed over places that at least one rater marked; places nobody "
        "marked are not counted, so it describes agreement on what was marked, not on the whole "
        "image. With few units the coefficients are unstable and no interval is given. Kappa is "
        "undefined (shown as n/a) when all raters used one value throughout."
    ),
    "citations": ["cohen1960kappa", "fleiss1971kappa", "hayes2007answering"],
    "version": "1",
}


def cohen_kappa(a: Sequence[Label], b: Sequence[Label]) -> float:
    """Cohen's kappa of two raters' labels for the same items (no missing values)."""
    if len(a) != len(b):
        raise ExaminerError("Cohen's kappa needs the same number of ratings from both raters")
    n = len(a)
    if n == 0:
        raise ExaminerError("Cohen's kappa needs at least one rated item")
    p_o = sum(1 for x, y in zip(a, b, strict=True) if x == y) / n
    ca, cb = Counter(a), Counter(b)
    p_e = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    if p_e >= 1.0:
        return float("nan")  # both raters used one and the same label throughout: undefined
    return (p_o - p_e) / (1.0 - p_e)


def fleiss_kappa(counts: np.ndarray | Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa from a units x labels table of how many raters gave each label."""
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] == 0:
        raise ExaminerError("Fleiss' kappa needs a non-empty units x labels table")
    raters = table.sum(axis=1)
    if np.any(raters != raters[0]) or raters[0] < 2:
        raise ExaminerError("Fleiss' kappa needs the same number (at least two) of raters for every unit")
    n, r = table.shape[0], raters[0]
    p_j = table.sum(axis=0) / (n * r)
    p_i = (np.sum(table * table, axis=1) - r) / (r * (r - 1))
    p_bar, p_e = float(p_i.mean()), float(np.sum(p_j * p_j))
    if p_e >= 1.0:
        return float("nan")
    return (p_bar - p_e) / (1.0 - p_e)


def krippendorff_alpha_nominal(ratings: Sequence[Sequence[Label | None]]) -> float:
    """Krippendorff's alpha for nominal values; ``ratings[rater][unit]``, None where missing.

    Units with fewer than two values are not pairable and drop out, as the method prescribes.
    """
    if not ratings:
        raise ExaminerError("Krippendorff's alpha needs at least one rater")
    n_units = len(ratings[0])
    if any(len(r) != n_units for r in ratings):
        raise ExaminerError("every rater needs a value (or None) for every unit")
    coincidence: Counter[tuple[Label, Label]] = Counter()
    for u in range(n_units):
        values = [r[u] for r in ratings if r[u] is not MISSING]
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        for c in counts:
            for k in counts:
                pairs = counts[c] * (counts[k] - (1 if c == k else 0))
                if pairs:
                    coincidence[(c, k)] += pairs / (m - 1)
    n_total = sum(coincidence.values())
    if n_total <= 1:
        return float("nan")
    marginals: Counter[Label] = Counter()
    for (c, _k), v in coincidence.items():
        marginals[c] += v
    observed = sum(v for (c, k), v in coincidence.items() if c != k)
    expected = sum(marginals[c] * marginals[k] for c in marginals for k in marginals if c != k) / (n_total - 1)
    if expected == 0:
        return float("nan")
    return 1.0 - observed / expected


def bootstrap_ci(
    statistic: Callable[[list[int]], float], n_units: int, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0
) -> tuple[float, float] | None:
    """95% percentile interval of ``statistic(unit indices)`` over resampled units."""
    if n_units < MIN_UNITS_FOR_CI:
        return None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(samples):
        idx = [int(i) for i in rng.integers(0, n_units, n_units)]
        v = statistic(idx)
        if np.isfinite(v):
            values.append(v)
    if len(values) < samples // 2:
        return None
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


# ---------------------------------------------------------------------------- region matching


def region_iou(a: Region, b: Region) -> float:
    """Intersection over union of two regions' pixel masks (computed over their joint box only)."""
    ax, ay, aw, ah = a.bbox()
    bx, by, bw, bh = b.bbox()
    x0, y0 = min(ax, bx), min(ay, by)
    x1, y1 = max(ax + aw, bx + bw), max(ay + ah, by + bh)
    if min(ax + aw, bx + bw) <= max(ax, bx) or min(ay + ah, by + bh) <= max(ay, by):
        return 0.0

    def local(r: Region) -> np.ndarray:
        moved = Region.from_dict({**r.to_dict(), "points": [(px - x0, py - y0) for px, py in r.points]})
        return moved.mask(y1 - y0, x1 - x0)

    ma, mb = local(a), local(b)
    union = int(np.count_nonzero(ma | mb))
    return 0.0 if union == 0 else int(np.count_nonzero(ma & mb)) / union


@dataclass
class Unit:
    """One place marked by at least one rater: ``regions[rater]`` is that rater's region or None."""

    regions: list[Region | None]

    def box(self) -> tuple[int, int, int, int]:
        boxes = [r.bbox() for r in self.regions if r is not None]
        x0 = min(b[0] for b in boxes)
        y0 = min(b[1] for b in boxes)
        x1 = max(b[0] + b[2] for b in boxes)
        y1 = max(b[1] + b[3] for b in boxes)
        return x0, y0, x1 - x0, y1 - y0


def match_regions(per_rater: Sequence[Sequence[Region]], threshold: float = DEFAULT_IOU) -> list[Unit]:
    """Group regions of different raters into units: greedily, best overlaps first, a region
    joins a unit when its IoU with every region already there reaches ``threshold`` and the unit
    has none from its rater yet."""
    m = len(per_rater)
    candidates: list[tuple[float, int, int, int, int]] = []
    for i in range(m):
        for j in range(i + 1, m):
            for ii, ra in enumerate(per_rater[i]):
                for jj, rb in enumerate(per_rater[j]):
                    v = region_iou(ra, rb)
                    if v >= threshold:
                        candidates.append((v, i, ii, j, jj))
    candidates.sort(key=lambda c: -c[0])
    unit_of: dict[tuple[int, int], int] = {}
    units: list[list[Region | None]] = []
    for _v, i, ii, j, jj in candidates:
        ua, ub = unit_of.get((i, ii)), unit_of.get((j, jj))
        if ua is None and ub is None:
            units.append([None] * m)
            units[-1][i], units[-1][j] = per_rater[i][ii], per_rater[j][jj]
            unit_of[(i, ii)] = unit_of[(j, jj)] = len(units) - 1
            continue
        if ua is not None and ub is not None:
            continue
        unit, rater, idx = (ua, j, jj) if ua is not None else (ub, i, ii)
        assert unit is not None
        members = units[unit]
        newcomer = per_rater[rater][idx]
        if members[rater] is None and all(r is None or region_iou(r, newcomer) >= threshold for r in members):
            members[rater] = newcomer
            unit_of[(rater, idx)] = unit
    for i in range(m):
        for ii, r in enumerate(per_rater[i]):
            if (i, ii) not in unit_of:
                units.append([None] * m)
                units[-1][i] = r
    return [Unit(u) for u in units]


# ---------------------------------------------------------------------------- questions


def _questions(units: list[Unit], raters: int) -> dict[str, list[list[Label | None]]]:
    """Per question: ratings[rater][unit]; None where the rater gave no value."""
    out: dict[str, list[list[Label | None]]] = {
        "presence": [[u.regions[r] is not None for u in units] for r in range(raters)]
    }
    for cat in CORE_CATEGORIES:
        out[f"category {cat.value}"] = [
            [None if u.regions[r] is None else cat in u.regions[r].categories for u in units]  # type: ignore[union-attr]
            for r in range(raters)
        ]
    out["symbol flag"] = [
        [None if u.regions[r] is None else bool(u.regions[r].symbol) for u in units]  # type: ignore[union-attr]
        for r in range(raters)
    ]
    return out


def _complete_units(ratings: list[list[Label | None]], idx: Sequence[int]) -> list[int]:
    return [u for u in idx if all(r[u] is not None for r in ratings)]


def _kappa(ratings: list[list[Label | None]], idx: Sequence[int]) -> float:
    """Cohen's kappa for two raters, Fleiss' for more, over the units every rater rated."""
    units = _complete_units(ratings, idx)
    if not units:
        return float("nan")
    if len(ratings) == 2:
        return cohen_kappa([ratings[0][u] for u in units], [ratings[1][u] for u in units])
    labels = sorted({ratings[r][u] for r in range(len(ratings)) for u in units}, key=str)
    table = [[sum(1 for r in ratings if r[u] == lab) for lab in labels] for u in units]
    return fleiss_kappa(table)


def _alpha(ratings: list[list[Label | None]], idx: Sequence[int]) -> float:
    return krippendorff_alpha_nominal([[r[u] for u in idx] for r in ratings])


def _finite(v: float) -> float | None:
    return round(float(v), 4) if np.isfinite(v) else None


@dataclass
class QuestionAgreement:
    question: str
    kappa_name: str  # "Cohen's kappa" or "Fleiss' kappa"
    kappa: float | None
    kappa_ci: tuple[float, float] | None
    kappa_units: int  # units every rater rated (what the kappa used)
    alpha: float | None
    alpha_ci: tuple[float, float] | None
    alpha_units: int  # units with at least two values (what the alpha used)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "kappa_name": self.kappa_name,
            "kappa": self.kappa,
            "kappa_ci95": list(self.kappa_ci) if self.kappa_ci else None,
            "kappa_units": self.kappa_units,
            "krippendorff_alpha": self.alpha,
            "alpha_ci95": list(self.alpha_ci) if self.alpha_ci else None,
            "alpha_units": self.alpha_units,
        }


@dataclass
class AgreementReport:
    raters: list[str]
    iou_threshold: float
    units: list[Unit]
    questions: list[QuestionAgreement]
    disagreements: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "raters": self.raters,
            "iou_threshold": self.iou_threshold,
            "units": len(self.units),
            "agreement": [q.to_dict() for q in self.questions],
            "disagreements": self.disagreements,
            "min_units_for_ci": MIN_UNITS_FOR_CI,
            "bootstrap_samples": BOOTSTRAP_SAMPLES,
        }


def _describe(r: Region | None) -> str:
    if r is None:
        return "not marked"
    cats = "+".join(c.value for c in r.categories) or "no category"
    return f"{cats}{', Symbol' if r.symbol else ''}"


def agreement(
    per_rater: Sequence[Sequence[Region]], raters: Sequence[str], threshold: float = DEFAULT_IOU, seed: int = 0
) -> AgreementReport:
    """Match the raters' regions into units and measure agreement on every question."""
    if len(per_rater) < 2:
        raise ExaminerError("agreement needs at least two raters")
    if len(raters) != len(per_rater):
        raise ExaminerError("one name per rater is needed")
    units = match_regions(per_rater, threshold)
    m = len(per_rater)
    kappa_name = "Cohen's kappa" if m == 2 else "Fleiss' kappa"
    results: list[QuestionAgreement] = []
    all_idx = list(range(len(units)))
    for question, ratings in _questions(units, m).items():
        complete = _complete_units(ratings, all_idx)
        pairable = [u for u in all_idx if sum(1 for r in ratings if r[u] is not None) >= 2]
        kappa = _kappa(ratings, all_idx) if units else float("nan")
        alpha = _alpha(ratings, all_idx) if units else float("nan")
        kappa_ci = bootstrap_ci(lambda idx, rt=ratings: _kappa(rt, idx), len(units), seed=seed) if len(complete) >= MIN_UNITS_FOR_CI else None
        alpha_ci = bootstrap_ci(lambda idx, rt=ratings: _alpha(rt, idx), len(units), seed=seed) if len(pairable) >= MIN_UNITS_FOR_CI else None
        results.append(
            QuestionAgreement(question, kappa_name, _finite(kappa), kappa_ci, len(complete), _finite(alpha), alpha_ci, len(pairable))
        )
    disagreements = []
    for i, u in enumerate(units):
        says = [_describe(r) for r in u.regions]
        if len(set(says)) > 1:
            disagreements.append({"unit": i + 1, "box": list(u.box()), "ratings": dict(zip(raters, says, strict=True))})
    return AgreementReport(list(raters), threshold, units, results, disagreements)
