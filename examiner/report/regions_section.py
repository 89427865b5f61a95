"""The report's marked regions: crops of evidence and comparison, overviews, and the
comparison images they are read from (hash-checked references or stored artefacts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from examiner.core.regions import Category, Region
from examiner.core.text_safety import name_text
from examiner.errors import ExaminerError
from examiner.report import figures as figs
from examiner.report.model import (
    Figure,
    ManifestRow,
    OverviewBlock,
    RegionBlock,
)
from examiner.report.values import (
    when,
)

if TYPE_CHECKING:
    from examiner.report.sources import ReportSources


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


def figure_rows(figures: list[Figure]) -> list[ManifestRow]:
    return [ManifestRow(fig.name, "figure", fig.sha256) for fig in figures]


def overview(src: ReportSources, evidence_id: int) -> tuple[OverviewBlock | None, list[ManifestRow]]:
    """The item's reduced picture with its regions outlined, and its manifest row."""
    try:
        ev = src.evidence_pixels(evidence_id)
    except ExaminerError:
        return None, []
    label = src.labels.get(evidence_id, f"item {evidence_id}")
    k = max(1, int(np.ceil(max(ev.shape[:2]) / figs.OVERVIEW_PX)))
    fig = figs.thumbnail(f"{label} overview (reduced 1/{k})", ev, figs.OVERVIEW_PX)
    boxes = [(int(r.id or 0), r.bbox()) for r in src.regions if r.evidence_id == evidence_id]
    return OverviewBlock(label, fig, k, boxes), figure_rows([fig])


def region_block(src: ReportSources, r: Region) -> tuple[RegionBlock, list[ManifestRow]]:
    """The region's block with its crops, and the crops' manifest rows."""
    label = src.labels.get(r.evidence_id, f"item {r.evidence_id}")
    number = int(r.id or 0)
    box = r.bbox()
    problems: list[str] = []
    crops = None
    comparison_label = r.comparison or "none recorded"
    share = 0.0
    try:
        ev = src.evidence_pixels(r.evidence_id)
        h, w = ev.shape[:2]
        share = area_share(r, h, w)
        try:
            cmp_px, comparison_label = src.comparison_pixels(r)
        except ExaminerError as exc:
            cmp_px = None
            problems.append(f"comparison image unavailable: {exc.message}")
        crops = figs.region_crops(r, ev, cmp_px, number)
        if cmp_px is None and not problems:
            problems.append("no comparison image is recorded for this region; only the evidence crop is shown")
    except (ExaminerError, ValueError) as exc:
        problems.append(str(exc))
    figures_ = crops.figures if crops else []
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
    ), figure_rows(figures_)
