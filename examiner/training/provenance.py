"""Which codec, quality and bit rate stand behind an evidence item or a region's comparison.

Research exports and exercise packs need to say which reconstruction a region was judged on.
A region records what it was compared against (``comparison``): the reference original, in
which case the evidence itself is the reconstruction, or a re-compression finding
(``finding:<id>``), in which case that finding's codec run is. Where the evidence came from is
known when the case records it: training cases keep it in the case's meta table
(``evidence_origin``, by evidence SHA-256), and the demo case as a re-compression finding whose
``purpose`` says how the evidence was made.
"""

from __future__ import annotations

from typing import Any

ORIGIN_KEYS = ("codec", "quality", "bpp")
EVIDENCE_ORIGIN_META_KEY = "evidence_origin"


def _pick(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d.get(k) for k in ORIGIN_KEYS}


def evidence_origin(case: Any, evidence_id: int) -> dict[str, Any] | None:
    """Codec, quality and bpp that made this evidence item, when the case records them."""
    item = case.evidence_item(evidence_id)
    origins = case.get_meta(EVIDENCE_ORIGIN_META_KEY) or {}
    if isinstance(origins, dict) and isinstance(origins.get(item.sha256), dict):
        return _pick(origins[item.sha256])
    for f in case.findings(evidence_id=evidence_id, kind="recompression"):
        if f.data.get("purpose") and f.data.get("codec"):
            return _pick(f.data)
    return None


def region_reconstruction(case: Any, evidence_id: int, comparison: str) -> dict[str, Any]:
    """Codec, quality, bpp and source of the reconstruction a region was judged on.

    ``source`` is ``evidence`` (the evidence is the reconstruction, compared with its
    reference), ``finding:<id>`` (a re-compression run) or ``unknown``; the values are None
    where the case does not know them.
    """
    comp = (comparison or "").strip()
    if comp.startswith("finding:"):
        try:
            fid = int(comp.split(":", 1)[1])
        except ValueError:
            fid = -1
        for f in case.findings(evidence_id=evidence_id):
            if f.id == fid:
                return {**_pick(f.data), "source": comp}
    origin = evidence_origin(case, evidence_id)
    if origin is not None:
        return {**origin, "source": "evidence"}
    return {"codec": None, "quality": None, "bpp": None, "source": "unknown"}
