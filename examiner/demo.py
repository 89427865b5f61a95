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
DEMO_VERSION = 1
CASE_NAME = "demo.mcase"
EVIDENCE_NAME = "evidence-demo-codec-q1.png"
REFERENCE_NAME = "reference-rendered.png"
STAMP_NAME = "demo.json"
EXAMPLE_REGION_LABELS = ("licence plate", "arrow lamp")

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
                    symbol=True,
                    comparison_says=_describe(box),
                    comparison="reference",
                    confidence="low",
                    notes=(
                        f"Example region marked by the demo builder. PSNR inside the region: {local:.1f} dB. "
                        "Compare the evidence with the reference, then fill in what the evidence says "
                        "and the categories."
                    ),
                )
            )
        case.set_meta("demo", {"version": DEMO_VERSION, "symbols": stamp["symbols"]})
    os.replace(partial, folder / CASE_NAME)
    ctx.progress(4, 4, "demo case ready")


def _describe(box: SymbolBox) -> str:
    if box.kind == "arrow":
        lit = "lit" if box.attributes.get("lit") else "dark"
        return f"arrow-shaped lamp pointing {box.content}, {lit}"
    return box.content
