"""How screening ranks results: by the calibrated likelihood ratio when the detector gives one,
otherwise by its score; images at the LR's cap (where many strong ones tie) by the uncapped
strength of their evidence. One place, so the results file, the HTML report and the GUI agree."""

from __future__ import annotations

import math
from typing import Any


def _field(result: Any, name: str) -> Any:
    if isinstance(result, dict):
        return result.get(name)
    return getattr(result, name, None)


def rank_value(result: Any) -> tuple[str, float]:
    """``("lr", value)`` when the detection result (object or dict) carries a likelihood ratio,
    else ``("score", value)``. A larger value ranks higher; an LR is compared on a log scale so
    that ratios below 1 sort below every ratio above it and infinities stay ordered."""
    lr = _field(result, "lr")
    if isinstance(lr, (int, float)) and not isinstance(lr, bool) and not math.isnan(float(lr)):
        lr = float(lr)
        if lr <= 0.0:
            return "lr", -math.inf
        return "lr", math.log10(lr) if math.isfinite(lr) else math.inf
    score = _field(result, "score")
    return "score", float(score) if isinstance(score, (int, float)) else -math.inf


def rank_label(kind: str) -> str:
    return "likelihood ratio (log10)" if kind == "lr" else "score"


def _logit(p: float) -> float:
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return math.log(p) - math.log1p(-p)


def uncapped_value(model: Any, detection: Any) -> float | None:
    """The log10 LR the calibration would give without its cap, from the detection's unrounded
    score and the branch (JPEG or not) that scored it; the combiner's logit when the model has no
    LR calibration. It breaks ties between images at the cap (the cap is set by how many images
    the calibration saw, not by the evidence), so they are ordered by how far past it they are."""
    score = _field(detection, "score")
    if not isinstance(score, (int, float)) or math.isnan(float(score)):
        return None
    z = _logit(float(score))
    if not math.isfinite(z):
        return z
    try:
        from examiner.analysis.detector import JPEG_KEY

        jpeg = _field(detection, "jpeg")
        compressed = bool(getattr(jpeg, "compressed", False))
        cal = model.branch({JPEG_KEY: 1.0 if compressed else 0.0}).lr_calibration
    except (AttributeError, ImportError, TypeError):
        cal = None
    if cal is None:
        return z
    return (float(cal.a) * z + float(cal.b)) / math.log(10.0)


def main_trace(explanation: str | None) -> str:
    """The strongest trace the detector names in its explanation ("driven by A; B; C."), for the
    report's one-line reason why an image ranks high."""
    text = explanation or ""
    marker = "driven by "
    at = text.find(marker)
    if at < 0:
        for sentence in ("No single trace stands out", "No spectral peak"):
            if sentence in text:
                return text[text.index(sentence):].split(". ")[0].rstrip(".")
        return ""
    rest = text[at + len(marker):]
    cut = [i for i in (rest.find("; "), rest.find(". ")) if i >= 0]
    return rest[: min(cut)] if cut else rest.rstrip(".")
