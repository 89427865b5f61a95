"""Object-detection difference with OpenCV's shipped detectors on rendered figures."""

from __future__ import annotations

import numpy as np
import pytest

from examiner.analysis import symbol_testset as ts
from examiner.analysis.symbols import CHECK_OBJECTS, object_check
from examiner.analysis.symbols.object_diff import DETECTORS, METHOD, cascade_dir
from examiner.analysis.symbols.proposals import iou
from examiner.core.regions import Category
from examiner.errors import ExaminerError


def test_shipped_cascade_models_are_present() -> None:
    for d in DETECTORS:
        if d.kind == "cascade":
            assert (cascade_dir() / d.cascade_file).is_file(), d.cascade_file


@pytest.mark.parametrize("height", [110, 200])
def test_removing_a_person_gives_an_amplitude_proposal_over_the_person(height: int) -> None:
    with_person, without = ts.person_scene(height, seed=1)
    result = object_check(without.image, with_person.image)
    assert result.available
    assert len(result.proposals) == 1, [p.to_dict() for p in result.proposals]
    p = result.proposals[0]
    assert p.check == CHECK_OBJECTS and p.category is Category.AMPLITUDE and p.symbol
    assert p.evidence_reading == "not detected" and p.comparison_reading.startswith("person")
    # Detector windows include a margin, or cover only most of the figure: most of it is inside.
    x, y, w, h = with_person.object_box
    ix = max(0, min(x + w, p.box[0] + p.box[2]) - max(x, p.box[0]))
    iy = max(0, min(y + h, p.box[1] + p.box[3]) - max(y, p.box[1]))
    assert ix * iy >= 0.6 * w * h
    assert iou(p.box, with_person.object_box) > 0.2


def test_unchanged_scene_and_jpeg_resave_give_no_proposals() -> None:
    with_person, _ = ts.person_scene(160, seed=2)
    assert object_check(with_person.image, with_person.image.copy()).proposals == []
    assert object_check(ts.jpeg(with_person.image, 90), with_person.image).proposals == []


def test_a_moved_person_is_a_geometry_proposal() -> None:
    with_person, without = ts.person_scene(200, seed=3)
    moved = without.image.copy()
    ts.draw_person(moved, moved.shape[1] // 2 + 80, moved.shape[0] - 20, 200)
    props = object_check(moved, with_person.image).proposals
    assert [p.category for p in props] == [Category.GEOMETRY]
    assert props[0].details["centre_shift_relative"] > 0.25


def test_images_of_different_sizes_are_refused_clearly() -> None:
    with pytest.raises(ExaminerError, match="same size"):
        object_check(np.zeros((64, 64, 3), np.uint8), np.zeros((64, 80, 3), np.uint8))


def test_method_text_states_limits_and_citations() -> None:
    assert "profile" in METHOD["limitations"] and "small faces" in METHOD["limitations"]
    assert METHOD["citations"] == ["viola2001rapid", "lienhart2002extended", "dalal2005histograms"]


def test_every_cited_work_is_in_the_bundled_bibliography() -> None:
    from examiner.analysis.symbols import METHODS
    from examiner.report.bibliography import bundled

    bib = bundled()
    for method in METHODS.values():
        for key in method["citations"]:
            assert key in bib, key
