"""The examination steps shared by the CLI and the window, and the typed findings they record."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from examiner.cli import main
from examiner.core.case import Case
from examiner.core.hashes import artefact_sha256, pixels_sha256
from examiner.core.png import encode_png
from examiner.errors import CaseError
from examiner.findings import artefacts as names
from examiner.findings.records import DetectionRecord, RecompressionRecord, VariabilityRecord
from examiner.findings.schema import add_record, load_record, typed_findings
from examiner.report.builder import build_report_model
from examiner.report.model import model_as_dict
from examiner.workflows.variability import VariabilityOutcome, record_variability
from tests.gui_fixtures import make_case


def _findings_sections(case_path: Path) -> dict[str, object]:
    """What the report says of the findings, without anything that depends on when they ran."""
    with Case.open(case_path, read_only=True, record=False) as case:
        model = model_as_dict(build_report_model(case))  # figures by their hashes
    return {
        "detections": model["detections"],
        "recompressions": model["recompressions"],
        "other": model["other_results"],
        "manifest": sorted(tuple(m.values()) for m in model["manifest"] if m["role"] == "stored artefact"),
    }


def test_cli_steps_record_findings_in_the_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_path = make_case(tmp_path / "c")
    image = tmp_path / "c" / "evidence.png"
    assert main(["detect", str(image), "--case", str(case_path), "--json"]) == 0
    (det,) = json.loads(capsys.readouterr().out)
    assert det["verdict"] in ("neural", "not-neural", "inconclusive") and det["finding_id"] == 1
    out = tmp_path / "out.png"
    assert main(["recompress", str(image), "--codec", "jpeg", "--quality", "40", "--out", str(out),
                 "--case", str(case_path), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    # One encoder: the --out file is the stored artefact plus its provenance statement (XMP), so
    # the bytes differ and the pixels do not.
    assert rec["file_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() != rec["artefact_sha256"]
    with Case.open(case_path, read_only=True, record=False) as case:
        stored = case.get_artefact(rec["artefact_sha256"])
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(io.BytesIO(stored))))
    # Without --out the run is only recorded.
    assert main(["recompress", str(image), "--codec", "webp", "--quality", "30", "--case", str(case_path)]) == 0
    with Case.open(case_path, read_only=True, record=False) as case:
        found = typed_findings(case)
        assert [f.kind for f in found] == ["detection", "recompression", "recompression"]
        jpeg = found[1]
        assert isinstance(jpeg.record, RecompressionRecord) and jpeg.record.codec == "jpeg"
        blob = case.get_artefact(jpeg.artefacts[names.RECONSTRUCTION])
        assert artefact_sha256(blob) == rec["artefact_sha256"]
        from examiner.core.evidence import decode_bytes

        assert pixels_sha256(decode_bytes(blob, name="artefact")) == jpeg.record.pixels_sha256 == rec["pixels_sha256"]
        assert found[0].artefacts.keys() == {names.SPECTRUM, names.TILE_MAP}
        assert case.audit.verify().ok
        model = build_report_model(case)
    # Every artefact of every finding is in the report's manifest with its hash.
    listed = {m.sha256 for m in model.manifest if m.role == "stored artefact"}
    stored = {sha for f in found for sha in f.artefacts.values()}
    assert stored <= listed


def test_a_step_on_an_image_that_is_not_evidence_in_the_case_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_path = make_case(tmp_path / "c")
    other = tmp_path / "c" / "reference.png"  # in the folder, but not evidence
    assert main(["recompress", str(other), "--codec", "jpeg", "--quality", "40", "--case", str(case_path)]) != 0
    err = capsys.readouterr().err
    assert "is not evidence in this case" in err and "case add-evidence" in err and "Traceback" not in err
    assert main(["recompress", str(other), "--codec", "jpeg", "--quality", "40"]) != 0
    assert "give --out OUT.png, --case CASE, or both" in capsys.readouterr().err
    assert main(["recompress", str(other), "--codec", "jpeg", "--quality", "40", "--out", str(case_path),
                 "--case", str(case_path)]) != 0
    assert "refusing to write over the case file" in capsys.readouterr().err


def test_gui_records_the_same_findings_as_the_cli(tmp_path: Path) -> None:
    """The window's path (compute in a worker, record on the writer thread) and the CLI's --case
    give identical findings sections of the report. The window's two halves are called here as
    its jobs call them; tests/test_gui_examination.py drives the real window."""
    from examiner.codecs.api import RunOptions
    from examiner.core.tasks import silent
    from examiner.workflows import detect as detect_wf
    from examiner.workflows import recompress as recompress_wf

    cli_case = make_case(tmp_path / "cli")
    gui_dir = tmp_path / "gui"
    shutil.copytree(tmp_path / "cli", gui_dir)
    gui_case = gui_dir / "case.mcase"
    # The copy's evidence lives in the CLI folder: the same file, so the same labels and hashes.
    image = tmp_path / "cli" / "evidence.png"
    assert main(["detect", str(image), "--case", str(cli_case)]) == 0
    assert main(["recompress", str(image), "--codec", "jpeg", "--quality", "35", "--case", str(cli_case),
                 "--device", "cpu"]) == 0
    with Case.open(gui_case) as case:
        item = case.evidence()[0]
        pixels = case.load_evidence(item.id).pixels
        detect_wf.record_detection(case, item.id, detect_wf.compute_detection(silent(), pixels, item.path))
        out = recompress_wf.compute_recompression(silent(), pixels, "jpeg", 35, None, RunOptions(device="cpu"))
        recompress_wf.record_recompression(case, item.id, out)
    assert _findings_sections(cli_case) == _findings_sections(gui_case)


def test_every_codec_finding_shows_its_artefacts_in_the_report(tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "c")
    map8 = np.zeros((128, 192), np.uint8)
    map8[10:40, 10:60] = 200
    png = encode_png(map8)
    with Case.open(case_path) as case:
        eid = case.evidence()[0].id
        record_variability(case, eid, VariabilityOutcome(VariabilityRecord(codec="cdc-x", quality=1, seeds=[0, 1]), map8, png))
        # A run recorded with only its bitstream (as the demo case records how its evidence was made).
        add_record(case, eid, RecompressionRecord(codec="jpeg", quality=50, bpp=1.0), {names.BITSTREAM: b"\xff\xd8"})
        model = build_report_model(case)
    by_codec = {r.codec_id: r for r in model.recompressions}
    assert by_codec["cdc-x"].artefacts == [(names.VARIABILITY_MAP, artefact_sha256(png))]
    assert by_codec["cdc-x"].thumbnail is not None
    assert by_codec["jpeg"].artefacts == [(names.BITSTREAM, hashlib.sha256(b"\xff\xd8").hexdigest())]
    listed = {m.sha256 for m in model.manifest if m.role == "stored artefact"}
    assert artefact_sha256(png) in listed and hashlib.sha256(b"\xff\xd8").hexdigest() in listed


def test_records_round_trip_and_keep_keys_they_do_not_know() -> None:
    rec = DetectionRecord(verdict="neural", score=0.9, explanation="x", lr=120.0, extra={"texture_v4": [1, 2]})
    payload = rec.to_payload()
    assert payload["schema"] == DetectionRecord.SCHEMA and payload["lr"] == 120.0 and payload["texture_v4"] == [1, 2]
    assert load_record("detection", payload) == rec


def test_older_detection_records_are_read_as_the_report_expects() -> None:
    rec = load_record("detection", {"score": 1, "explanation": ["Peaks at period 8.", "Coherent."]})
    assert isinstance(rec, DetectionRecord)
    assert rec.verdict == "not recorded" and rec.score == 1.0 and rec.explanation == "Peaks at period 8. Coherent."
    assert rec.lr is None  # recorded before likelihood ratios: the report says nothing of one


def test_version_1_records_are_migrated_on_read() -> None:
    old = {"codec": "jpeg", "quality": 40, "bpp": 1.2, "output_sha256": "ab" * 32, "device": "cpu"}
    rec = load_record("recompression", old)
    assert isinstance(rec, RecompressionRecord)
    assert rec.pixels_sha256 == "ab" * 32 and "output_sha256" not in rec.to_payload()


def test_newer_and_malformed_records_are_refused_by_name() -> None:
    with pytest.raises(CaseError, match="schema 99, newer than this build reads"):
        load_record("detection", {"schema": 99, "verdict": "neural", "score": 1.0, "explanation": ""})
    with pytest.raises(CaseError, match="field 'quality' holds str"):
        load_record("recompression", {"schema": 2, "codec": "jpeg", "quality": "high"})
    with pytest.raises(CaseError, match="missing field"):
        load_record("detection", {"schema": 2, "score": 1.0})
    assert load_record("note", {"text": "free"}).extra == {"text": "free"}


def test_detect_on_a_folder_says_how_many_files_it_passed_over(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    from examiner.core.formats import EVIDENCE_SUFFIXES

    folder = tmp_path / "seized"
    folder.mkdir()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (160, 160, 3), dtype=np.uint8)).save(folder / "a.png")
    Image.new("RGB", (64, 64)).save(folder / "b.gif")
    (folder / "notes.txt").write_text("x")
    assert ".gif" not in EVIDENCE_SUFFIXES  # intake refuses GIF, so a walk must not offer it
    assert main(["detect", str(folder), "--json"]) == 0
    captured = capsys.readouterr()
    assert [Path(r["path"]).name for r in json.loads(captured.out)] == ["a.png"]
    assert "2 file(s) in the folders are not of an evidence format" in captured.err


def test_other_analyses_are_read_as_typed_records(tmp_path: Path) -> None:
    from examiner.findings.records import ScreeningRecord, SymbolCheckRecord

    case_path = make_case(tmp_path / "c")
    with Case.open(case_path) as case:
        eid = case.evidence()[0].id
        add_record(case, eid, ScreeningRecord(results_file="/x/r.mscreen", row=3, outcome="result", verdict="neural"))
        add_record(case, eid, SymbolCheckRecord(check="ocr", available=False, message="tesseract is not installed"))
        model = build_report_model(case)
    screening, symbols = model.other_results
    assert ("row", "3") in screening.rows and ("verdict", "neural") in screening.rows
    assert ("Could run", "no \u2013 tesseract is not installed") in symbols.rows
    assert not any(name == "schema" for block in (screening, symbols) for name, _ in block.rows)
