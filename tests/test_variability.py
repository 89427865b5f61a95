"""Seed-variability maps of the CDC decoder (reduced conformance checkpoint, few steps)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from examiner.analysis.variability import seed_list, seed_variability
from examiner.cli import main
from examiner.codecs.api import CodecFamily, CodecInfo, RunOptions
from examiner.codecs.generative import CdcCodec, HificCodec
from examiner.core.tasks import TaskContext
from examiner.errors import CodecError
from tests.conformance_data import conformance_dir


def _image() -> np.ndarray:
    """64 x 64 test scene made here: a smooth ramp beside fine random texture."""
    rng = np.random.default_rng(7)
    img = np.zeros((64, 64, 3), np.uint8)
    img[:, :32] = np.linspace(40, 200, 32, dtype=np.uint8)[None, :, None]
    img[:, 32:] = rng.integers(0, 256, size=(64, 32, 3), dtype=np.uint8)
    return img


def _codec() -> CdcCodec:
    return CdcCodec(CodecInfo("cdc-x", "CDC", CodecFamily.NEURAL, (1,), stochastic=True, extra={"variant": "x"}))


def _options(seed: int = 0) -> RunOptions:
    return RunOptions(device="cpu", weights=str(conformance_dir("cdc", "cdc_xparam_reduced.pt")), steps=2, seed=seed)


def test_map_is_nonzero_where_the_decoder_synthesises_and_seeds_reproduce() -> None:
    codec = _codec()
    result = seed_variability(codec, _image(), 1, _options(), seeds=3, ctx=TaskContext())
    assert result.std_map.shape == (64, 64)
    assert result.seeds == [0, 1, 2] and result.steps == 2
    assert result.std_map.max() > 1.0  # different seeds decode the same bitstream differently
    summary = result.summary()
    assert summary["invented_fraction"] + summary["stable_fraction"] == pytest.approx(1.0)
    assert len(set(result.decodes_sha256)) == 3
    # The same seed twice gives identical pixels.
    state = codec.compress(_image(), 1, _options())
    a, _ = codec.decode(state, 5, 2, 0.8, TaskContext())
    b, _ = codec.decode(state, 5, 2, 0.8, TaskContext())
    np.testing.assert_array_equal(a, b)
    grey = result.map_uint8()
    assert grey.dtype == np.uint8 and grey.max() == 255


def test_deterministic_codecs_and_too_few_seeds_are_refused() -> None:
    hific = HificCodec(CodecInfo("hific", "HiFiC", CodecFamily.NEURAL, (1,)))
    with pytest.raises(CodecError, match="deterministic"):
        seed_variability(hific, _image(), 1, RunOptions(), seeds=4)
    with pytest.raises(CodecError):
        seed_list(1)
    with pytest.raises(CodecError):
        seed_list([3, 3])


def test_cli_writes_the_map_and_json(tmp_path, capsys) -> None:  # noqa: ANN001
    src = tmp_path / "scene.png"
    Image.fromarray(_image()).save(src)
    before = src.read_bytes()
    out = tmp_path / "map.png"
    ckpt = conformance_dir("cdc", "cdc_xparam_reduced.pt")
    code = main(["variability", str(src), "--codec", "cdc-x", "--weights", str(ckpt), "--seeds", "2",
                 "--steps", "1", "--device", "cpu", "--out", str(out), "--json"])
    assert code == 0
    record = json.loads(capsys.readouterr().out)
    assert record["seeds"] == [0, 1] and record["steps"] == 1
    assert record["params"]["weights_sha256"].startswith("8172c3a1")
    assert np.array(Image.open(out)).shape == (64, 64)
    assert src.read_bytes() == before  # the evidence is never modified
    from examiner.core.xmp import read_xmp

    stated = read_xmp(out.read_bytes(), "png")
    assert stated is not None and stated["neural_codec"]["Kind"] == "seed-variability map"
    assert stated["neural_codec"]["WeightsSha256"].startswith("8172c3a1")
    assert "Iptc4xmpExt:DigitalSourceType" not in stated["fields"]  # a measurement, not a picture
