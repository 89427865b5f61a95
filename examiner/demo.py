"""The demo case: a synthetic street scene passed through the bundled demonstration codec.

On first use :func:`ensure_demo_case` renders the scene (:mod:`examiner.demo_scene`), codes it
with the project's own demonstration codec at its lowest rate, and builds a case in the user
data folder: the decoded image is the evidence, the rendered original its reference, the codec
run is stored as a finding (with its bitstream), and two example regions are marked. Nothing of
it is committed to the repository: it is rebuilt from code whenever it is missing or stale.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from examiner.codecs.demo_pack import DEMO_CODEC_ID
from examiner.core.png import encode_png
from examiner.core.settings import data_dir
from examiner.core.tasks import TaskContext
from examiner.demo_scene import SymbolBox, render_scene
from examiner.errors import ExaminerError

DEMO_QUALITY = 1  # the lowest rate, where learned codecs synthesise most
DEMO_SEED = 0
# Bump when the scene, the codec or the case layout changes: an older demo is rebuilt.
DEMO_VERSION = 2
CASE_NAME = "demo.mcase"
EVIDENCE_NAME = "evidence-demo-codec-q1.png"
REFERENCE_NAME = "reference-rendered.png"
STAMP_NAME = "demo.json"
EXAMPLE_REGION_LABELS = ("licence plate", "arrow lamp")
# What an examiner reads in the demo evidence, written after looking at enlarged crops of what
# the bundled codec made with these weights. Keyed by the weights, so a retrained codec never
# inherits a description of a picture it did not make (tests/test_demo_case.py then fails until
# the new evidence has been looked at and described).
DESCRIBED_WEIGHTS_SHA256 = "c31c1a768652db5207b0eee21da6967837c9c6ff53f9e69818157dfbb97eea32"
EVIDENCE_READINGS = {  # label -> (what the evidence shows, in a line; what an enlarged look adds)
    "licence plate": (
        "plate reads KA 4?21: the third character has lost the two holes of an 8 and could be 8, 0 or B",
        "Enlarged, the third character is a dark block split by one light vertical stroke: the holes and "
        "the waist of the 8 are gone. The A's small enclosed triangle is filled in too; K, 4, 2 and 1 keep "
        "their shapes. Every character has soft edges with blocky ringing around it; the blue band is intact.",
    ),
    "arrow lamp": (
        "outline softened, still an arrow pointing left",
        "Enlarged, the tip is rounded, the corners where the head meets the shaft are blurred and the "
        "arrow sits in a darker green halo, but head and shaft are still there.",
    ),
}

__all__ = ["DEMO_CODEC_ID", "SymbolBox", "build_demo_case", "demo_dir", "ensure_demo_case", "render_scene"]


def demo_dir() -> Path:
    return data_dir() / "demo"


def _is_current(folder: Path) -> bool:
    stamp = folder / STAMP_NAME
    if not (stamp.is_file() and (folder / CASE_NAME).is_file()):
        return False
    try:
        data = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if data.get("version") != DEMO_VERSION:
        return False
    # New weights for the bundled codec make a new demo: the evidence must be its output.
    used = set(data.get("codec", {}).get("weights_sha256", {}).values())
    return not used or used <= _bundled_weight_hashes()


def _bundled_weight_hashes() -> set[str]:
    from examiner.codecs.registry import get_info

    try:
        info, _ = get_info(DEMO_CODEC_ID)
    except ExaminerError:
        return set()
    return {str(w.get("sha256", "")) for w in info.extra.get("weights", [])}


def ensure_demo_case(out: str | Path | None = None, ctx: TaskContext | None = None, rebuild: bool = False) -> Path:
    """Path of the demo case file, building it first when it is missing, stale or ``rebuild``."""
    folder = Path(out) if out is not None else demo_dir()
    if not rebuild and _is_current(folder):
        return folder / CASE_NAME
    return build_demo_case(folder, ctx)


def build_demo_case(folder: Path, ctx: TaskContext | None = None) -> Path:
    """Build the demo into ``folder`` (replacing an older demo there) and return the case path.

    The files are made in a sibling temporary folder and moved into place at the end, so an
    interrupted build never leaves half a demo behind.
    """
    ctx = ctx or TaskContext()
    folder = folder.resolve()
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExaminerError(f"{folder.parent}: cannot create the demo folder ({exc.strerror or exc})") from exc
    if folder.exists() and any(folder.iterdir()) and not (folder / STAMP_NAME).is_file():
        raise ExaminerError(f"{folder}: exists and is not a demo folder; choose another --out")
    work = Path(tempfile.mkdtemp(prefix=".demo-build-", dir=folder.parent))
    try:
        _build_into(work, ctx)
        # The case file stores absolute evidence paths: build it where it will live.
        _replace_folder(work, folder)
        _make_case(folder, ctx)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder / CASE_NAME


def _replace_folder(src: Path, dst: Path) -> None:
    if dst.exists():
        old = dst.with_name(f".{dst.name}-old-{os.getpid()}")
        os.replace(dst, old)
        os.replace(src, dst)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(src, dst)


def _build_into(work: Path, ctx: TaskContext) -> None:
    from examiner.codecs import engine

    ctx.progress(0, 4, "rendering the street scene")
    reference, boxes = render_scene(DEMO_SEED)
    ctx.progress(1, 4, f"coding it with {DEMO_CODEC_ID} at quality {DEMO_QUALITY}")
    try:
        rec = engine.run(DEMO_CODEC_ID, reference, DEMO_QUALITY, ctx=ctx.sub(1, 3, 4))
    except ExaminerError as exc:
        raise ExaminerError(f"the demo case needs the bundled demonstration codec: {exc}") from exc
    (work / REFERENCE_NAME).write_bytes(encode_png(reference))
    (work / EVIDENCE_NAME).write_bytes(encode_png(rec.pixels))
    if rec.bitstream is not None:
        (work / "evidence-demo-codec-q1.bitstream").write_bytes(rec.bitstream)
    record = rec.to_record()
    record["psnr_db"] = engine.psnr(reference, rec.pixels)
    record["ms_ssim"] = engine.ms_ssim(reference, rec.pixels)
    stamp = {
        "version": DEMO_VERSION,
        "scene_seed": DEMO_SEED,
        "codec": record,
        "symbols": [b.to_dict() for b in boxes],
    }
    (work / STAMP_NAME).write_text(json.dumps(stamp, indent=2, default=str) + "\n", encoding="utf-8")


def _region_psnr(reference: np.ndarray, evidence: np.ndarray, box: tuple[int, int, int, int]) -> float:
    from examiner.codecs import engine

    x0, y0, x1, y1 = box
    return engine.psnr(reference[y0:y1, x0:x1], evidence[y0:y1, x0:x1])


def _make_case(folder: Path, ctx: TaskContext) -> None:
    from examiner.core.case import Case
    from examiner.core.regions import Region, ShapeKind

    ctx.progress(3, 4, "building the case file")
    stamp: dict[str, Any] = json.loads((folder / STAMP_NAME).read_text(encoding="utf-8"))
    boxes = [SymbolBox(b["label"], b["kind"], tuple(b["box"]), b["content"], b["attributes"]) for b in stamp["symbols"]]
    # Built under a temporary name and renamed when complete: a demo.mcase is always whole.
    partial = folder / f".{CASE_NAME}.partial"
    partial.unlink(missing_ok=True)
    with Case.create(
        partial,
        case_id="DEMO-0001",
        examiner="Demo examiner",
        lab="Demonstration (synthetic data)",
    ) as case:
        item = case.add_evidence(folder / EVIDENCE_NAME, reference=folder / REFERENCE_NAME)
        evidence = case.load_evidence(item.id)
        reference = case.load_reference(item.id)
        artefacts = {}
        bitstream = folder / "evidence-demo-codec-q1.bitstream"
        if bitstream.is_file():
            artefacts["demo-codec-q1.bitstream"] = bitstream.read_bytes()
        case.add_finding(
            item.id,
            "recompression",
            {
                "purpose": "how the demo evidence was made: the rendered reference coded by the bundled "
                "demonstration codec (not a published model) at its lowest rate",
                **json.loads(json.dumps(stamp["codec"], default=str)),
            },
            artefacts,
        )
        described = _described_weights(stamp)
        for box in boxes:
            if box.label not in EXAMPLE_REGION_LABELS:
                continue
            x0, y0, x1, y1 = box.box
            local = _region_psnr(reference, evidence.pixels, box.box) if reference is not None else float("nan")
            case.add_region(
                Region(
                    evidence_id=item.id,
                    kind=ShapeKind.RECT,
                    points=[(float(x0), float(y0)), (float(x1), float(y1))],
                    comparison="reference",
                    **_examined(box, evidence.pixels, described, local),
                )
            )
        case.set_meta("demo", {"version": DEMO_VERSION, "symbols": stamp["symbols"]})
    os.replace(partial, folder / CASE_NAME)
    ctx.progress(4, 4, "demo case ready")


def _described_weights(stamp: dict[str, Any]) -> bool:
    used = set(stamp.get("codec", {}).get("weights_sha256", {}).values())
    return used == {DESCRIBED_WEIGHTS_SHA256}


def arrow_lit_in(pixels: np.ndarray, box: SymbolBox) -> bool:
    """Whether the arrow lamp looks lit in ``pixels``: nearer the lit colour than the dark one.

    The arrow's own pixels are those a lit and a dark rendering of the scene disagree on.
    """
    lit, _ = render_scene(DEMO_SEED, {"arrow_lit": True})
    dark, _ = render_scene(DEMO_SEED, {"arrow_lit": False})
    x0, y0, x1, y1 = box.box
    mask = np.any(lit[y0:y1, x0:x1] != dark[y0:y1, x0:x1], axis=2)
    seen = pixels[y0:y1, x0:x1][mask].astype(np.float64).mean(axis=0)
    to_lit = float(np.linalg.norm(seen - lit[y0:y1, x0:x1][mask].mean(axis=0)))
    to_dark = float(np.linalg.norm(seen - dark[y0:y1, x0:x1][mask].mean(axis=0)))
    return to_lit < to_dark


def _examined(box: SymbolBox, evidence: np.ndarray, described: bool, psnr_db: float) -> dict[str, Any]:
    """The fields an examiner fills in for one example region: categories, both readings, notes."""
    from examiner.core.regions import Category

    reading, detail = EVIDENCE_READINGS[box.label] if described else ("", "")
    if box.kind == "arrow":
        was_lit = bool(box.attributes.get("lit"))
        now_lit = arrow_lit_in(evidence, box)
        changed = now_lit != was_lit
        state = ("" if changed else "still ") + ("lit" if now_lit else "dark")
        categories = [Category.SHAPE] + ([Category.AMPLITUDE] if changed else [])
        says = f"green arrow lamp, {state}; {reading or 'outline not yet described for this codec build'}"
        compared = f"green arrow lamp pointing {box.content}, {'lit' if was_lit else 'dark'}: sharp head, square-ended shaft"
        why = (
            "Shape: an arrow lamp turned round is the taxonomy's own example, so its outline is what to "
            "check; Symbol: a traffic signal. "
            + (
                "Amplitude: the lamp's state differs from the reference."
                if changed
                else "Amplitude is not marked: the lamp is as lit as in the reference."
            )
        )
        confidence = "medium" if changed else "low"
    else:
        categories = [Category.SHAPE]
        says = reading or "plate not yet described for this codec build"
        compared = f"plate reads {box.content}: black characters on white, blue band at the left"
        why = (
            "Shape: enlarged, the third character no longer has the shape of an 8; Symbol: the characters "
            "of a licence plate identify a vehicle."
        )
        confidence = "medium"
    return {
        "categories": categories,
        "symbol": True,
        "evidence_says": says,
        "comparison_says": compared,
        "confidence": confidence,
        "notes": " ".join(
            part
            for part in ("Example region filled in by the demo builder as an examiner would.", detail, why,
                         f"PSNR inside the region: {psnr_db:.1f} dB.")
            if part
        ),
    }
