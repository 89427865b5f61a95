"""One acting person, one verbal scale, each thing said once, and the examiner's own words:
a case made with --examiner and worked on without --actor, read back from the PDF."""

from __future__ import annotations

import getpass
import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from report_cases import png_bytes, scene

from examiner.cli import main
from examiner.core.case import Case
from examiner.errors import ExaminerError
from examiner.report.model import CONCLUSION_LEVELS, CONCLUSION_SCALE
from examiner.report.report_text import report_text, set_report_text


def pdf_text(path: Path) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in PdfReader(str(path)).pages))


def run(*args: object) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def worked_case(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("words")
    ev, ref = tmp / "evidence.png", tmp / "original.png"
    ev.write_bytes(png_bytes(scene("KA 4821", width=384, height=256)))
    ref.write_bytes(png_bytes(scene("KA 4871", width=384, height=256)))
    case = tmp / "c.mcase"
    assert run("case", "create", case, "--case-id", "T-1", "--examiner", "Dr A", "--evidence", ev, "--reference", ref) == 0
    assert run("case", "add-region", case, "--evidence", 1, "--rect", "20,20,60,40", "--category", "shape",
               "--evidence-says", "2", "--comparison-says", "7", "--comparison", "reference") == 0  # fmt: skip
    assert run("detect", "--case", case, ev) == 0
    assert run("detect", "--case", case, ev) == 0
    assert run("report", case, "--summary", "The plate reads 4821 here.", "--conclusion", "moderate support for the proposition",
               "--conclusion-text", "The digits differ.", "--limitations", "Only one image was received.") == 0  # fmt: skip
    out = tmp / "r.pdf"
    assert run("report", case, "--out", out) == 0
    return {"case": case, "pdf": out, "text": pdf_text(out)}


def test_every_place_names_the_case_examiner_never_the_login(worked_case: dict) -> None:
    text = worked_case["text"]
    login = getpass.getuser()
    assert "drawn by hand; by Dr A" in text
    assert "Level stated by Dr A." in text
    assert "Dr A created case T-1" in text and "Dr A marked region R1" in text and "Dr A set the report's conclusion" in text
    if login != "Dr A":
        for credit in (f"by {login}", f"{login} created", f"{login} marked", f"{login} recorded", f"{login} set",
                       f"{login} took"):  # fmt: skip
            assert credit not in text


def test_the_login_is_kept_as_a_fact_in_the_raw_log(worked_case: dict, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert run("case", "log", worked_case["case"], "--json") == 0
    entries = json.loads(capsys.readouterr().out)["entries"]
    written = [e for e in entries if e["action"] != "case.created"]
    assert {e["actor"] for e in entries} == {"Dr A"}
    assert written and all(e["params"]["login"] == getpass.getuser() for e in written)


def test_detection_run_twice_is_shown_once(worked_case: dict) -> None:
    text = worked_case["text"]
    assert text.count("E1: detection result") == 1
    assert "The latest of 2 runs" in text and "Earlier detection runs" in text
    # Features went to the appendix, with what they mean.
    assert "Measured features" in text and "periodic peak" in text


def test_the_examiners_words_and_the_enfsi_scale_are_in_the_pdf(worked_case: dict) -> None:
    text = worked_case["text"]
    assert "Examiner's summary: The plate reads 4821 here." in text
    assert "Conclusion: Moderate support for the proposition" in text and "The digits differ." in text
    assert "Only one image was received." in text
    for level, _ in CONCLUSION_SCALE:
        assert level in text
    assert "Audit chain and case content verified" in text and '{"' not in text  # sentences, not raw JSON


def test_the_scale_speaks_detections_words() -> None:
    from examiner.analysis.likelihood import VERBAL_SCALE

    for _, words in VERBAL_SCALE[1:]:
        assert f"{words.capitalize()} for the proposition" in CONCLUSION_LEVELS
        assert f"{words.capitalize()} for the alternative" in CONCLUSION_LEVELS
    assert "No support for either proposition" in CONCLUSION_LEVELS and len(CONCLUSION_LEVELS) == 13


def test_a_conclusion_on_the_earlier_scale_is_shown_and_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ev = tmp_path / "e.png"
    ev.write_bytes(png_bytes(scene("AB 12")))
    with Case.create(tmp_path / "old.mcase", "OLD-1", "Dr B") as case:
        case.add_evidence(ev)
        case.set_meta("report.conclusion", {"level": "Moderate support", "text": "Old words.", "by": "Dr B"})
    out = tmp_path / "old.pdf"
    assert run("report", tmp_path / "old.mcase", "--out", out) == 0
    text = pdf_text(out)
    assert "Moderate support" in text and "NOT ON THIS REPORT'S SCALE" in text and "earlier scale" in text
    # New wording under the old level would read as re-stated: refused, with the levels listed.
    assert run("report", tmp_path / "old.mcase", "--conclusion-text", "New words.") == 2
    assert "Weak support for the proposition" in capsys.readouterr().err


def test_set_report_text_records_changes_once_and_credits_the_actor(tmp_path: Path) -> None:
    ev = tmp_path / "e.png"
    ev.write_bytes(png_bytes(scene("CD 34")))
    with Case.create(tmp_path / "t.mcase", "T-2", "Dr A") as case:
        case.add_evidence(ev)
        n = len(case.audit.entries())
        changed = set_report_text(case, summary="S", conclusion_level="weak support for the alternative",
                                  conclusion_text="W", limitations=["L1", " ", "L2"], actor="Dr C")  # fmt: skip
        assert changed == ["report.summary", "report.conclusion", "report.limitations"]
        entries = case.audit.entries()[n:]
        assert [e.actor for e in entries] == ["Dr C"] * 3 and all(e.action == "meta.set" for e in entries)
        assert set_report_text(case, summary="S", conclusion_level="Weak support for the alternative", conclusion_text="W") == []
        now = report_text(case)
        assert now.conclusion_level == "Weak support for the alternative" and now.conclusion_by == "Dr C"
        assert now.limitations == ["L1", "L2"]
        assert set_report_text(case, conclusion_text="Wording only") == ["report.conclusion"]
        assert report_text(case).conclusion_level == "Weak support for the alternative"
        with pytest.raises(ExaminerError, match="use one of"):
            set_report_text(case, conclusion_level="Strong support")
        assert set_report_text(case, conclusion_level="") == ["report.conclusion"]
        with pytest.raises(ExaminerError, match="needs its level"):
            set_report_text(case, conclusion_text="no level")


def test_unknown_comparison_is_refused_when_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ev = tmp_path / "e.png"
    ev.write_bytes(png_bytes(scene("EF 56")))
    case = tmp_path / "c.mcase"
    assert run("case", "create", case, "--case-id", "T-3", "--examiner", "Dr A", "--evidence", ev) == 0
    capsys.readouterr()
    args = ["case", "add-region", case, "--evidence", 1, "--rect", "5,5,20,20", "--category", "shape",
            "--evidence-says", "a", "--comparison-says", "b"]  # fmt: skip
    assert run(*args, "--comparison", "nonsense") == 2
    err = capsys.readouterr().err
    assert "no comparison 'nonsense'" in err and "no reference original" in err
    assert run(*args, "--comparison", "reference") == 2  # the item has no reference original
    assert run(*args) == 0  # no comparison at all is allowed
    with pytest.raises(SystemExit):
        run("case", "add-region", "--help")
    assert "finding:ID" in capsys.readouterr().out


def test_case_set_records_the_same_texts_as_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ev = tmp_path / "e.png"
    ev.write_bytes(png_bytes(scene("GH 78")))
    case = tmp_path / "c.mcase"
    assert run("case", "create", case, "--case-id", "T-4", "--examiner", "Dr A", "--evidence", ev) == 0
    capsys.readouterr()
    assert run("case", "set", case, "--summary", "Set here.", "--conclusion", "No support for either proposition",
               "--actor", "Dr D", "--json") == 0  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert data["changed"] == ["report.summary", "report.conclusion"] and data["summary"] == "Set here."
    with Case.open(case, record=False, read_only=True) as c:
        now = report_text(c)
        last = c.audit.entries()[-1]
    assert now.summary == "Set here." and now.conclusion_level == "No support for either proposition"
    assert now.conclusion_by == "Dr D" and last.actor == "Dr D"
    assert run("case", "set", case) == 2
