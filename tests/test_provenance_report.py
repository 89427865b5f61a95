"""The report shows what each evidence file states about its making, with the inference."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from c2pa_signing import make_signer, sign
from imagegen import pattern
from PIL import Image
from pypdf import PdfReader

from examiner.core.case import Case
from examiner.report.export import ReportOptions, build_model, export_report

pytest.importorskip("c2pa")


def test_report_shows_credentials_and_the_inference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMINER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("EXAMINER_DATA_DIR", str(tmp_path / "data"))
    buf = io.BytesIO()
    Image.fromarray(pattern(96, 128)).save(buf, "JPEG", quality=90)
    signed = tmp_path / "signed.jpg"
    signed.write_bytes(sign(buf.getvalue(), "image/jpeg", make_signer()))
    plain = tmp_path / "plain.png"
    Image.fromarray(pattern(96, 128, 2)).save(plain)
    case_path = tmp_path / "c.mcase"
    with Case.create(case_path, case_id="P-1", examiner="E", requester="R", lab="L", actor="E", title="T") as case:
        case.add_evidence(signed)
        case.add_evidence(plain)
    out = tmp_path / "r.pdf"
    with Case.open(case_path) as case:
        model = build_model(case, ReportOptions(reviewer="B"))
        export_report(case, out, ReportOptions(reviewer="B"))
    rows = [dict(ev.provenance) for ev in model.evidence]
    assert rows[0]["Content Credentials (C2PA)"] == "present; validation status: untrusted signer"
    assert "Suite Test Signer" in rows[0]["Signer"]
    assert rows[1]["Content Credentials (C2PA)"] == "none in the file"
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(out).pages))
    assert "What the file states about its making" in text
    assert "untrusted signer" in text and "trainedAlgorithmicMedia" in text
    assert "evidence of nothing by itself" in text
