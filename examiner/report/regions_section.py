"""The report's marked regions: crops of evidence and comparison, overviews, and the
comparison images they are read from (hash-checked references or stored artefacts)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from examiner.core.evidence import decode_bytes
from examiner.core.regions import Category, Region
from examiner.core.text_safety import name_text
from examiner.errors import ExaminerError
from examiner.findings.schema import typed
from examiner.report import evidence_section
from examiner.report import figures as figs
from examiner.report.model import (
    OverviewBlock,
    RegionBlock,
)
from examiner.report.values import (
    when,
)

if TYPE_CHECKING:
    from examiner.report.builder import ModelBuilder


def area_share(region: Region, height: int, width: int) -> float:
    """Share of the image covered, computed on the region's box only (same pixel-centre rule)."""
    x, y, w, h = region.bbox()
    if height * width == 0 or w == 0 or h == 0:
        return 0.0
    local = Region.from_dict(region.to_dict())
    local.points = [(px - x, py - y) for px, py in region.points]
    mask = local.mask(h, w)
    # Clip to the image: pixels of the box outside the image do not count.
    x0, y0 = max(0, -x), max(0, -y)
    x1, y1 = min(w, width - x), min(h, height - y)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    return 100.0 * float(mask[y0:y1, x0:x1].sum()) / float(height * width)


def evidence_pixels(b: ModelBuilder, evidence_id: int) -> np.ndarray:
    if evidence_id not in b.pixels:
        item = next(i for i in b.items if i.id == evidence_id)
        chk = evidence_section.check(b, item.id, "evidence", item.path)
        if chk.data is None or chk.sha256 != item.sha256:
            raise ExaminerError(f"{item.path}: the evidence file does not match its intake hash or cannot be read")
        b.pixels = {evidence_id: decode_bytes(chk.data, name=item.path, max_pixels=b.case.max_pixels)}  # one image at a time
    return b.pixels[evidence_id]


def comparison_pixels(b: ModelBuilder, region: Region) -> tuple[np.ndarray | None, str]:
    key = region.comparison
    if not key:
        return None, "none recorded"
    cache_key = (region.evidence_id, key)
    if cache_key not in b.comparisons:
        # Regions are sorted by evidence item, so keeping only the last few decodes is enough.
        if len(b.comparisons) >= 3:
            b.comparisons.pop(next(iter(b.comparisons)))
        b.comparisons[cache_key] = decode_comparison(b, region)
    return b.comparisons[cache_key]


def decode_comparison(b: ModelBuilder, region: Region) -> tuple[np.ndarray | None, str]:
    key = region.comparison
    item = next(i for i in b.items if i.id == region.evidence_id)
    if key == "reference":
        if not item.reference_path:
            raise ExaminerError("the region is compared with the reference original, but the item has none")
        chk = evidence_section.check(b, item.id, "reference", item.reference_path)
        if chk.data is None or chk.sha256 != item.reference_sha256:
            raise ExaminerError(f"{item.reference_path}: the reference does not match its intake hash or cannot be read")
        return decode_bytes(chk.data, name=item.reference_path, max_pixels=b.case.max_pixels), f"reference original {Path(item.reference_path).name}"
    if key.startswith("finding:"):
        try:
            fid = int(key.split(":", 1)[1])
        except ValueError:
            raise ExaminerError(f"unknown comparison {key!r}") from None
        f = next((f for f in b.findings if f.id == fid), None)
        if f is None:
            raise ExaminerError(f"the comparison finding {fid} is not in the case")
        image = typed(f).image_artefact()
        if image is None:
            raise ExaminerError(f"finding {fid} has no stored output image")
        sha = image[1]
        label = b.finding_label(f) + (" (demonstration codec)" if b.is_demonstration(f) else "")
        return b.artefact_image(str(sha), label), label
    raise ExaminerError(f"unknown comparison {key!r}")


def overview(b: ModelBuilder, evidence_id: int) -> OverviewBlock | None:
    try:
        ev = evidence_pixels(b, evidence_id)
    except ExaminerError:
        return None
    label = b.labels.get(evidence_id, f"item {evidence_id}")
    k = max(1, int(np.ceil(max(ev.shape[:2]) / figs.OVERVIEW_PX)))
    fig = b.add_figure_manifest(figs.thumbnail(f"{label} overview (reduced 1/{k})", ev, figs.OVERVIEW_PX))
    assert fig is not None
    boxes = [(int(r.id or 0), r.bbox()) for r in b.regions if r.evidence_id == evidence_id]
    return OverviewBlock(label, fig, k, boxes)


def region_block(b: ModelBuilder, r: Region) -> RegionBlock:
    b.ctx.check()
    label = b.labels.get(r.evidence_id, f"item {r.evidence_id}")
    number = int(r.id or 0)
    box = r.bbox()
    problems: list[str] = []
    crops = None
    comparison_label = r.comparison or "none recorded"
    share = 0.0
    try:
        ev = evidence_pixels(b, r.evidence_id)
        h, w = ev.shape[:2]
        share = area_share(r, h, w)
        try:
            cmp_px, comparison_label = comparison_pixels(b, r)
        except ExaminerError as exc:
            cmp_px = None
            problems.append(f"comparison image unavailable: {exc.message}")
        crops = figs.region_crops(r, ev, cmp_px, number)
        if cmp_px is None and not problems:
            problems.append("no comparison image is recorded for this region; only the evidence crop is shown")
    except (ExaminerError, ValueError) as exc:
        problems.append(str(exc))
    figures_ = crops.figures if crops else []
    for fig in figures_:
        b.add_figure_manifest(fig)
    return RegionBlock(
        number=number,
        evidence_label=label,
        shape=r.kind.value,
        box=box,
        share_percent=share,
        categories=[Category(c).value for c in r.categories],
        symbol=r.symbol,
        evidence_says=r.evidence_says,
        comparison_says=r.comparison_says,
        confidence=r.confidence,
        notes=r.notes,
        provenance=r.provenance + ("; locked" if r.locked else ""),
        author=name_text(r.author),
        created=when(r.created_utc),
        comparison_label=comparison_label,
        crops=figures_,
        crop_origin=crops.origin if crops else (0, 0),
        zoom=crops.zoom if crops else 1,
        difference_gain=crops.gain if crops else figs.DIFFERENCE_GAIN,
        outline=crops.outline if crops else [],
        outline_closed=crops.closed if crops else True,
        ellipse=crops.ellipse if crops else False,
        problems=problems,
    )
