"""Likelihood ratios: calibration on held-out scores, the verbal scale, the verdict they give."""

from __future__ import annotations

import numpy as np
import pytest

from examiner.analysis import likelihood


@pytest.mark.parametrize(("lr", "words"), [
    (1.0, "no support for either proposition"),
    (5.0, "weak support for neural-codec processing"),
    (50.0, "moderate support for neural-codec processing"),
    (500.0, "moderately strong support for neural-codec processing"),
    (5000.0, "strong support for neural-codec processing"),
    (50000.0, "very strong support for neural-codec processing"),
    (5e6, "extremely strong support for neural-codec processing"),
    (0.02, "moderate support for no neural-codec processing"),
    (0.6, "no support for either proposition"),
])
def test_enfsi_verbal_scale(lr: float, words: str) -> None:
    assert likelihood.verbal(lr) == words


def _scores(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Logits of the two classes: N(+2, 1) and N(-2, 1), so the true log LR is 4 z.
    z = np.concatenate([rng.normal(2, 1, n), rng.normal(-2, 1, n)])
    return 1 / (1 + np.exp(-z)), np.concatenate([np.ones(n), np.zeros(n)])


def test_calibration_recovers_a_known_likelihood_ratio() -> None:
    s, y = _scores(3000, 1)
    cal = likelihood.calibrate(s, y, n_bootstrap=50)
    assert cal.a == pytest.approx(4.0, rel=0.1) and abs(cal.b) < 0.2
    assert cal.lr(0.5) == pytest.approx(1.0, abs=0.25)
    lo, hi = cal.interval(0.7)
    assert lo <= cal.lr(0.7) <= hi and hi / lo < 2.0
    assert cal.score_for_lr(cal.lr(0.7)) == pytest.approx(0.7, abs=1e-6)


def test_lr_is_capped_by_the_calibration_set_size_and_round_trips() -> None:
    s, y = _scores(40, 2)
    cal = likelihood.calibrate(s, y, n_bootstrap=10)
    assert cal.cap == 40 and cal.lr(1 - 1e-9) == pytest.approx(40.0) and cal.lr(1e-9) == pytest.approx(1 / 40)
    again = likelihood.LrCalibration.from_dict(cal.to_dict())
    assert again.lr(0.8) == pytest.approx(cal.lr(0.8), rel=1e-4)


def test_decision_level_keeps_held_out_false_positives_at_one_percent() -> None:
    s, y = _scores(2000, 3)
    cal = likelihood.calibrate(s, y, n_bootstrap=5)
    level = likelihood.decision_level(cal, s[y == 0])
    assert level in likelihood.DECISION_LEVELS
    from examiner.analysis.error_rates import fpr_upper_bound

    k = int(sum(cal.lr(v) >= level for v in s[y == 0]))
    assert fpr_upper_bound(k, 2000) <= 0.01


def test_one_class_cannot_be_calibrated() -> None:
    with pytest.raises(ValueError, match="both classes"):
        likelihood.calibrate(np.array([0.2, 0.3]), np.array([0, 0]))


def test_report_quotes_the_likelihood_ratio_with_its_interval_and_verbal_scale() -> None:
    from examiner.findings.schema import load_record
    from examiner.report.builder import _likelihood_sentence

    def rec(**fields: object) -> object:
        return load_record("detection", {"verdict": "neural", "score": 0.9, "explanation": "", **fields})

    text = _likelihood_sentence(rec(lr=240.0, lr_interval_90=[150.0, 380.0], verbal_scale=likelihood.verbal(240.0)))
    assert text == ("Likelihood ratio 240 (90% bootstrap interval 150 to 380): moderately strong support "
                    "for neural-codec processing.")
    # Results recorded by a model without LR calibration have none to quote.
    assert _likelihood_sentence(rec(lr=None)) == ""
    # At the calibration's ceiling every bootstrap refit gives the same value: said as a limit.
    capped = _likelihood_sentence(rec(lr=552.0, lr_interval_90=[552.0, 552.0], verbal_scale="x"))
    assert "largest likelihood ratio the calibration data can support" in capped and "552 to 552" not in capped


def test_the_guideline_is_in_the_bundled_bibliography() -> None:
    from examiner.report.bibliography import bundled

    entry = bundled()[likelihood.CITATION]
    assert "Evaluative Reporting" in entry.fields["title"] and entry.fields["year"] == "2015"
