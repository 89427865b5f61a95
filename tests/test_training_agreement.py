"""Agreement statistics against textbook examples, region matching, and ``examiner agreement``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from examiner.cli import main
from examiner.core.case import Case
from examiner.core.regions import Category, Region, ShapeKind
from examiner.errors import ExaminerError
from examiner.training.agreement import (
    agreement,
    bootstrap_ci,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha_nominal,
    match_regions,
    region_iou,
)


def test_cohen_kappa_textbook_two_by_two() -> None:
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15.
    # p_o = 35/50 = 0.70; p_e = 0.5*0.6 + 0.5*0.4 = 0.50; kappa = 0.20/0.50 = 0.40.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.40)
    assert cohen_kappa(a, a) == pytest.approx(1.0)


def test_fleiss_kappa_textbook_fourteen_raters() -> None:
    # The worked example of Fleiss' kappa: 10 subjects, 14 raters, 5 categories;
    # P-bar = 0.378, P-e = 0.213, kappa = 0.210.
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]
    assert fleiss_kappa(table) == pytest.approx(0.210, abs=5e-4)
    with pytest.raises(ExaminerError, match="same number"):
        fleiss_kappa([[1, 1], [2, 1]])


def test_fleiss_equals_scott_pi_for_two_raters_by_hand() -> None:
    # Two raters, 4 items: (a,a) (a,b) (b,b) (b,b). p_o = 3/4; pooled shares a = 3/8, b = 5/8;
    # p_e = 9/64 + 25/64 = 34/64; kappa = (48/64 - 34/64) / (30/64) = 14/30.
    assert fleiss_kappa([[2, 0], [1, 1], [0, 2], [0, 2]]) == pytest.approx(14 / 30)


def test_krippendorff_alpha_textbook_examples() -> None:
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": binary data, two
    # observers, ten units: alpha = 0.095.
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert krippendorff_alpha_nominal([a, b]) == pytest.approx(0.095, abs=5e-4)
    # Same paper: four observers, twelve units, missing values, nominal alpha = 0.743.
    n = None
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
        [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n],
    ]
    assert krippendorff_alpha_nominal(data) == pytest.approx(0.743, abs=5e-4)


def test_bootstrap_interval_brackets_the_estimate_and_needs_enough_units() -> None:
    rng = np.random.default_rng(1)
    a = list(rng.integers(0, 2, 60))
    b = [x if rng.random() < 0.8 else 1 - x for x in a]
    est = cohen_kappa(a, b)
    lo, hi = bootstrap_ci(lambda idx: cohen_kappa([a[i] for i in idx], [b[i] for i in idx]), 60)  # type: ignore[misc]
    assert lo < est < hi and hi - lo < 0.6
    assert bootstrap_ci(lambda idx: 0.0, 5) is None


def _rect(x: float, y: float, w: float, h: float, cats: list[Category], symbol: bool = False) -> Region:
    return Region(1, ShapeKind.RECT, [(x, y), (x + w, y + h)], categories=cats, symbol=symbol)


def test_region_iou_and_matching() -> None:
    a = _rect(0, 0, 10, 10, [Category.SHAPE])
    assert region_iou(a, _rect(5, 0, 10, 10, [])) == pytest.approx(50 / 150)
    assert region_iou(a, _rect(20, 20, 5, 5, [])) == 0.0
    ell = Region(1, ShapeKind.ELLIPSE, [(0, 0), (10, 10)])
    assert 0.7 < region_iou(a, ell) < 0.85  # pi/4 of the square
    units = match_regions([[a, _rect(50, 50, 10, 10, [])], [_rect(1, 1, 10, 10, [])], [_rect(0, 1, 10, 10, [])]], 0.5)
    sizes = sorted(sum(r is not None for r in u.regions) for u in units)
    assert sizes == [1, 3]


def test_agreement_on_regions_two_raters() -> None:
    ann = [_rect(0, 0, 10, 10, [Category.SHAPE], True), _rect(40, 0, 10, 10, [Category.AMPLITUDE])]
    ben = [_rect(1, 0, 10, 10, [Category.SHAPE], True), _rect(40, 1, 10, 10, [Category.GEOMETRY]), _rect(80, 80, 5, 5, [])]
    rep = agreement([ann, ben], ["Ann", "Ben"])
    assert len(rep.units) == 3
    q = {x.question: x for x in rep.questions}
    assert q["presence"].kappa_name == "Cohen's kappa"
    assert q["category shape"].kappa == pytest.approx(1.0)
    assert q["symbol flag"].kappa == pytest.approx(1.0)
    assert q["category amplitude"].kappa_units == 2
    assert len(rep.disagreements) == 2
    assert {d["ratings"]["Ann"] for d in rep.disagreements} == {"amplitude", "not marked"}


def _case_with(tmp_path: Path, image: Path, name: str, regions: list[Region]) -> Path:
    p = tmp_path / f"{name}.mcase"
    with Case.create(p, case_id=name, examiner=name) as case:
        item = case.add_evidence(image)
        for r in regions:
            r.evidence_id = item.id
            case.add_region(r)
    return p


def test_agreement_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = tmp_path / "e.png"
    Image.fromarray(np.full((100, 100, 3), 128, np.uint8)).save(img)
    from examiner.core.evidence import hash_file

    sha = hash_file(img)[0]
    a = _case_with(tmp_path, img, "Ann", [_rect(0, 0, 10, 10, [Category.SHAPE], True)])
    b = _case_with(tmp_path, img, "Ben", [_rect(1, 0, 10, 10, [Category.SHAPE], True), _rect(50, 50, 9, 9, [Category.AMPLITUDE])])
    c = _case_with(tmp_path, img, "Cem", [_rect(0, 1, 10, 10, [Category.GEOMETRY], True)])
    assert main(["agreement", str(a), str(b), str(c), "--evidence", sha[:12], "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["raters"] == ["Ann", "Ben", "Cem"] and out["units"] == 2
    assert out["agreement"][0]["kappa_name"] == "Fleiss' kappa"
    assert main(["agreement", str(a), str(b), "--evidence", sha]) == 0
    text = capsys.readouterr().out
    assert "Cohen's kappa" in text and "place 2" in text
    assert main(["agreement", str(a), str(b), "--evidence", "0" * 64]) == 2
    assert "no evidence with SHA-256" in capsys.readouterr().err
