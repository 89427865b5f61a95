"""Rate matching lands within one quality step of the best possible quality."""

from __future__ import annotations

import pytest
from codec_helpers import photo_like

from examiner.codecs import engine
from examiner.codecs.rate_match import match_rate
from examiner.codecs.registry import get_codec
from examiner.errors import CodecError


@pytest.fixture(scope="module")
def image():  # noqa: ANN201
    return photo_like(192, 256, seed=11)


@pytest.fixture(scope="module")
def brute_force(image):  # noqa: ANN001, ANN201
    return {q: engine.run("jpeg", image, q).bpp for q in range(1, 101)}


@pytest.mark.parametrize("target", [0.35, 0.8, 1.234, 2.0, 3.3, 6.0, 0.01, 40.0])
def test_jpeg_within_one_step_of_brute_force(image, brute_force, target: float) -> None:  # noqa: ANN001
    best_q = min(brute_force, key=lambda q: (abs(brute_force[q] - target), q))
    res = match_rate("jpeg", image, target)
    assert abs(res.quality - best_q) <= 1
    assert res.bpp == pytest.approx(brute_force[res.quality])
    # Within one step also in rate: no worse than the best's neighbours.
    neighbours = [brute_force[q] for q in (best_q - 1, best_q, best_q + 1) if q in brute_force]
    assert res.error <= max(abs(b - target) for b in neighbours) + 1e-12
    assert len(res.evaluations) <= 12  # bisection, not a sweep
    assert res.reconstruction is not None and res.reconstruction.quality == res.quality
    assert res.reconstruction.pixels.shape == image.shape


def test_webp_and_bad_targets(image) -> None:  # noqa: ANN001
    res = match_rate(get_codec("webp"), image, 1.0)
    assert res.codec_id == "webp" and 0 <= res.quality <= 100 and len(res.evaluations) <= 13
    with pytest.raises(CodecError, match="positive number"):
        match_rate("jpeg", image, 0.0)
