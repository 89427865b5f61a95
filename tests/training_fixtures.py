"""An instructor's case built by code: two image pairs and marked regions with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from imagegen import encode, pattern

from examiner.core.case import Case
from examiner.core.regions import Category, Region, ShapeKind

SECRET = "KEY-ONLY-DESCRIPTION"


def key_regions(evidence_id: int, item: int) -> list[Region]:
    """Item 0 has two regions, item 1 has one; every description carries SECRET."""
    if item == 0:
        return [
            Region(evidence_id, ShapeKind.RECT, [(4.0, 4.0), (24.0, 20.0)], [Category.SHAPE], True,
                   evidence_says=f"{SECRET} digit 7", comparison_says="digit 1"),
            Region(evidence_id, ShapeKind.ELLIPSE, [(40.0, 30.0), (70.0, 52.0)], [Category.AMPLITUDE], True,
                   evidence_says=f"{SECRET} lamp off", comparison_says="lamp on", notes=f"{SECRET} note"),
        ]  # fmt: skip
    return [
        Region(evidence_id, ShapeKind.POLYGON, [(10.0, 10.0), (50.0, 12.0), (30.0, 40.0)], [Category.GEOMETRY], False,
               evidence_says=f"{SECRET} hand moved"),
    ]  # fmt: skip


def make_instructor_case(folder: Path, name: str = "instructor.mcase") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    originals = [pattern(64, 96, seed=1), pattern(48, 80, seed=2)]
    recs = []
    for i, o in enumerate(originals):
        r = o.copy()
        r[4:20, 4:24] = 255 - r[4:20, 4:24]
        recs.append(r)
        (folder / f"orig{i}.png").write_bytes(encode(o, "PNG"))
    (folder / "rec0.png").write_bytes(encode(recs[0], "PNG"))
    (folder / "rec1.jpg").write_bytes(encode(recs[1], "JPEG", quality=90))
    path = folder / name
    with Case.create(path, case_id="INSTR-1", examiner="I. Structor", title="Digits and lamps") as case:
        a = case.add_evidence(folder / "rec0.png", reference=folder / "orig0.png")
        b = case.add_evidence(folder / "rec1.jpg", reference=folder / "orig1.png")
        case.set_meta("evidence_origin", {a.sha256: {"codec": "jpeg", "quality": 5, "bpp": 0.25}})
        for item, ev in enumerate((a, b)):
            for r in key_regions(ev.id, item):
                case.add_region(r)
    return path


def copy_regions(regions: list[Region], evidence_id: int) -> list[Region]:
    out = []
    for r in regions:
        c = Region.from_dict(r.to_dict())
        c.id, c.evidence_id, c.evidence_says, c.comparison_says, c.notes = None, evidence_id, "", "", ""
        out.append(c)
    return out


def shifted(r: Region, dx: float) -> Region:
    c = Region.from_dict(r.to_dict())
    c.points = [(x + dx, y) for x, y in c.points]
    return c


def mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(float) - b.astype(float)).mean())
