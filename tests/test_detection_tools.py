"""Identification by re-compression, calibration maths, and the detect / evaluate-detector CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_path
from detection_images import decoder_output, jpeg, jpeg_bytes, natural, png_bytes

from examiner import cli
from examiner.analysis import calibration, error_rates, identify

# ---- identification -----------------------------------------------------------------------


def test_jpeg_50_output_is_a_near_fixed_point_of_jpeg_50() -> None:
    img = jpeg(natural(320, 320, seed=3), 50)
    ident = identify.identify(img, ["jpeg"])
    assert ident.fits and ident.best is not None
    assert ident.best.codec == "jpeg" and ident.best.quality == 50
    assert ident.best.gain_db > 5.0
    assert ident.candidates[0] is ident.best
    assert ident.best.change_map is not None and ident.best.change_map.ndim == 2


def test_no_candidate_fits_a_never_compressed_image() -> None:
    ident = identify.identify(natural(256, 256, seed=4), ["jpeg"])
    assert not ident.fits and ident.best is None
    assert "none of the installed candidates fits" in ident.summary


def test_unknown_codec_is_a_clear_error() -> None:
    from examiner.errors import CodecError

    with pytest.raises(CodecError, match="unknown codec"):
        identify.identify(natural(128, 128), ["no-such-codec"])


def test_identification_window_is_bounded_and_grid_aligned() -> None:
    big = np.zeros((2000, 1500, 3), np.uint8)
    own, ref, (y0, x0, h, w) = identify.windows(big)
    assert h <= identify.WINDOW and w <= identify.WINDOW
    assert y0 % 16 == 0 and x0 % 16 == 0
    assert own.shape == ref.shape


# ---- calibration maths --------------------------------------------------------------------


def test_roc_auc_known_values() -> None:
    labels = np.array([1, 1, 0, 0])
    assert error_rates.roc_auc(np.array([0.9, 0.8, 0.2, 0.1]), labels) == 1.0
    assert error_rates.roc_auc(np.array([0.1, 0.2, 0.8, 0.9]), labels) == 0.0
    assert error_rates.roc_auc(np.array([0.5, 0.5, 0.5, 0.5]), labels) == 0.5


def test_threshold_keeps_false_positive_rate() -> None:
    rng = np.random.default_rng(0)
    neg = rng.random(1000)
    for fpr in (0.01, 0.05):
        t = error_rates.threshold_for_fpr(neg, fpr)
        assert np.mean(neg >= t) <= fpr
        assert np.mean(neg >= t) > fpr - 0.005


def test_confident_threshold_bounds_the_rate() -> None:
    neg = np.random.default_rng(2).random(600)
    t = error_rates.threshold_for_confident_fpr(neg, 0.01, 0.95)
    k = int(np.sum(neg >= t))
    assert error_rates.fpr_upper_bound(k, 600) <= 0.01 < error_rates.fpr_upper_bound(k + 1, 600)
    # Too few negatives to show 1 %: the threshold clears them all.
    few = np.array([0.1, 0.2, 0.3])
    assert error_rates.threshold_for_confident_fpr(few, 0.01) > 0.3


def test_logistic_weights_are_non_negative_and_separate() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((400, 3))
    y = (x[:, 0] - 0.8 * x[:, 1] > 0).astype(float)
    w, _ = calibration.fit_logistic(x, y)
    assert (w >= 0).all() and w[0] > 0.5 and w[1] == 0.0


def test_bpp_bands() -> None:
    assert calibration.bpp_band(None) == "unknown/lossless"
    assert calibration.bpp_band(0.12) == "<0.25"
    assert calibration.bpp_band(1.0) == "0.6-1.2"


# ---- CLI ----------------------------------------------------------------------------------


def _folders(tmp_path: Path) -> tuple[Path, Path]:
    pos, neg = tmp_path / "pos" / "decoder", tmp_path / "neg" / "jpeg"
    pos.mkdir(parents=True)
    neg.mkdir(parents=True)
    for i in range(3):
        (pos / f"p{i}.png").write_bytes(png_bytes(decoder_output(256, 256, seed=10 + i)))
        (neg / f"n{i}.jpg").write_bytes(jpeg_bytes(natural(256, 256, seed=20 + i), 40 + 20 * i))
    (neg / "n_lossless.png").write_bytes(png_bytes(natural(256, 256, seed=30)))
    return pos.parent, neg.parent


def test_detect_cli_json_over_a_folder_with_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pos, neg = _folders(tmp_path)
    (neg / "jpeg" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    code = cli.main(["detect", str(pos), str(neg), "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out) == 8
    errors = [r for r in out if "error" in r]
    assert len(errors) == 1 and "broken.jpg" in errors[0]["error"]
    ok = [r for r in out if "error" not in r]
    for r in ok:
        assert {"path", "score", "verdict", "explanation", "spectral", "jpeg"} <= set(r)
        assert 0.0 <= r["score"] <= 1.0 and r["verdict"] in ("neural", "not-neural", "inconclusive")
        assert "candidates" not in r
    verdicts = {Path(r["path"]).parent.name: [] for r in ok}
    for r in ok:
        verdicts[Path(r["path"]).parent.name].append(r["verdict"])
    # The synthetic decoder's outputs support the neural proposition (LR > 1) though not all of
    # them reach the level a verdict needs; no never-neural JPEG is called neural.
    assert all(r["lr"] > 1 and r["verdict"] != "not-neural" for r in ok if Path(r["path"]).parent.name == "decoder")
    assert "neural" in verdicts["decoder"]
    assert "neural" not in verdicts["jpeg"]


def test_detect_cli_with_codecs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "q50.jpg"
    path.write_bytes(jpeg_bytes(natural(256, 256, seed=7), 50))
    assert cli.main(["detect", str(path), "--codecs", "jpeg", "--json"]) == 0
    (r,) = json.loads(capsys.readouterr().out)
    assert r["candidates"][0]["codec"] == "jpeg" and r["candidates"][0]["quality"] == 50
    assert r["identification"]["fits"] is True


def test_detect_cli_missing_file_is_an_error_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["detect", str(tmp_path / "absent.png"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and "absent.png" in out[0]["error"]


def test_evaluate_detector_cli_and_calibration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pos, neg = _folders(tmp_path)
    assert cli.main(["evaluate-detector", "--positives", str(pos), "--negatives", str(neg), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)["evaluation"]
    assert res["n_positives"] == 3 and res["n_negatives"] == 4
    assert res["roc_auc"] == 1.0
    assert "decoder (positives)" in res["per_family"] and "jpeg (negatives)" in res["per_family"]
    assert res["per_bpp_band"]
    out = tmp_path / "model.json"
    assert cli.main(["evaluate-detector", "--positives", str(pos), "--negatives", str(neg),
                     "--calibrate", str(out), "--test-positives", str(pos), "--test-negatives", str(neg),
                     "--json"]) == 0
    capsys.readouterr()
    from examiner.analysis.detector import load_model

    model = load_model(out)
    assert model.measured["test"]["n_positives"] == 3
    assert (model.weights >= 0).all()


# ---- the development data (skipped when ../shared is absent) ------------------------------


def test_generative_neural_output_from_the_shared_data_is_found() -> None:
    from examiner.analysis.detector import detect_file

    path = shared_path("data", "neural-dev", "mric", "kodim13_otp_2.56.png")
    det = detect_file(path)
    assert det.verdict == "neural", det.explanation


def test_kodak_jpeg_from_the_shared_data_is_not_neural(tmp_path: Path) -> None:
    from examiner.analysis.detector import detect_file
    from examiner.core.evidence import open_evidence

    src = shared_path("data", "kodak", "kodim23.png")
    pixels = open_evidence(src).pixels
    for q in (20, 50, 90):
        p = tmp_path / f"k{q}.jpg"
        p.write_bytes(jpeg_bytes(pixels, q))
        assert detect_file(p).verdict != "neural"
