"""``examiner suggest`` end to end on image files."""

from __future__ import annotations

import json
from pathlib import Path

import pytesseract
import pytest
from PIL import Image

from examiner.analysis import symbol_testset as ts
from examiner.analysis.symbols import tesseract_status
from examiner.cli import main
from examiner.core.case import Case


def _pair(tmp_path: Path) -> tuple[Path, Path]:
    scene = ts.plate_scene("KA 4711", 20, seed=1)
    evidence, _, _ = ts.alter(scene, "changed", index=6)
    ev, cp = tmp_path / "evidence.png", tmp_path / "original.png"
    Image.fromarray(evidence).save(ev)
    Image.fromarray(scene.image).save(cp)
    return ev, cp


@pytest.mark.skipif(not tesseract_status()[0], reason="needs the Tesseract engine")
def test_suggest_json_lists_the_changed_glyph(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ev, cp = _pair(tmp_path)
    before = ev.read_bytes()
    assert main(["suggest", str(ev), "--compare", str(cp), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [c["check"] for c in out["checks"]] == ["ocr", "objects"]
    (p,) = out["proposals"]
    for key in ("box", "check", "evidence_reading", "comparison_reading", "category", "symbol", "confidence"):
        assert key in p
    assert (p["evidence_reading"], p["comparison_reading"], p["category"], p["symbol"]) == ("7", "1", "shape", True)
    assert ev.read_bytes() == before


def test_suggest_without_tesseract_reports_ocr_unavailable_and_stores_in_a_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    ev, cp = _pair(tmp_path)
    with Case.create(tmp_path / "c.mcase", case_id="1", examiner="E") as case:
        case.add_evidence(ev)
    code = main(["suggest", str(ev), "--compare", str(cp), "--checks", "ocr,objects", "--case", str(tmp_path / "c.mcase")])
    text = capsys.readouterr().out
    assert code == 0
    assert "ocr: UNAVAILABLE" in text and "objects: ran" in text
    with Case.open(tmp_path / "c.mcase") as case:
        ocr, objects = case.findings(kind="symbols")
        assert (ocr.data["check"], ocr.data["available"]) == ("ocr", False)
        assert (objects.data["check"], objects.data["available"]) == ("objects", True)
        assert ocr.data["method_module"] == "examiner.analysis.symbols.ocr_diff"


def test_suggest_rejects_unknown_checks_and_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ev, cp = _pair(tmp_path)
    assert main(["suggest", str(ev), "--compare", str(cp), "--checks", "ocr,colour"]) == 2
    assert "unknown symbol check colour" in capsys.readouterr().err
    assert main(["suggest", str(tmp_path / "missing.png"), "--compare", str(cp)]) == 2
    assert "missing.png" in capsys.readouterr().err
