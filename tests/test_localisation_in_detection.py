"""The localisation map travels with every detection: into the JSON, the case and the report."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from detection_images import natural

from examiner.analysis import localise
from examiner.analysis.detector import detect_pixels
from examiner.analysis.localisation_text import describe
from examiner.codecs import engine
from examiner.core.case import Case

PASTED = (320, 256, 256, 256)  # x, y, width, height


def _iou(a: list[int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


@pytest.fixture(scope="module")
def splice() -> tuple[np.ndarray, np.ndarray]:
    # A synthetic scene (never part of the localisation model's fitting data) with a box taken
    # from its decode by the bundled GAN-decoder demonstration codec.
    original = natural(768, 768, seed=0)
    decoded = engine.run("examiner-demo-mbt2018-mean-gan", original, 1).pixels
    x, y, w, h = PASTED
    spliced = original.copy()
    spliced[y : y + h, x : x + w] = decoded[y : y + h, x : x + w]
    return original, spliced


def test_the_pasted_box_is_found_and_the_untouched_image_flags_nothing(splice: tuple[np.ndarray, np.ndarray]) -> None:
    original, spliced = splice
    found = detect_pixels(spliced).localisation
    clean = detect_pixels(original).localisation
    assert found is not None and clean is not None
    assert clean["flagged_windows"] == 0 and clean["boxes"] == []
    assert found["flagged_windows"] > 0
    assert _iou(found["boxes"][0], PASTED) >= 0.5
    # The record names the model file it came from.
    assert found["model_sha256"] == localise.shipped_model()[1] and found["model_version"] == localise.LOCAL_MODEL_VERSION


def test_the_description_quotes_the_measured_rates(splice: tuple[np.ndarray, np.ndarray]) -> None:
    loc = detect_pixels(splice[1]).localisation
    text = describe(loc)
    measured = localise.shipped_model()[0].measured
    assert f"{100 * measured['untouched_nothing_flagged']:.1f}%" in text
    assert f"{100 * measured['iou_at_least_0.5_unseen_decoders']:.1f}%" in text
    assert "x 288-" in text or "x 3" in text
    assert "none of the" in describe(detect_pixels(splice[0]).localisation)
    assert describe(None) == ""


def test_an_image_too_small_for_a_window_has_no_map() -> None:
    assert detect_pixels(natural(128, 128, seed=1)).localisation is None


def test_the_map_is_recorded_in_the_case_and_stated_in_the_report(
    tmp_path: Path, splice: tuple[np.ndarray, np.ndarray]
) -> None:
    from examiner.report.builder import build_report_model
    from examiner.workflows.detect import detect

    path = tmp_path / "spliced.png"
    cv2.imwrite(str(path), np.ascontiguousarray(splice[1][..., ::-1]))
    with Case.create(tmp_path / "c.mcase", "L1", "A. Examiner") as case:
        item = case.add_evidence(path)
        finding = detect(case, item.id)
        assert finding.record.localisation is not None and finding.record.localisation["boxes"]
        blocks = build_report_model(case).detections
    assert len(blocks) == 1 and blocks[0].localisation.startswith(f"Localisation (model {localise.LOCAL_MODEL_VERSION}")
