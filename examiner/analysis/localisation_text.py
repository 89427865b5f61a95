"""A localisation map in words, with the rates it was measured at.

Apart from :mod:`examiner.analysis.localise` so that the report, the command line and the window
can say what a recorded map shows without loading the spectral code.
"""

from __future__ import annotations

from typing import Any


def describe(loc: dict[str, Any] | None) -> str:
    """The map in words, with the rates it was measured at, for the report and the command line."""
    if not loc:
        return ""
    boxes = [b for b in loc.get("boxes") or [] if isinstance(b, list) and len(b) == 4]
    n, total = int(loc.get("flagged_windows") or 0), int(loc.get("windows") or 0)
    side = loc.get("window_pixels", "?")
    sha = str(loc.get("model_sha256") or "")[:16]
    head = f"Localisation (model {loc.get('model_version', '?')}, file SHA-256 {sha}...): "
    if n == 0:
        found = f"none of the {total} windows of {side} pixels is flagged."
    else:
        where = "; ".join(f"x {x}-{x + w}, y {y}-{y + h} ({w} x {h} pixels)" for x, y, w, h in boxes[:5])
        more = f" and {len(boxes) - 5} more" if len(boxes) > 5 else ""
        found = (f"{n} of {total} windows of {side} pixels flagged, in {len(boxes)} area(s): {where}{more}.")
    m = loc.get("measured") or {}
    try:
        rates = (
            f" Measured on splices into Kodak images it was not fitted on, the flagged area overlapped the pasted "
            f"one (IoU at least 0.5) in {100 * float(m['iou_at_least_0.5_fitted_decoders']):.1f}% of "
            f"{m['splices_fitted_decoders']} splices from decoders it was fitted on and in "
            f"{100 * float(m['iou_at_least_0.5_unseen_decoders']):.1f}% of {m['splices_unseen_decoders']} from "
            f"decoders it never saw; nothing was flagged on {100 * float(m['untouched_nothing_flagged']):.1f}% of "
            f"{m['untouched_test_images']} untouched images."
        )
    except (KeyError, TypeError, ValueError):
        rates = " The model file states no measured rates."
    caution = (" The map shows where to look: a window left unflagged does not show that an area is untouched, "
               "and a flagged one is not by itself a finding of a splice.")
    return head + found + rates + caution
