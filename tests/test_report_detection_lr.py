"""The report's detection section quotes the likelihood ratio, its verbal equivalent and the
real-data rates (camera makes and codec families left out) of the model that produced it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from detection_images import decoder_output
from pypdf import PdfReader
from report_cases import make_case

from examiner.analysis import detector
from examiner.core.case import Case
from examiner.report.export import build_model, export_report


def test_detection_section_quotes_lr_verbal_scale_and_real_data_rates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMINER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("EXAMINER_DATA_DIR", str(tmp_path / "data"))
    det = detector.detect_pixels(decoder_output(384, 384, seed=1)).to_dict()
    case_path = make_case(tmp_path / "c", n_regions=1, with_findings=False)
    with Case.open(case_path) as case:
        case.add_finding(case.evidence()[0].id, "detection", det)
        model = build_model(case)
        out = tmp_path / "r.pdf"
        export_report(case, out)
    block = model.detections[0]
    assert block.likelihood.startswith(f"Likelihood ratio {det['lr']:.3g} (90% bootstrap interval")
    assert det["verbal_scale"] in block.likelihood
    assert "enfsi2015guideline" in [k for _, k, _ in model.bibliography]
    rows = dict(block.error_rates)
    assert any("camera photos of left-out makes" in k for k in rows), rows
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(out.read_bytes())).pages))
    assert "Likelihood ratio" in text and "support for neural-codec processing" in text
    assert "camera photos of left-out makes" in text.lower()
    assert "ENFSI Guideline for Evaluative Reporting in Forensic Science" in text
