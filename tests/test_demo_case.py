"""The synthetic street scene and the demo case built from it on first use."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from examiner.demo_scene import SCENE_HEIGHT, SCENE_WIDTH, render_scene, scene_spec

PACK = Path(__file__).resolve().parent.parent / "codecs" / "examiner-demo"
needs_pack = pytest.mark.skipif(not (PACK / "codec.toml").is_file(), reason="the demonstration pack is not built")


def test_scene_is_deterministic_and_lists_every_kind_of_symbol() -> None:
    a, boxes = render_scene(0)
    b, _ = render_scene(0)
    assert a.shape == (SCENE_HEIGHT, SCENE_WIDTH, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert {x.kind for x in boxes} == {"text", "sign", "light", "arrow", "dial"}
    labels = {x.label: x for x in boxes}
    assert labels["licence plate"].content == scene_spec(0).plate_text
    for x in boxes:
        x0, y0, x1, y1 = x.box
        assert 0 <= x0 < x1 <= SCENE_WIDTH and 0 <= y0 < y1 <= SCENE_HEIGHT, x
    other, _ = render_scene(3)
    assert not np.array_equal(a, other)


@pytest.mark.parametrize(
    ("variant", "label"),
    [
        ({"plate_text": "KA 4824"}, "licence plate"),
        ({"arrow_direction": "right"}, "arrow lamp"),
        ({"brake_lights_on": False}, "left brake light"),
        ({"clock_hour": 4}, "clock dial"),
    ],
)
def test_a_variant_changes_pixels_only_inside_the_changed_symbols(variant: dict[str, object], label: str) -> None:
    base, boxes = render_scene(0)
    changed, changed_boxes = render_scene(0, variant)
    diff = np.any(base != changed, axis=2)
    assert diff.any()
    inside = np.zeros_like(diff)
    moved = [b for b, c in zip(boxes, changed_boxes, strict=True) if b.content != c.content or b.attributes != c.attributes]
    assert label in {b.label for b in moved}
    for b in moved:
        x0, y0, x1, y1 = b.box
        inside[y0:y1, x0:x1] = True
    assert not (diff & ~inside).any(), "pixels changed outside the boxes of the changed symbols"


def test_unknown_variant_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scene fields"):
        render_scene(0, {"plate": "X"})


@needs_pack
def test_demo_case_builds_from_scratch_and_is_reused(tmp_path: Path) -> None:
    from examiner.core.case import Case
    from examiner.core.settings import data_dir
    from examiner.demo import CASE_NAME, DEMO_CODEC_ID, ensure_demo_case

    case_path = ensure_demo_case()
    assert case_path == data_dir() / "demo" / CASE_NAME
    with Case.open(case_path, read_only=True) as case:
        assert case.integrity.ok, case.integrity.problems()
        (item,) = case.evidence()
        evidence = case.load_evidence(item.id).pixels
        reference = case.load_reference(item.id)
        assert reference is not None and evidence.shape == reference.shape
        np.testing.assert_array_equal(reference, render_scene(0)[0])
        assert not np.array_equal(evidence, reference)
        regions = case.regions(item.id)
        assert len(regions) == 2 and all(r.symbol for r in regions)
        _assert_filled_in_as_an_examiner_would(regions, evidence)
        (finding,) = case.findings(item.id, "recompression")
        assert finding.data["codec"] == DEMO_CODEC_ID and finding.data["quality"] == 1
        bitstream = case.get_artefact(next(iter(finding.artefacts.values())))
        assert finding.data["bpp"] == pytest.approx(8 * len(bitstream) / evidence[:, :, 0].size)
    mtime = case_path.stat().st_mtime_ns
    assert ensure_demo_case() == case_path
    assert case_path.stat().st_mtime_ns == mtime  # reused, not rebuilt
    # A demo made with other weights than the bundled ones is rebuilt.
    stamp_path = case_path.parent / "demo.json"
    stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
    stamp["codec"]["weights_sha256"] = {"old.safetensors": "0" * 64}
    stamp_path.write_text(json.dumps(stamp), encoding="utf-8")
    assert ensure_demo_case() == case_path
    assert json.loads(stamp_path.read_text(encoding="utf-8"))["codec"]["weights_sha256"] != stamp["codec"]["weights_sha256"]


def _assert_filled_in_as_an_examiner_would(regions: list, evidence: np.ndarray) -> None:
    from examiner.core.regions import Category
    from examiner.demo import DESCRIBED_WEIGHTS_SHA256, EVIDENCE_READINGS, arrow_lit_in
    from examiner.demo_scene import SymbolBox

    plate = next(r for r in regions if f"plate reads {scene_spec(0).plate_text}" in r.comparison_says)
    arrow = next(r for r in regions if r is not plate)
    for r in regions:
        assert r.evidence_says.strip() and r.comparison_says.strip() and r.notes.strip(), r
        assert r.comparison == "reference"
    assert plate.categories == [Category.SHAPE]
    # The readings describe what the bundled weights made; new weights need a new look at the crops.
    assert plate.evidence_says == EVIDENCE_READINGS["licence plate"][0], (
        f"the demo evidence was not made with the described weights {DESCRIBED_WEIGHTS_SHA256[:12]}: "
        "look at it and describe it anew in examiner/demo.py"
    )
    assert EVIDENCE_READINGS["licence plate"][1] in plate.notes
    x0, y0, x1, y1 = (int(v) for v in (*arrow.points[0], *arrow.points[1]))
    box = SymbolBox("arrow lamp", "arrow", (x0, y0, x1, y1), "left", {"lit": True})
    still_lit = arrow_lit_in(evidence, box)
    # Amplitude exactly when the decoded lamp's state differs from the rendered one (lit).
    assert set(arrow.categories) == ({Category.SHAPE} if still_lit else {Category.SHAPE, Category.AMPLITUDE})
    assert ("still lit" in arrow.evidence_says) == still_lit
    assert arrow.evidence_says.endswith(EVIDENCE_READINGS["arrow lamp"][0])
    assert "pointing left, lit" in arrow.comparison_says


def test_the_arrow_state_is_measured_not_assumed() -> None:
    from examiner.demo import arrow_lit_in

    lit, boxes = render_scene(0, {"arrow_lit": True})
    dark, _ = render_scene(0, {"arrow_lit": False})
    box = next(b for b in boxes if b.label == "arrow lamp")
    assert arrow_lit_in(lit, box) and not arrow_lit_in(dark, box)
    # A blurred lit lamp is still lit; a blurred dark one still dark.
    from PIL import Image, ImageFilter

    def blur(a: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(2)))

    assert arrow_lit_in(blur(lit), box) and not arrow_lit_in(blur(dark), box)


@needs_pack
def test_demo_command_prints_the_case_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from examiner.cli import main

    out = tmp_path / "demo-here"
    assert main(["demo", "--out", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert Path(data["case"]) == (out / "demo.mcase").resolve()
    assert data["quality"] == 1 and data["bpp"] > 0


def test_demo_refuses_a_folder_that_is_not_a_demo(tmp_path: Path) -> None:
    from examiner.demo import ensure_demo_case
    from examiner.errors import ExaminerError

    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ExaminerError, match="not a demo folder"):
        ensure_demo_case(tmp_path)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
