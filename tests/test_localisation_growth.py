"""Hysteresis in the localisation map: weak windows join an area only next to a strong one."""

from __future__ import annotations

import numpy as np

from examiner.analysis import localise


def test_weak_windows_join_only_an_area_a_strong_window_started() -> None:
    scores = np.array([
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [0.0, 2.0, 1.2, 0.0, 1.2],
        [0.0, 1.2, 0.0, 0.0, 1.2],
        [0.0, 0.0, 0.0, 0.0, 0.0],
    ])
    flagged = localise.flag_windows(scores, threshold=1.5, growth=1.0)
    expected = np.zeros_like(scores, bool)
    expected[1, 1] = expected[1, 2] = expected[2, 1] = True
    # The right-hand pair reaches the growth level but touches no window at the threshold.
    assert (flagged == expected).all()


def test_no_strong_window_flags_nothing_and_growth_at_the_threshold_changes_nothing() -> None:
    scores = np.full((3, 4), 1.2)
    assert not localise.flag_windows(scores, threshold=1.5, growth=1.0).any()
    scores[0, 0] = 2.0
    assert localise.flag_windows(scores, threshold=1.5, growth=1.5).sum() == 1
    assert localise.flag_windows(scores, threshold=1.5, growth=1.0).all()


def test_the_growth_threshold_travels_with_the_model_file_and_defaults_to_none() -> None:
    model = localise.load_model()
    assert model.growth <= model.threshold
    again = localise.LocalModel.from_dict(model.to_dict())
    assert again.growth == model.growth
    old = model.to_dict()
    del old["grow_threshold"]
    assert localise.LocalModel.from_dict(old).growth == model.threshold
