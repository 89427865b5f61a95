"""Which detection runs the report shows, and the plain-words legend of their measured features.

Running detection again on the same item with the same method records a new finding; the
report's body shows the latest run per evidence item and method, and lists the earlier ones
in the appendix, one line each, so the same result never reads as if it had been found twice.
"""

from __future__ import annotations

import re
from typing import Any

from examiner.core.case import Finding

# A feature's name, as the report prints it, and what it means in plain words. Names follow
# ``examiner.report.values.figure_label`` (underscores become spaces).
_PERIODIC = re.compile(r"^(y|c) p(\d+) (axis|diag)$")
_FIXED: dict[str, str] = {
    "y grid max": "the strongest of the periodic peaks in the brightness (luma) residual; high values "
                  "are typical of the up-sampling layers of learned image decoders",
    "c grid max": "the strongest of the periodic peaks in the colour (chroma) residual",
    "JPEG aligned": "whether the 8x8 block grid of JPEG compression sits at the image's origin "
                    "(as it does when the image was not cropped after JPEG compression)",
    "JPEG compressed": "whether the pixels show the traces of an earlier JPEG compression",
    "JPEG container jpeg": "whether the file itself is a JPEG file",
    "JPEG container quality": "the JPEG quality estimated from the file's quantisation tables (- where there are none)",
    "JPEG dct quant score": "how strongly the DCT coefficients cluster at multiples of a step (0 = not at "
                            "all, 1 = completely), a trace of JPEG quantisation",
    "JPEG grid strength": "how much larger the steps at 8x8 block borders are than inside blocks (log ratio)",
    "JPEG phase margin": "how much better the best 8x8 grid position explains the coefficients than a typical one",
    "JPEG grid offset": "where the strongest 8x8 block grid starts (x, y in pixels)",
}


def legend_for(name: str) -> str:
    """The meaning of feature ``name``; empty when the report has no words for it."""
    m = _PERIODIC.match(name)
    if m:
        plane = "brightness (luma)" if m.group(1) == "y" else "colour (chroma)"
        where = "along the image axes" if m.group(3) == "axis" else "on the diagonals"
        return (f"strength of the periodic peak with a period of {m.group(2)} pixels {where} in the spectrum of "
                f"the {plane} noise residual, against its neighbourhood (log ratio; 0 = no peak)")
    if name.startswith("JPEG dct steps"):
        return "the quantisation step found for a DCT coefficient (1 = no quantisation seen)"
    return _FIXED.get(name, "")


def feature_legend(names: list[str]) -> list[tuple[str, str]]:
    """(name, meaning) for every distinct feature in ``names``, in order of first appearance;
    features grouped under one entry (every DCT step) appear once."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name in names:
        key = "JPEG dct steps: N" if name.startswith("JPEG dct steps") else name
        if key in seen:
            continue
        seen.add(key)
        out.append((key, legend_for(name) or "a measured figure recorded with the result (no plain-words meaning is stored)"))
    return out


def method_of(f: Finding) -> str:
    """The detection method that made the finding: its module (older records name none)."""
    return str(f.data.get("method_module") or "detection")


def latest_runs(findings: list[Finding]) -> tuple[list[Finding], list[tuple[Finding, Finding]]]:
    """(the latest detection per evidence item and method, in case order; (earlier, latest) pairs)."""
    latest: dict[tuple[int, str], Finding] = {}
    for f in findings:
        key = (f.evidence_id, method_of(f))
        cur = latest.get(key)
        if cur is None or (f.created_utc, f.id or 0) >= (cur.created_utc, cur.id or 0):
            latest[key] = f
    shown = [f for f in findings if latest[(f.evidence_id, method_of(f))] is f]
    earlier = [(f, latest[(f.evidence_id, method_of(f))]) for f in findings if latest[(f.evidence_id, method_of(f))] is not f]
    return shown, earlier


def model_text(data: dict[str, Any]) -> str:
    version = str(data.get("model_version") or "")
    sha = str(data.get("model_sha256") or "")
    text = f"model {version}" if version else "model not recorded"
    return text + (f" (file SHA-256 {sha[:16]}...)" if sha else "")


def lr_text(data: dict[str, Any]) -> str:
    lr = data.get("lr")
    if not isinstance(lr, (int, float)):
        return "not recorded"
    verbal = str(data.get("verbal_scale") or "")
    return f"{lr:.3g}" + (f" ({verbal})" if verbal else "")
