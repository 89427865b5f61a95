"""The report's taxonomy, limitations and conclusion (the examiner's level on the scale, or
why none is given)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from examiner.core.regions import CATEGORY_DEFINITIONS, CORE_CATEGORIES, SYMBOL_DEFINITION, Category
from examiner.report.model import (
    CONCLUSION_LEVELS,
    EARLIER_CONCLUSION_LEVELS,
    DetectionBlock,
    RecompressionBlock,
    RegionBlock,
)

if TYPE_CHECKING:
    from examiner.report.sources import ReportSources

def taxonomy(src: ReportSources) -> list[tuple[str, str]]:
    rows = [(c.value.capitalize(), CATEGORY_DEFINITIONS[c]) for c in CORE_CATEGORIES]
    if any(Category.TEXTURE.value in [Category(c).value for c in r.categories] for r in src.regions):
        rows.append(("Texture", CATEGORY_DEFINITIONS[Category.TEXTURE]))
    rows.append(("Symbol (flag)", SYMBOL_DEFINITION))
    return rows

def limitations(
    src: ReportSources, detections: list[DetectionBlock], recomp: list[RecompressionBlock], regions: list[RegionBlock]
) -> list[str]:
    out = [
        "Metadata (EXIF, XMP, file names, dates) is reported as found in the files. It can be edited "
        "without trace and is not evidence of an image's origin on its own.",
    ]
    if detections:
        out.append(
            "Trace detection has measured error rates (stated with each result) on a stated set of images. "
            "Its performance on codecs, image content or processing outside that set is not known. A result "
            "of \u201cnot-neural\u201d does not exclude that a neural codec was used, in particular after "
            "strong re-compression, resizing or cropping."
        )
    if recomp:
        out.append(
            "A re-compression shows what a codec does to the evidence image now. It does not show what "
            "happened to the image before it was received; a close match with a codec is an indication, "
            "not proof, that the codec produced the image."
        )
    if any(r.demonstration for r in recomp):
        out.append(
            "Some re-compressions used a demonstration codec trained by the makers of this software. Such "
            "a codec shows the kind of change neural compression can make, not what a particular published "
            "codec would have made."
        )
    if regions:
        out.append(
            "Marked regions and their categories are the examiner's judgement. Without the original "
            "scene or an uncompressed original, what the scene showed cannot be established from the "
            "evidence image alone."
        )
    if any(r.problems for r in regions):
        out.append("For some regions crops could not be shown; the reasons are given with each region.")
    extra = src.extra_limitations
    if isinstance(extra, str):
        extra = [extra]
    out.extend(str(e) for e in extra)
    return out

def conclusion(src: ReportSources) -> tuple[str, str, str]:
    raw = src.conclusion
    if not raw:
        return "", "", (
            "The examiner has not recorded a conclusion level for this case; the level is therefore "
            "stated as \u201cnot stated\u201d."
        )
    if isinstance(raw, str):
        raw = {"level": raw}
    level = str(raw.get("level", ""))
    who = str(raw.get("by") or "") or src.details.examiner or "the examiner"
    if level not in CONCLUSION_LEVELS:
        earlier = "an earlier scale of this program" if level in EARLIER_CONCLUSION_LEVELS else "no scale this report knows"
        # Shown as recorded, never mapped: a level means what its scale said when it was stated.
        return level, str(raw.get("text", "")), (
            f"NOT ON THIS REPORT'S SCALE: the level \u201c{level}\u201d was recorded by {who} on {earlier}, "
            "not on the ENFSI scale below, and is shown as recorded. The examiner should state the "
            "conclusion again on this scale ('examiner report CASE --conclusion LEVEL')."
        )
    return level, str(raw.get("text", "")), f"Level stated by {who}."
