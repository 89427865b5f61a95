"""How screening ranks results: by the calibrated likelihood ratio when the detector gives one,
otherwise by its score. One place, so the results file, the HTML report and the GUI agree."""

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
