"""Training and dataset figures: starter-pack build, pack verification, training start, scoring
with the PDF result, and the COCO export / import round trip of a case with many regions.

Prints wall-clock seconds per step and the sizes of what was written.
Run: ``.venv/bin/python bench/bench_training.py [REGIONS]`` (default 200 regions for the export).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def _timed(label: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    print(f"{label:<44} {time.perf_counter() - t:7.2f} s")
    return out


def main() -> int:
    n_regions = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory(prefix="bench-training-") as tmp:
        base = Path(tmp)
        os.environ.setdefault("EXAMINER_CONFIG_DIR", str(base / "config"))
        os.environ.setdefault("EXAMINER_DATA_DIR", str(base / "data"))
        import numpy as np
        from PIL import Image

        from examiner.core.case import Case
        from examiner.core.regions import Category, Region, ShapeKind
        from examiner.training.dataset_export import export_dataset, import_dataset
        from examiner.training.exercise_pack import ExercisePack, start_training_case
        from examiner.training.scoring import render_score_pdf, score_case
        from examiner.training.starter_pack import build_starter_pack

        pack, notes = _timed("starter pack (build, write, verify)", build_starter_pack, base / "s.mxpack")
        for n in notes:
            print(f"  note: {n}")
        print(f"  {len(pack.items)} exercises, {(base / 's.mxpack').stat().st_size / 1e6:.2f} MB")
        _timed("open + verify the pack", ExercisePack.open, base / "s.mxpack")
        case = _timed("start a training case", start_training_case, base / "s.mxpack", "Bench", base / "t.mcase")
        with Case.open(case) as c:
            for ev, (item_id, regs) in zip(c.evidence(), sorted(pack.read_key().items()), strict=True):
                assert item_id
                for r in regs:
                    c.add_region(Region.from_dict({**r.to_dict(), "evidence_id": ev.id}))
        result = _timed("score (verify, match, combine)", score_case, base / "s.mxpack", case)
        print(f"  score {result.score:.1f} (a submission equal to the key)")
        pdf = _timed("one-page PDF result", render_score_pdf, result)
        print(f"  {len(pdf) / 1e3:.0f} kB")

        rng = np.random.default_rng(0)
        img = rng.integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
        Image.fromarray(img).save(base / "ev.png")
        Image.fromarray(255 - img).save(base / "ref.png")
        with Case.create(base / "many.mcase", case_id="B-1", examiner="Bench") as c:
            ev = c.add_evidence(base / "ev.png", reference=base / "ref.png")
            cats = list(Category)[:3]
            for i in range(n_regions):
                x, y = float(rng.integers(0, 1800)), float(rng.integers(0, 980))
                kind = [ShapeKind.RECT, ShapeKind.ELLIPSE][i % 2]
                c.add_region(Region(ev.id, kind, [(x, y), (x + 100, y + 80)], [cats[i % 3]], bool(i % 2)))
        res = _timed(f"export-dataset ({n_regions} regions, 1920x1080)", export_dataset, [base / "many.mcase"], base / "ds")
        print(f"  {res.annotations} annotations, {res.crops} crops, {res.prevalence_rows} prevalence rows")
        _timed("import-dataset (round trip)", import_dataset, base / "ds", base / "back.mcase")
    return 0


if __name__ == "__main__":
    sys.exit(main())
