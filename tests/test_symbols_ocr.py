"""OCR difference: real Tesseract on rendered plates, signs and text (skips without it)."""

from __future__ import annotations

import numpy as np
import pytesseract
import pytest

from examiner.analysis import symbol_testset as ts
from examiner.analysis.symbols import CHECK_OCR, ocr_check, run_checks, tesseract_status
from examiner.analysis.symbols.ocr_diff import Char, diff_readings
from examiner.analysis.symbols.proposals import Box
from examiner.core.regions import Category

needs_tesseract = pytest.mark.skipif(
    not tesseract_status()[0], reason=f"needs the Tesseract engine: {tesseract_status()[1]}"
)


def _covered(glyph: Box, box: Box) -> float:
    """Share of the glyph's area inside the box."""
    ix = max(0, min(glyph[0] + glyph[2], box[0] + box[2]) - max(glyph[0], box[0]))
    iy = max(0, min(glyph[1] + glyph[3], box[1] + box[3]) - max(glyph[1], box[1]))
    return ix * iy / float(glyph[2] * glyph[3])


@needs_tesseract
@pytest.mark.parametrize("char_px", [12, 28])
def test_changed_last_digit_of_a_plate_gives_one_shape_proposal_on_that_glyph(char_px: int) -> None:
    scene = ts.plate_scene("KA 4711", char_px, seed=1)
    evidence, glyph, new_text = ts.alter(scene, "changed", index=6)
    assert new_text == "KA 4717"
    result = ocr_check(evidence, scene.image)
    assert result.available
    assert len(result.proposals) == 1, [p.to_dict() for p in result.proposals]
    p = result.proposals[0]
    assert p.check == CHECK_OCR
    assert p.symbol is True
    assert p.category is Category.SHAPE
    assert (p.evidence_reading, p.comparison_reading) == ("7", "1")
    assert _covered(glyph, p.box) > 0.9
    # The proposal is about the last glyph, not the whole plate: no other glyph's centre is inside.
    for other in scene.glyph_boxes[:6]:
        if other[2]:
            cx, cy = other[0] + other[2] / 2, other[1] + other[3] / 2
            assert not (p.box[0] <= cx <= p.box[0] + p.box[2] and p.box[1] <= cy <= p.box[1] + p.box[3])
    assert p.details["evidence_confidence"] >= 60 and p.details["comparison_confidence"] >= 60
    assert p.details["upscaled"] is True


@needs_tesseract
@pytest.mark.parametrize(
    "scene",
    [ts.plate_scene("KA 4711", 14, 1), ts.sign_scene("STOP", 20, 2), ts.text_scene("Invoice 2024-117 total 84.50", 12, 3)],
    ids=["plate", "sign", "text"],
)
def test_unchanged_pairs_and_jpeg_q90_resave_give_no_proposals(scene: ts.Scene) -> None:
    assert ocr_check(scene.image, scene.image.copy()).proposals == []
    results = run_checks(ts.jpeg(scene.image, 90), scene.image)
    assert [p.to_dict() for r in results for p in r.proposals] == []


@needs_tesseract
def test_removed_glyph_is_proposed_as_amplitude() -> None:
    scene = ts.sign_scene("ZONE 30", 20, 4)
    evidence, glyph, _ = ts.alter(scene, "removed")
    props = ocr_check(evidence, scene.image).proposals
    hits = [p for p in props if _covered(glyph, p.box) > 0.5]
    assert hits and hits[0].category is Category.AMPLITUDE
    assert hits[0].comparison_reading == "0" and hits[0].evidence_reading == ""


@needs_tesseract
def test_text_turned_by_90_degrees_is_read_after_turning() -> None:
    scene = ts.plate_scene("KA 4711", 20, seed=5)
    evidence, glyph, _ = ts.alter(scene, "changed", index=6)
    turned_ev = np.ascontiguousarray(np.rot90(evidence, 1))  # counter-clockwise
    turned_cp = np.ascontiguousarray(np.rot90(scene.image, 1))
    width = scene.image.shape[1]
    # Where the glyph box lies after the turn: (x, y) -> (y, width - 1 - x).
    x, y, w, h = glyph
    turned_glyph = (y, width - x - w, h, w)
    props = ocr_check(turned_ev, turned_cp).proposals
    assert len(props) == 1, [p.to_dict() for p in props]
    assert props[0].details["turn_degrees"] in (90, 270)
    assert (props[0].evidence_reading, props[0].comparison_reading) == ("7", "1")
    assert _covered(turned_glyph, props[0].box) > 0.8


def test_without_tesseract_ocr_is_unavailable_and_objects_still_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with_person, without = ts.person_scene(160)
    results = run_checks(without.image, with_person.image)
    by_check = {r.check: r for r in results}
    assert by_check["ocr"].available is False
    assert "Tesseract" in by_check["ocr"].message and "not installed" in by_check["ocr"].message
    assert by_check["ocr"].proposals == []
    assert by_check["objects"].available is True
    assert any(p.category is Category.AMPLITUDE for p in by_check["objects"].proposals)


def _chars(text: str, conf: float, x0: int = 0, word_gap: int = 10) -> list[Char]:
    out, x, word = [], x0, 0
    for c in text:
        if c == " ":
            word += 1
            x += word_gap
            continue
        out.append(Char(c, (x, 10, 8, 12), conf, conf, word))
        x += 10
    return out


def test_alignment_rules_without_the_engine() -> None:
    # A changed glyph read confidently on both sides: Shape, on that glyph only.
    props = diff_readings(_chars("KA 4711", 95), _chars("KA 4717", 95), 200, 50)
    assert [(p.evidence_reading, p.comparison_reading, p.category) for p in props] == [("1", "7", Category.SHAPE)]
    assert props[0].box[0] <= 70 <= props[0].box[0] + props[0].box[2]
    # A split word is not a difference; case of look-alike letters is not either.
    assert diff_readings(_chars("KA4711", 95), _chars("KA 4711", 95), 200, 50) == []
    assert diff_readings(_chars("STOP", 95), _chars("sTOP", 95), 200, 50) == []
    # A word present in one image only: Amplitude.
    props = diff_readings(_chars("EXIT", 90), _chars("EXIT 12", 90), 200, 50)
    assert [(p.evidence_reading, p.comparison_reading, p.category) for p in props] == [("", "12", Category.AMPLITUDE)]
    # Unreliable on both sides: nothing. A collapse in confidence: faded text.
    assert diff_readings(_chars("AB", 30), _chars("XY", 30), 200, 50) == []
    props = diff_readings(_chars("STOP", 20), _chars("STOP", 96), 200, 50)
    assert len(props) == 1 and props[0].category is Category.AMPLITUDE
    assert "confidence dropped in the evidence" in props[0].details["difference"]
    # Punctuation from borders is ignored.
    assert diff_readings(_chars("|KA", 95), _chars("KA", 95), 200, 50) == []
