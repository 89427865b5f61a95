"""A stand-in case for the guide and README pictures when the demo case cannot be built here.

It renders the demo scene, changes the plate's last digit and switches the brake lights off (a
simulated miscompression), and saves that as the evidence with the unchanged rendering as the
reference original; then it marks two regions. Usage: ``python packaging/screenshot_case.py DIR``
prints the case path. Nothing here is used by the application.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

from examiner.core.case import Case
from examiner.core.regions import Category, Region, ShapeKind
from examiner.demo_scene import render_scene


def main(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    reference, boxes = render_scene(0)
    plate = next(b for b in boxes if b.label == "licence plate")
    changed_text = plate.content[:-1] + ("7" if plate.content[-1] != "7" else "1")
    evidence, _ = render_scene(0, {"plate_text": changed_text, "brake_lights_on": False})
    Image.fromarray(reference).save(folder / "reference.png")
    # Saved as a JPEG, as evidence usually arrives.
    Image.fromarray(evidence).save(folder / "evidence.jpg", quality=80)
    path = folder / "screenshots.mcase"
    path.unlink(missing_ok=True)
    with Case.create(path, case_id="SCREEN-0001", examiner="Demo examiner", lab="Synthetic scene") as case:
        item = case.add_evidence(folder / "evidence.jpg", reference=folder / "reference.png")
        x0, y0, x1, y1 = plate.box
        case.add_region(
            Region(
                evidence_id=item.id,
                kind=ShapeKind.RECT,
                points=[(x0, y0), (x1, y1)],
                categories=[Category.SHAPE],
                symbol=True,
                evidence_says=f"plate reads {changed_text}",
                comparison_says=f"plate reads {plate.content}",
                confidence="high",
                notes="Last glyph differs; the rest of the plate matches.",
                comparison="reference",
            )
        )
        lights = [b for b in boxes if b.label == "left brake light"]
        if lights:
            lx0, ly0, lx1, ly1 = lights[0].box
            case.add_region(
                Region(
                    evidence_id=item.id,
                    kind=ShapeKind.ELLIPSE,
                    points=[(lx0 - 4, ly0 - 4), (lx1 + 4, ly1 + 4)],
                    categories=[Category.AMPLITUDE],
                    evidence_says="lamp dark",
                    comparison_says="lamp lit",
                    confidence="medium",
                    comparison="reference",
                )
            )
    return path


if __name__ == "__main__":
    print(main(Path(sys.argv[1])))
