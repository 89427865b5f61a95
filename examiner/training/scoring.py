"""Scoring a trainee's regions against an exercise pack's answer key.

Matching. On each exercise item the trainee's regions and the key's regions are paired one to
one so that the summed intersection over union (IoU, of the pixel masks) is largest (Hungarian
assignment); a pair counts only when its IoU reaches the threshold. A paired key region is a
*hit*, an unpaired key region a *miss*, an unpaired trainee region a *false alarm*.

Why 0.3 by default: the 0.5 convention of object-detection benchmarks is made for boxes that hug
their object. A trainee's hand-drawn mark around a small symbol (one digit, a lamp) is looser: a
concentric mark 1.5 times the key's width and height has IoU 1/2.25 = 0.44, one 1.8 times as
large 1/3.24 = 0.31, while marks on two different, neighbouring objects seldom overlap a third.
So 0.3 accepts a loose mark on the right object and still refuses a mark beside it.

Score, from three parts, each between 0 and 1:

* detection ``D = hits / (hits + misses + false alarms)`` (misses and false alarms cost alike);
* categories ``C``: the mean, over hits whose key region has categories, of the Jaccard index of
  the two category sets (1 when identical, 0 when disjoint; 1/2 for {shape} against
  {shape, geometry}); a key region without categories is not graded on them;
* Symbol flag ``S``: the share of hits whose Symbol flag equals the key's.

``score = 100 * (0.5 D + 0.3 C + 0.2 S) / (sum of the weights that apply)``: C applies when some
key region has categories, S when the key has regions; with no hits, C and S are 0. A key with no
regions and no trainee marks scores 100.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from examiner.core.regions import Region
from examiner.errors import ExaminerError, IntegrityError
from examiner.training.agreement import region_iou
from examiner.training.exercise_pack import ExercisePack, PackError, training_info

DEFAULT_IOU = 0.3
WEIGHTS = {"detection": 0.5, "categories": 0.3, "symbol": 0.2}
FORMULA = (
    "score = 100 x (0.5 D + 0.3 C + 0.2 S) / (sum of applicable weights); D = hits / (hits + misses + "
    "false alarms); C = mean Jaccard index of category sets over hits with graded categories; "
    "S = share of hits with the key's Symbol flag"
)


@dataclass
class Match:
    """One line of the comparison: a hit (both regions), a miss (key only) or a false alarm."""

    item_id: str
    outcome: str  # hit | miss | false alarm
    key: Region | None
    trainee: Region | None
    iou: float | None = None
    category_agreement: float | None = None  # Jaccard; None when not graded
    symbol_agreement: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        def brief(r: Region | None) -> dict[str, Any] | None:
            if r is None:
                return None
            return {
                "box": list(r.bbox()),
                "categories": [c.value for c in r.categories],
                "symbol": r.symbol,
                "evidence_says": r.evidence_says,
                "comparison_says": r.comparison_says,
                "notes": r.notes,
                "id": r.id,
            }

        return {
            "item": self.item_id,
            "outcome": self.outcome,
            "iou": None if self.iou is None else round(self.iou, 4),
            "category_agreement": None if self.category_agreement is None else round(self.category_agreement, 4),
            "symbol_agreement": self.symbol_agreement,
            "key": brief(self.key),
            "trainee": brief(self.trainee),
        }


@dataclass
class ScoreResult:
    pack_title: str
    pack_digest: str
    trainee: str
    iou_threshold: float
    matches: list[Match]
    components: dict[str, float | None]
    score: float
    item_titles: dict[str, str] = field(default_factory=dict)
    scored_utc: str = ""

    def count(self, outcome: str, item_id: str | None = None) -> int:
        return sum(1 for m in self.matches if m.outcome == outcome and (item_id is None or m.item_id == item_id))

    @property
    def hits(self) -> int:
        return self.count("hit")

    @property
    def misses(self) -> int:
        return self.count("miss")

    @property
    def false_alarms(self) -> int:
        return self.count("false alarm")

    def to_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack_title,
            "pack_digest": self.pack_digest,
            "trainee": self.trainee,
            "scored_utc": self.scored_utc,
            "iou_threshold": self.iou_threshold,
            "score": round(self.score, 2),
            "hits": self.hits,
            "misses": self.misses,
            "false_alarms": self.false_alarms,
            "components": {k: (None if v is None else round(v, 4)) for k, v in self.components.items()},
            "weights": dict(WEIGHTS),
            "formula": FORMULA,
            "items": [
                {"id": i, "title": t, "hits": self.count("hit", i), "misses": self.count("miss", i),
                 "false_alarms": self.count("false alarm", i)}
                for i, t in self.item_titles.items()
            ],  # fmt: skip
            "matches": [m.to_dict() for m in self.matches],
        }


def _jaccard(a: Region, b: Region) -> float | None:
    ka = {c.value for c in a.categories}
    if not ka:
        return None
    kb = {c.value for c in b.categories}
    return len(ka & kb) / len(ka | kb)


def match_item(item_id: str, key: list[Region], trainee: list[Region], threshold: float) -> list[Match]:
    """Pair key and trainee regions of one item (largest total IoU, pairs below threshold dropped)."""
    from scipy.optimize import linear_sum_assignment

    pairs: list[tuple[int, int, float]] = []
    if key and trainee:
        iou = np.array([[region_iou(k, t) for t in trainee] for k in key])
        rows, cols = linear_sum_assignment(-iou)
        pairs = [(int(r), int(c), float(iou[r, c])) for r, c in zip(rows, cols, strict=True) if iou[r, c] >= threshold]
    out: list[Match] = []
    paired_k = {r for r, _, _ in pairs}
    paired_t = {c for _, c, _ in pairs}
    by_key = {r: (c, v) for r, c, v in pairs}
    for i, k in enumerate(key):
        if i in by_key:
            c, v = by_key[i]
            t = trainee[c]
            out.append(Match(item_id, "hit", k, t, v, _jaccard(k, t), bool(k.symbol) == bool(t.symbol)))
        else:
            out.append(Match(item_id, "miss", k, None))
    for j, t in enumerate(trainee):
        if j not in paired_t:
            out.append(Match(item_id, "false alarm", None, t))
    assert len(paired_k) == len(pairs)
    return out


def combine(matches: list[Match], any_categories: bool, key_regions: int) -> tuple[dict[str, float | None], float]:
    """The three components and the weighted score (see the module docstring)."""
    hits = [m for m in matches if m.outcome == "hit"]
    n = len(matches)
    d = 1.0 if n == 0 else len(hits) / n
    graded = [m.category_agreement for m in hits if m.category_agreement is not None]
    c: float | None = None
    if any_categories:
        c = float(np.mean(graded)) if graded else 0.0
    s: float | None = None
    if key_regions:
        s = (sum(1 for m in hits if m.symbol_agreement) / len(hits)) if hits else 0.0
    comps = {"detection": d, "categories": c, "symbol": s}
    used = {k: v for k, v in comps.items() if v is not None}
    total_w = sum(WEIGHTS[k] for k in used)
    score = 100.0 * sum(WEIGHTS[k] * v for k, v in used.items()) / total_w
    return comps, score


def score_regions(
    key: dict[str, list[Region]], trainee: dict[str, list[Region]], threshold: float = DEFAULT_IOU
) -> tuple[list[Match], dict[str, float | None], float]:
    """Score trainee regions against key regions, both by item id."""
    if not 0.0 < threshold <= 1.0:
        raise ExaminerError("the IoU threshold must lie in (0, 1]")
    matches: list[Match] = []
    for item_id in sorted(set(key) | set(trainee)):
        matches.extend(match_item(item_id, key.get(item_id, []), trainee.get(item_id, []), threshold))
    any_cat = any(r.categories for regs in key.values() for r in regs)
    comps, score = combine(matches, any_cat, sum(len(v) for v in key.values()))
    return matches, comps, score


def trainee_regions(pack: ExercisePack, case: Any) -> tuple[dict[str, list[Region]], str]:
    """The trainee's regions by pack item, and the trainee's name; the case must have been started
    from this very pack (same digest) and hold its reconstructions as evidence."""
    info = training_info(case)
    if info is not None and info.get("pack_digest") != pack.digest:
        raise PackError(
            f"{case.path}: this training case was started from another pack (or the pack changed since): "
            f"digest {str(info.get('pack_digest'))[:16]}..., this pack {pack.digest[:16]}..."
        )
    by_sha = {it.reconstruction.sha256: it.id for it in pack.items}
    out: dict[str, list[Region]] = {it.id: [] for it in pack.items}
    found = 0
    for ev in case.evidence():
        item_id = by_sha.get(ev.sha256)
        if item_id is None:
            continue
        found += 1
        out[item_id] = case.regions(ev.id)
    if found == 0:
        raise PackError(f"{case.path}: the case holds none of this pack's images; was it started from {pack.path.name}?")
    name = (info or {}).get("trainee") or case.details.examiner
    return out, str(name)


def score_case(pack_path: str | Path, case_path: str | Path, threshold: float = DEFAULT_IOU) -> ScoreResult:
    """Open the pack (verified) and the trainee's case (read-only) and score the case."""
    from examiner.core.audit import utc_now
    from examiner.core.case import Case

    pack = ExercisePack.open(pack_path)
    cp = Path(case_path)
    if not cp.is_file():
        raise ExaminerError(f"{cp}: no such case file")
    with Case.open(cp, read_only=True) as case:
        integ = case.integrity
        if not integ.chain.ok or not integ.rows.ok:
            why = integ.chain.summary() if not integ.chain.ok else integ.rows.summary()
            raise IntegrityError(f"{cp}: the case's audit log fails its check ({why}); "
                                 "a case changed outside the program is not scored")  # fmt: skip
        regions, trainee = trainee_regions(pack, case)
    key = pack.read_key()
    matches, comps, score = score_regions(key, regions, threshold)
    return ScoreResult(pack.title, pack.digest, trainee, threshold, matches, comps, score,
                       {it.id: it.title for it in pack.items}, utc_now())  # fmt: skip


# ---------------------------------------------------------------------------- one-page PDF


@dataclass
class _PageModel:
    """What the report machinery's page furniture reads."""

    report_id: str
    case_id: str
    issued_epoch: int
    amends: str = ""


MAX_PDF_ROWS = 22


def _epoch(utc: str) -> int:
    try:
        return int(time.mktime(time.strptime(utc[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone)
    except (ValueError, OverflowError):
        return 0


def render_score_pdf(result: ScoreResult) -> bytes:
    """A one-page result for the trainee's record, in the report's fonts, styles and page frame.
    Deterministic: the same result gives the same bytes. When long descriptions would push the
    match list onto a second page, fewer lines are listed (the rest are counted)."""
    for rows in (MAX_PDF_ROWS, 16, 12, 8, 4, 0):
        data, pages = _render_score_pdf(result, rows)
        if pages == 1:
            break
    return data


def _render_score_pdf(result: ScoreResult, max_rows: int) -> tuple[bytes, int]:
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer, Table

    from examiner import APP_NAME, __version__
    from examiner.report.pdf_flowables import grid_style, kv_style
    from examiner.report.pdf_page import NumberedCanvas
    from examiner.report.pdf_style import (
        FRAME_W,
        MARGIN_BOTTOM,
        MARGIN_TOP,
        MARGIN_X,
        PAGE_H,
        register_fonts,
        styles,
    )
    from examiner.report.pdf_text import clean_text, esc

    register_fonts()
    s = styles()
    page = _PageModel(f"TR-{result.pack_digest[:12]}", f"Training: {result.pack_title}", _epoch(result.scored_utc))
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM,
        title=clean_text(f"Training result {result.trainee}", 200), author=clean_text(result.trainee, 200),
        subject=clean_text(f"Exercise {result.pack_title}", 200), creator=f"{APP_NAME} {__version__}",
        producer=f"{APP_NAME} {__version__} (ReportLab)", keywords=[], invariant=1,
    )  # fmt: skip
    frame = Frame(MARGIN_X, MARGIN_BOTTOM, FRAME_W, PAGE_H - MARGIN_TOP - MARGIN_BOTTOM, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)  # fmt: skip
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])

    def P(text: Any, style: str = "cell", limit: int = 200) -> Paragraph:  # noqa: N802 - reads like a constructor
        return Paragraph(esc(text, limit), s[style])

    def pct(v: float | None) -> str:
        return "not graded" if v is None else f"{100 * v:.1f} %"

    story: list[Any] = [
        Paragraph("Training exercise result", s["title"]),
        P(f"{result.trainee}: {result.score:.1f} / 100", "subtitle", 120),
    ]
    story.append(Table([[P(k, "cellb"), P(v)] for k, v in (
        ("Trainee", result.trainee),
        ("Exercise pack", result.pack_title),
        ("Pack digest (SHA-256)", result.pack_digest),
        ("Scored (UTC)", result.scored_utc),
        ("Matching", f"one-to-one by largest total IoU of pixel masks; a pair counts at IoU >= {result.iou_threshold:g}"),
        ("Regions", f"{result.hits} hit(s), {result.misses} miss(es), {result.false_alarms} false alarm(s)"),
    )], colWidths=[45 * mm, FRAME_W - 45 * mm], style=kv_style()))  # fmt: skip
    story.append(Spacer(1, 4 * mm))
    comp_rows = [[P("Part", "cellh"), P("Value", "cellh"), P("Weight", "cellh")]]
    labels = {"detection": "Detection D", "categories": "Categories C", "symbol": "Symbol flag S"}
    for k, v in result.components.items():
        comp_rows.append([P(labels[k]), P(pct(v)), P("-" if v is None else f"{WEIGHTS[k]:g}")])
    story.append(Table(comp_rows, colWidths=[60 * mm, 40 * mm, FRAME_W - 100 * mm], style=grid_style()))
    story.append(P(FORMULA, "caption", 1000))

    def says(r: Region | None) -> str:
        if r is None:
            return "-"
        cats = "+".join(c.value for c in r.categories) or "no category"
        sym = ", Symbol" if r.symbol else ""
        words = "; ".join(w for w in (
            f"shows {r.evidence_says}" if r.evidence_says else "",
            f"original {r.comparison_says}" if r.comparison_says else "",
        ) if w) or r.notes  # fmt: skip
        return f"{cats}{sym}" + (f": {words}" if words else "")

    shown = result.matches[:max_rows]
    if shown:
        rows = [[P(h, "cellh") for h in ("Item", "Outcome", "IoU", "Key (instructor)", "Trainee")]]
        for m in shown:
            rows.append([P(m.item_id), P(m.outcome), P("-" if m.iou is None else f"{m.iou:.2f}"),
                         P(says(m.key), limit=160), P(says(m.trainee), limit=160)])  # fmt: skip
        story.append(Spacer(1, 2 * mm))
        story.append(Table(rows, colWidths=[12 * mm, 20 * mm, 12 * mm, (FRAME_W - 44 * mm) / 2, (FRAME_W - 44 * mm) / 2],
                           style=grid_style(), repeatRows=1))  # fmt: skip
    if len(result.matches) > len(shown):
        story.append(P(f"... and {len(result.matches) - len(shown)} more line(s); the full list is in the JSON result "
                       "(examiner training score --json).", "caption"))  # fmt: skip
    canvases: list[Any] = []

    def make_canvas(*args: Any, **kwargs: Any) -> Any:
        c = NumberedCanvas(*args, model=page, **kwargs)  # type: ignore[arg-type]
        canvases.append(c)
        return c

    doc.build(story, canvasmaker=make_canvas)
    return buf.getvalue(), canvases[-1].page_count


def write_score_pdf(
    result: ScoreResult, out: str | Path, protected: Iterable[str | Path] = (), recent_cases: Iterable[str | Path] = ()
) -> Path:
    """Write the one-page result; refused when ``out`` would land on one of ``protected`` (the
    pack, the case and its evidence: see :func:`examiner.core.output_paths.case_files`) or on a
    file of any other case the program knows (:func:`examiner.core.output_paths.guard_output`)."""
    from examiner.core.atomic import write_atomically
    from examiner.core.output_paths import guard_output

    out = Path(out)
    if not out.parent.is_dir():
        raise ExaminerError(f"{out}: folder {out.parent} does not exist")
    guard_output(out, protected, recent_cases=recent_cases, what="result PDF")
    write_atomically(out, render_score_pdf(result))
    return out
