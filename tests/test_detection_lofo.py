"""Leave-one-family-out validation on a tiny synthetic data folder, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from detection_images import decoder_output, jpeg_bytes, natural, png_bytes

from examiner.analysis import lofo
from examiner.cli import main


def _data(tmp_path: Path) -> Path:
    """Two positive families (decoders with two and with three up-sampling layers), three
    negative groups (lossless, JPEG q85, another lossless), eight sources of about 200x200 pixels."""
    root = tmp_path / "data"
    images = root / "images"
    manifest: dict[str, dict[str, object]] = {}

    def put(rel: str, data: bytes, label: int, family: str, source: str) -> None:
        p = images / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        manifest[rel] = {"label": label, "family": family, "variant": "v", "source": source, "bpp": None}

    for i in range(8):
        src = f"kodim{3 * i + 1:02d}"  # one source per Kodak fold pair: every fold gets two
        nat = natural(192, 192, seed=100 + i)
        put(f"negatives/original/{src}.png", png_bytes(nat), 0, "original", src)
        put(f"negatives/jpeg/{src}.jpg", jpeg_bytes(nat, 85), 0, "jpeg", src)
        put(f"negatives/resized/{src}.png", png_bytes(natural(256, 256, seed=400 + i)[::-1][:200, :200]), 0, "resized", src)
        put(f"positives/dec2/{src}.png", png_bytes(decoder_output(192, 192, seed=200 + i, layers=2)), 1, "dec2", src)
        put(f"positives/dec3/{src}.png", png_bytes(decoder_output(384, 384, seed=300 + i, layers=3)[96:288, 96:288]), 1, "dec3", src)
    (images / "manifest-test.json").write_text(json.dumps(manifest))
    return root


def test_source_folds_keep_kodak_images_together() -> None:
    assert [lofo.source_fold(f"kodim{i:02d}") for i in (1, 6, 7, 12, 13, 24)] == [0, 0, 1, 1, 2, 3]
    assert lofo.source_fold("jpegai-00100001") == lofo.source_fold("jpegai-00100001")


def test_lofo_cli_reports_every_family_and_group_and_writes_a_model(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    root = _data(tmp_path)
    out = tmp_path / "model.json"
    assert main(["evaluate-detector", "--lofo", str(root), "--calibrate", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    report = result["leave_one_family_out"]
    assert set(report["families_left_out"]) == {"dec2", "dec3"}
    assert set(report["negative_groups_left_out"]) == {"original", "jpeg", "resized"}
    for row in report["negative_groups_left_out"].values():
        assert row["n"] == 8 and 0.0 <= row["false_positive_rate"] <= row["fpr_upper_95"] <= 1.0
    for row in report["families_left_out"].values():
        assert row["n"] == 8 and 0.0 <= row["balanced_accuracy"] <= 1.0
    # The features are cached: a second run computes none of them again.
    assert (root / "features.json").is_file()
    from examiner.analysis.detector import load_model

    model = load_model(out)
    assert model.lr_calibration is not None and model.lr_neural in (10.0, 100.0, 1000.0, 10000.0)
    assert model.measured["leave_one_family_out"]["n_positives"] == 16
    s = model.score({"y_p4_diag": 6.0, "y_p2_diag": 6.0, "y_coh4_diag": 6.0})
    assert np.isfinite(model.likelihood_ratio(s, {}))
