"""Comparison maps: pixel-exact, refuse different sizes, handle 8/16-bit and grey."""

from __future__ import annotations

import numpy as np
import pytest

from examiner.analysis import compare
from examiner.errors import ExaminerError


def _scene(h: int = 64, w: int = 80, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = (128 + 60 * np.sin(xx / 5.0) * np.cos(yy / 7.0)).astype(np.float64)
    img = np.stack([base, base * 0.8, 255 - base], axis=2) + rng.normal(0, 3, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def test_identical_images_give_zero_difference_and_unit_ssim() -> None:
    a = _scene()
    assert compare.abs_difference(a, a.copy()).max() == 0.0
    s = compare.ssim_map(a, a.copy())
    assert s.shape == a.shape[:2]
    assert np.allclose(s, 1.0, atol=1e-6)
    stats = compare.difference_stats(a, a.copy())
    assert stats["max_abs_diff"] == 0.0 and stats["psnr_db"] == float("inf")


def test_local_change_is_localised_in_both_maps() -> None:
    a = _scene()
    b = a.copy()
    b[20:30, 40:50] = 0  # a dark patch: the only change
    d = compare.abs_difference(a, b, gain=1.0)
    assert d[25, 45] > 0.2
    assert d[:15].max() == 0.0 and d[:, :30].max() == 0.0
    s = compare.ssim_map(a, b)
    assert s[25, 45] < 0.5
    assert s[5, 5] > 0.99
    # Exact pixel difference, in 8-bit units, maximum over channels.
    expected = np.abs(a[25, 45].astype(int)).max() / 255.0
    assert d[25, 45] == pytest.approx(expected, abs=1e-6)


def test_gain_scales_and_clips() -> None:
    a = _scene()
    b = a.copy()
    b[0, 0, 0] = a[0, 0, 0] ^ 8
    d1 = compare.abs_difference(a, b, 1.0)[0, 0]
    d4 = compare.abs_difference(a, b, 4.0)[0, 0]
    assert d4 == pytest.approx(4 * d1, rel=1e-5)
    assert compare.abs_difference(a, b, 1000.0).max() == 1.0


def test_different_sizes_are_refused_with_a_clear_message() -> None:
    a = _scene(64, 80)
    b = _scene(64, 81)
    with pytest.raises(ExaminerError, match=r"80x64.*81x64.*same width and height"):
        compare.abs_difference(a, b)
    with pytest.raises(ExaminerError, match="same width and height"):
        compare.ssim_map(a, b)


def test_sixteen_bit_and_grey_inputs() -> None:
    a8 = _scene()
    a16 = a8.astype(np.uint16) * 257
    assert compare.abs_difference(a8, a16).max() < 1e-6
    assert np.array_equal(compare.to_display_uint8(a16), a8)
    grey = a8[:, :, 0]
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    assert compare.abs_difference(grey, rgb).max() == 0.0


def test_colour_maps_and_display_luts() -> None:
    ramp = np.linspace(0, 1, 256, dtype=np.float32)[None, :]
    for name in compare.COLOR_MAPS:
        img = compare.apply_colormap(ramp, name)
        assert img.shape == (1, 256, 3) and img.dtype == np.uint8
    assert tuple(compare.apply_colormap(np.zeros((1, 1)), "heat")[0, 0]) == (0, 0, 0)
    with pytest.raises(ExaminerError):
        compare.color_lut("rainbow")
    low = (_scene() // 4 + 100).astype(np.uint8)  # a low-contrast image
    stretched = compare.display_adjust(low, "stretch")
    assert int(stretched.max()) - int(stretched.min()) > int(low.max()) - int(low.min())
    eq = compare.display_adjust(low, "equalize")
    assert eq.shape == low.shape and eq.dtype == np.uint8
    assert compare.display_lut(low, "none") is None
    # Display adjustment never changes the input array.
    before = low.copy()
    compare.display_adjust(low, "equalize")
    assert np.array_equal(before, low)


def test_strips_match_whole_image_computation(monkeypatch: pytest.MonkeyPatch) -> None:
    a = _scene(300, 40, seed=1)
    b = _scene(300, 40, seed=2)
    whole = compare.ssim_map(a, b)
    whole_diff = compare.abs_difference(a, b)
    monkeypatch.setattr(compare, "STRIP_PIXELS", 40 * 20)  # many strips of 20 rows
    assert np.allclose(compare.ssim_map(a, b), whole, atol=1e-6)
    assert np.array_equal(compare.abs_difference(a, b), whole_diff)
