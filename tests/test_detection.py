"""Neural-trace detection: spectral features, JPEG evidence, the verdict and its stability."""

from __future__ import annotations

import numpy as np
import pytest
from detection_images import decoder_output, jpeg, jpeg_bytes, natural

from examiner.analysis import detector, jpeg_evidence, spectral


@pytest.fixture(scope="module")
def positive() -> np.ndarray:
    return decoder_output(384, 384, seed=1)


@pytest.fixture(scope="module")
def negative() -> np.ndarray:
    return natural(384, 384, seed=2)


def test_spectral_result_shapes_and_finite(positive: np.ndarray) -> None:
    res = spectral.analyse(positive)
    assert set(spectral.FEATURE_NAMES) <= set(res.features)
    assert all(np.isfinite(v) for v in res.features.values())
    assert res.spectrum_image.dtype == np.uint8 and res.spectrum_image.shape == (spectral.TILE, spectral.TILE)
    assert res.tile_map.ndim == 2 and res.tile_map.size >= 1
    assert res.map_cell > 0 and res.n_tiles >= 4


def test_decoder_peaks_stand_out_and_natural_content_has_none(positive: np.ndarray, negative: np.ndarray) -> None:
    pos = spectral.analyse(positive).features
    neg = spectral.analyse(negative).features
    assert pos["y_p2_diag"] > 2.0 and pos["y_p4_diag"] > 2.0
    assert neg["y_p2_diag"] < 0.7 and neg["y_p4_diag"] < 0.7


def test_grey_and_16_bit_inputs(positive: np.ndarray) -> None:
    grey = positive[..., 1]
    res = spectral.analyse(grey)
    assert res.features["c_p4_diag"] == 0.0 and res.features["y_p4_diag"] > 2.0
    deep = positive.astype(np.uint16) * 257
    assert spectral.analyse(deep).features["y_p4_diag"] == pytest.approx(
        spectral.analyse(positive).features["y_p4_diag"], abs=1e-3)


def test_too_small_image_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="smaller than one"):
        spectral.analyse(np.zeros((40, 40, 3), np.uint8))


def test_synthetic_decoder_output_is_neural(positive: np.ndarray) -> None:
    det = detector.detect_pixels(positive)
    assert det.verdict == "neural"
    assert det.score >= detector.load_model().threshold_neural
    assert "period-4" in det.explanation or "period-8" in det.explanation


@pytest.mark.parametrize("quality", [20, 50, 90])
def test_jpeg_of_never_neural_image_is_not_called_neural(negative: np.ndarray, quality: int) -> None:
    det = detector.detect_pixels(jpeg(negative, quality))
    assert det.verdict != "neural", det.explanation
    assert det.jpeg.compressed


def test_never_neural_lossless_image_is_not_neural(negative: np.ndarray) -> None:
    # The model is fitted on real photos; this synthetic texture is no photo, so only the side
    # the evidence points to is checked, not its strength.
    det = detector.detect_pixels(negative)
    assert det.verdict != "neural" and det.lr < 1.0, det.explanation
    assert not det.jpeg.compressed


def test_neural_output_resaved_as_jpeg_90_is_still_found_and_both_reported(positive: np.ndarray, tmp_path) -> None:
    path = tmp_path / "resaved.jpg"
    path.write_bytes(jpeg_bytes(positive, 90))
    det = detector.detect_file(path)
    assert det.verdict == "neural"
    assert det.jpeg.compressed and det.jpeg.container_jpeg
    assert det.jpeg.container_quality == pytest.approx(90, abs=1)
    assert "JPEG" in det.explanation and "both histories" in det.explanation


@pytest.mark.parametrize("dy,dx", [(1, 0), (3, 5), (7, 2)])
def test_verdict_is_stable_under_a_small_crop(positive: np.ndarray, negative: np.ndarray, dy: int, dx: int) -> None:
    for img in (positive, negative):
        full = detector.detect_pixels(img)
        cropped = detector.detect_pixels(img[dy:, dx:])
        assert cropped.verdict == full.verdict
        assert abs(cropped.score - full.score) < 0.2


def test_locally_inserted_neural_content_shows_in_the_tile_map(negative: np.ndarray) -> None:
    img = natural(512, 512, seed=5)
    patch = decoder_output(256, 256, seed=6)
    img[:256, 256:] = patch
    res = spectral.analyse(img)
    m = res.tile_map
    cell = res.map_cell
    rows, cols = m.shape
    inside = [(r, c) for r in range(rows) for c in range(cols)
              if (r + 1) * cell <= 256 and c * cell >= 256]
    outside = [(r, c) for r in range(rows) for c in range(cols) if r * cell >= 256]
    assert inside and outside
    assert min(m[r, c] for r, c in inside) > max(m[r, c] for r, c in outside) + 1.0


def test_jpeg_evidence_grid_alignment_and_tables(negative: np.ndarray, tmp_path) -> None:
    path = tmp_path / "q50.jpg"
    path.write_bytes(jpeg_bytes(negative, 50))
    decoded = jpeg(negative, 50)
    ev = jpeg_evidence.analyse(decoded, path)
    assert ev.compressed and ev.aligned and ev.grid_offset == (0, 0)
    assert ev.container_jpeg and ev.container_quality == pytest.approx(50, abs=2)
    assert ev.dct_quant_score > 0.5
    # After a crop by (3 rows, 5 columns) the 8x8 grid starts 3 columns and 5 rows in.
    ev_crop = jpeg_evidence.analyse(decoded[3:, 5:])
    assert ev_crop.compressed and not ev_crop.aligned
    assert ev_crop.grid_offset == (3, 5)
    assert "cropped after JPEG" in ev_crop.summary


def test_no_jpeg_evidence_in_a_lossless_image(negative: np.ndarray) -> None:
    ev = jpeg_evidence.analyse(negative)
    assert not ev.compressed and not ev.container_jpeg
    assert ev.dct_quant_score < 0.2


def test_shipped_model_declares_its_rates_and_method() -> None:
    from examiner.analysis.calibration import signed

    model = detector.load_model()
    assert model.version == "4" and len(model.sha256) == 64
    assert model.threshold_not_neural <= model.threshold_neural
    for branch in (model, model.jpeg_branch):
        assert branch is not None and branch.lr_calibration is not None
        assert branch.lr_neural in (10.0, 100.0, 1000.0, 10000.0)
        # Every trace feature may only add to "neural"; camera-pipeline evidence may count either way.
        trace = np.array([not signed(f) for f in branch.features])
        assert (branch.weights[trace] >= 0).all()
        assert any(f.startswith("cfa_") for f in branch.features)
    rates = detector.known_error_rates(model)
    assert rates["set"].startswith("real data") and rates["measured_on"]
    assert len(rates["codec families left out (found)"]) >= 10
    assert 0.0 <= rates["figures"]["camera_fpr"] <= rates["figures"]["camera_fpr_upper_95"] <= 1.0
    assert set(detector.METHOD["citations"]) == {"bergmann2023frequency", "bergmann2024forensic", "bergmann2025jpegai",
                                                 "popescu2005cfa", "enfsi2015guideline"}
    for key in ("name", "description", "parameters", "limitations"):
        assert detector.METHOD[key]


def test_images_with_jpeg_evidence_use_the_jpeg_branch(negative: np.ndarray) -> None:
    model = detector.load_model()
    assert model.jpeg_branch is not None
    # After JPEG only luma periods 2 and 4 are free of the JPEG grids' own power peaks; phase
    # coherence is free of them at every period; residual statistics and the JPEG evidence's own
    # strengths say how much JPEG took away.
    assert all(f.startswith(("y_p2", "y_p4", "y_ac2", "y_ac4", "y_coh", "t_", "jpeg_", "cfa_"))
               for f in model.jpeg_branch.features)
    assert any(f.startswith("y_coh") for f in model.jpeg_branch.features)
    decoded = jpeg(negative, 75)
    feats = detector.image_features(decoded)
    assert feats[detector.JPEG_KEY] == 1.0
    plain = dict(feats, **{detector.JPEG_KEY: 0.0})
    assert model.branch(plain) is model and model.branch(feats) is model.jpeg_branch
    assert model.verdict(model.score(feats), feats) != "neural"
    # Monotone: stronger period-2/4 traces and phase coherence only raise the JPEG branch's score.
    strong = dict(feats, y_p4_diag=6.0, y_p2_diag=6.0, y_coh4_diag=6.0, y_coh8_diag=6.0)
    assert model.score(strong) > model.score(feats)
    assert model.verdict(model.score(strong), strong) == "neural"


def test_detection_record_is_json_ready(positive: np.ndarray) -> None:
    import json

    d = detector.detect_pixels(positive).to_dict()
    text = json.dumps(d)
    back = json.loads(text)
    assert {"path", "score", "verdict", "explanation", "spectral", "jpeg", "error_rates", "lr", "lr_interval_90",
            "verbal_scale", "model_sha256"} <= set(back)
    assert back["lr"] > 0 and back["lr_interval_90"][0] <= back["lr"] <= back["lr_interval_90"][1]
    assert back["verbal_scale"].endswith("support for neural-codec processing")


def test_verdict_follows_from_the_likelihood_ratio(positive: np.ndarray, negative: np.ndarray) -> None:
    model = detector.load_model()
    for img in (positive, negative):
        det = detector.detect_pixels(img)
        feats = {**spectral.analyse(img).features, **detector._extra_features(img, det.jpeg)}
        assert det.lr == pytest.approx(model.likelihood_ratio(det.score, feats))
        assert det.verdict == model.verdict_for_lr(det.lr, feats)
    assert detector.detect_pixels(positive).lr >= model.lr_neural
    assert detector.detect_pixels(negative).lr < 1.0


def test_inputs_outside_the_validated_domain_are_inconclusive_and_say_why(negative: np.ndarray, tmp_path) -> None:
    flat = np.full((300, 300, 3), 128, np.uint8)
    det = detector.detect_pixels(flat)
    assert det.verdict == "inconclusive" and det.out_of_domain and det.out_of_domain.startswith("too flat")
    small = detector.detect_pixels(negative[:200, :300])
    assert small.verdict == "inconclusive" and small.out_of_domain.startswith("too small")
    path = tmp_path / "q20.jpg"
    path.write_bytes(jpeg_bytes(negative, 20))
    heavy = detector.detect_file(path)
    assert heavy.verdict == "inconclusive" and heavy.out_of_domain.startswith("heavy re-processing")
    assert "outside the validated domain" in heavy.inconclusive_reason
    assert heavy.verbal_scale.startswith("not evaluated") and "not evidence" in heavy.explanation


def test_detection_can_be_cancelled(positive: np.ndarray) -> None:
    from examiner.core.tasks import TaskContext
    from examiner.errors import Cancelled

    ctx = TaskContext()
    ctx.cancel.cancel()
    with pytest.raises(Cancelled):
        detector.detect_pixels(positive, ctx=ctx)


def test_phase_coherence_finds_a_weak_repeated_pattern_and_ignores_its_phase() -> None:
    rng = np.random.default_rng(3)
    noise = rng.normal(128, 20, (512, 512)).astype(np.float32)
    res = spectral.residual(noise)
    plain = spectral.coherence_features(res)
    # Random content: every coherence is about 1 (log about 0), far below a repeated pattern's.
    assert all(abs(v) < 1.5 for v in plain.values())
    tile = rng.normal(0, 1.0, (8, 8)).astype(np.float32)  # 1 grey level against 20 of noise
    pattern = np.tile(tile, (64, 64))
    marked = spectral.residual(noise + pattern)
    coh = spectral.coherence_features(marked)
    assert coh["y_coh8_diag"] > 1.5 and coh["y_coh4_diag"] > 1.5
    assert coh["y_coh8_diag"] > plain["y_coh8_diag"] + 1.5
    shifted = spectral.coherence_features(spectral.residual((noise + pattern)[3:, 5:]))
    assert abs(shifted["y_coh8_diag"] - coh["y_coh8_diag"]) < 0.3  # a crop changes nothing


def test_localisation_flags_pasted_decoder_output_and_not_an_untouched_image() -> None:
    from examiner.analysis import localise

    model = localise.load_model()
    assert (model.weights >= 0).all() and model.measured["untouched_test_images"] > 0
    img = natural(512, 768, seed=5)
    assert not localise.localise(img, model).flagged
    img[128:384, 256:512] = decoder_output(256, 256, seed=6)
    found = localise.localise(img, model)
    assert found.flagged
    mask = found.pixel_mask(img.shape[:2])
    box = np.zeros(img.shape[:2], bool)
    box[128:384, 256:512] = True
    # Most of the pasted box is flagged and the strongest window is centred inside it (a trace
    # this strong also lifts windows that only partly overlap the box, so the mask is larger).
    assert (mask & box).sum() / box.sum() >= 0.8
    r, c = np.unravel_index(int(np.argmax(found.scores)), found.scores.shape)
    cy, cx = r * found.stride + (128 + found.stride) // 2, c * found.stride + (128 + found.stride) // 2
    assert box[cy, cx]


def test_the_explanation_names_what_drives_a_strong_detection() -> None:
    """The per-feature terms (integrated from the calibration mean for a hidden layer, so they do
    not vanish when its units saturate) add up to the logit's rise over the mean input."""
    from detection_images import decoder_output

    from examiner.analysis.detector import detect_pixels, image_features, load_model

    model = load_model()
    pixels = decoder_output(256, 256, seed=3)
    feats = image_features(pixels)
    branch = model.branch(feats)
    x = branch._inputs(feats)
    mean_feats = dict(feats)
    mean_feats.update({name: float(m) for name, m in zip(branch.features, branch.mean, strict=True)})
    assert np.allclose(branch._inputs(mean_feats), 0.0, atol=1e-9)
    rise = branch.logit(feats) - branch.logit(mean_feats)
    assert abs(branch.contributions(feats).sum() - rise) <= 0.02 * abs(rise) + 1e-6, (x, rise)
    det = detect_pixels(pixels)
    assert det.verdict == "neural" and "The score is driven by" in det.explanation


def test_every_feature_of_the_shipped_model_has_words_either_way() -> None:
    model = detector.load_model()
    for branch in (model, model.jpeg_branch):
        assert branch is not None
        for name in branch.features:
            for low in (False, True):
                phrase = detector._evidence_phrase(name, 0.5, low)
                assert name not in phrase and "cfa" not in phrase and "rb " not in phrase, (name, phrase)
