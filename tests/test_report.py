"""The court report: contents, page furniture, determinism, integrity, safety, CLI."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from report_cases import HOSTILE, make_case

from examiner.cli import main
from examiner.core.case import Case
from examiner.errors import ExaminerError, ToolMissingError
from examiner.report import export as export_mod
from examiner.report.export import ReportOptions, build_model, export_report, render_preview_pages
from examiner.report.pdf import SECTIONS

BASE14 = {
    "Courier", "Courier-Bold", "Courier-Oblique", "Courier-BoldOblique", "Helvetica", "Helvetica-Bold",
    "Helvetica-Oblique", "Helvetica-BoldOblique", "Times-Roman", "Times-Bold", "Times-Italic",
    "Times-BoldItalic", "Symbol", "ZapfDingbats",
}  # fmt: skip


def pypdf_pages(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def pdftotext(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True).stdout.decode()


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def body(text: str) -> str:
    """The text after the title page's list of contents."""
    last = f"{len(SECTIONS)} {SECTIONS[-1]}"
    return text[text.index(last) + len(last) :]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """One case with findings and regions, exported once; shared by the read-only checks."""
    base = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXAMINER_CONFIG_DIR", str(base / "config"))
        mp.setenv("EXAMINER_DATA_DIR", str(base / "data"))
        case_path = make_case(base / "case", n_regions=3)
        out = base / "report.pdf"
        with Case.open(case_path) as case:
            result = export_report(case, out, ReportOptions(reviewer="B. Reviewer"))
            items = case.evidence()
            entries = case.audit.entries()
        yield {"case": case_path, "out": out, "result": result, "items": items, "entries": entries, "base": base}


def test_every_section_hash_and_page_furniture_is_in_the_text(exported: dict) -> None:
    out: Path = exported["out"]
    result = exported["result"]
    pdf = out.read_bytes()
    pages = pypdf_pages(pdf)
    n = len(pages)
    assert n == result.pages and n > 3
    whole = flat(" ".join(pages))
    for i, text in enumerate(pages, start=1):
        t = flat(text)
        assert f"Page {i} of {n}" in t
        assert "Reproduce only in full" in t
        assert result.report_id in t
    for heading in SECTIONS:
        assert heading in whole, heading
    item = exported["items"][0]
    for digest in (item.sha256, item.md5, item.reference_sha256):
        assert digest in whole
    assert f"End of report {result.report_id}" in flat(pages[-1])
    layout = flat(pdftotext(out))
    for heading in SECTIONS:
        assert heading in layout
    assert item.sha256 in layout and item.md5 in layout
    for i in range(1, n + 1):
        assert f"Page {i} of {n}" in layout
    assert "Moderate support" in layout and "B. Reviewer" in layout and "Dr. A. Examiner" in layout


def test_sections_come_in_the_order_of_the_issue(exported: dict) -> None:
    text = body(flat(" ".join(pypdf_pages(exported["out"].read_bytes()))))
    positions = [text.index(f"{i} {h}") for i, h in enumerate(SECTIONS, start=1)]
    assert positions == sorted(positions)


def test_export_is_recorded_in_the_audit_log(exported: dict) -> None:
    last = exported["entries"][-1]
    assert last.action == "report.exported"
    assert last.params["sha256"] == hashlib.sha256(exported["out"].read_bytes()).hexdigest()
    assert last.params["pages"] == exported["result"].pages
    assert any(e.action == "report.integrity_checked" and e.params["ok"] for e in exported["entries"])


def test_fonts_are_embedded_truetype_and_no_base14_font_is_referenced(exported: dict) -> None:
    reader = PdfReader(io.BytesIO(exported["out"].read_bytes()))
    seen = set()
    for page in reader.pages:
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            base = str(font["/BaseFont"]).lstrip("/")
            seen.add(base)
            assert base.split("+")[-1] not in BASE14
            assert font["/Subtype"] == "/TrueType"
            assert "/FontFile2" in font["/FontDescriptor"].get_object()
    assert any("DejaVuSans" in s for s in seen)
    if shutil.which("pdffonts"):
        listing = subprocess.run(["pdffonts", str(exported["out"])], capture_output=True, check=True).stdout.decode()
        rows = listing.splitlines()[2:]
        assert rows and all(" yes " in r for r in rows), listing


def test_creation_date_comes_from_the_case_not_the_clock(exported: dict) -> None:
    reader = PdfReader(io.BytesIO(exported["out"].read_bytes()))
    created = str(reader.metadata["/CreationDate"])
    with Case.open(exported["case"], read_only=True) as case:
        model = build_model(case, ReportOptions(reviewer="B. Reviewer"))
    stamp = model.issued.replace("-", "").replace(" ", "").replace(":", "")[:12]
    assert created.startswith("D:" + stamp), (created, model.issued)


def test_bibliography_lists_exactly_the_works_cited_in_the_text(exported: dict) -> None:
    with Case.open(exported["case"], read_only=True) as case:
        model = build_model(case, ReportOptions(reviewer="B. Reviewer"))
    keys = [k for _, k, _ in model.bibliography]
    assert "hofer2024taxonomy" in keys and "wallace1991jpeg" in keys and "bergmann2023frequency" in keys
    assert "cohen1960kappa" not in keys and "fleiss1971kappa" not in keys  # nothing here uses them
    text = flat(" ".join(pypdf_pages(exported["out"].read_bytes())))
    main_text = body(text)
    main_text = main_text[: main_text.index("11 Bibliography")]
    cited: set[int] = set()
    for group in re.findall(r"\[(\d+(?:[\u2013,] ?\d+)*)\]", main_text):
        for part in group.split(","):
            a, _, b = part.strip().partition("\u2013")
            cited.update(range(int(a), int(b or a) + 1))
    assert cited == set(range(1, len(keys) + 1))
    # Numbered in order of first citation: the summary cites the taxonomy first.
    assert keys[0] == "hofer2024taxonomy"


def test_two_exports_are_byte_identical_and_a_changed_note_changes_the_hash(tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "c", n_regions=2)
    with Case.open(case_path) as case:
        first = export_report(case, tmp_path / "a.pdf")
    # Opening the case again and exporting again observes the case without changing it.
    with Case.open(case_path) as case:
        second = export_report(case, tmp_path / "b.pdf")
        assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
        assert first.sha256 == second.sha256 and first.report_id == second.report_id
        region = case.regions()[0]
        region.notes += " Checked again."
        case.update_region(region)
        third = export_report(case, tmp_path / "c.pdf")
    assert third.sha256 != first.sha256
    assert third.report_id != first.report_id


def test_hostile_text_renders_literally(tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "h", n_regions=2, hostile=True)
    with Case.open(case_path) as case:
        region = case.regions()[0]
        region.notes = HOSTILE + "\n<br/>line two <font size=60>" + "x" * 9000
        case.update_region(region)
        case.update_details(requester="<a href='x'>link</a> <unclosed", title="&amp; <b>")
        item = case.evidence()[0]
        # A finding whose text is huge: file-derived text is cut with a statement of its length.
        case.add_finding(item.id, "detection", {"verdict": "inconclusive", "score": 0.5, "explanation": "<" * 20000})
        result = export_report(case, tmp_path / "h.pdf", ReportOptions(reviewer="<i>R</i>"))
    text = flat(pdftotext(tmp_path / "h.pdf"))
    assert "<font size=60>BIG</font>" in text
    assert "an unclosed <" in text
    assert "\\x00 NUL" in text  # the NUL byte is shown, not passed through
    assert "plate <font size=60>.png" in text
    assert "<a href='x'>link</a> <unclosed" in text
    assert "&amp; <b>" in text and "<i>R</i>" in text
    assert "<br/>line two" in text
    assert "characters in total]" in text
    assert "x" * 200 in text.replace(" ", "")  # a long unbroken word wraps instead of failing
    assert result.pages < 40


def test_integrity_problem_is_stated_and_the_cli_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_path = make_case(tmp_path / "m", n_regions=1)
    with Case.open(case_path, read_only=True) as case:
        evidence = Path(case.evidence()[0].path)
    # Our own generated file, changed after intake to simulate tampering.
    evidence.write_bytes(evidence.read_bytes() + b"tampered")
    code = main(["report", str(case_path), "--out", str(tmp_path / "m.pdf"), "--json"])
    assert code == 3
    data = json.loads(capsys.readouterr().out)
    assert data["integrity_ok"] is False
    text = flat(pdftotext(tmp_path / "m.pdf"))
    assert "MISMATCH" in text and "INTEGRITY PROBLEM" in text
    evidence.unlink()
    code = main(["report", str(case_path), "--out", str(tmp_path / "n.pdf")])
    assert code == 3
    assert "MISSING OR UNREADABLE" in flat(pdftotext(tmp_path / "n.pdf"))


def test_cli_prints_hash_and_page_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_path = make_case(tmp_path / "cli", n_regions=1)
    out = tmp_path / "r.pdf"
    code = main([
        "report", str(case_path), "--out", str(out), "--reviewer", "B. Reviewer", "--amends", "MER-000000000001",
        "--conclusion", "weak SUPPORT for the  proposition", "--conclusion-text", "Some support.", "--json",
    ])  # fmt: skip
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert data["pages"] == len(PdfReader(str(out)).pages)
    text = flat(pdftotext(out))
    assert "AMENDED REPORT: supersedes report MER-000000000001" in text
    assert "Conclusion: Weak support for the proposition" in text
    # Stating the same conclusion again does not change the case, so the report is the same.
    again = tmp_path / "again.pdf"
    assert main([
        "report", str(case_path), "--out", str(again), "--reviewer", "B. Reviewer", "--amends", "MER-000000000001",
        "--conclusion", "Weak support for the proposition", "--conclusion-text", "Some support.",
    ]) == 0  # fmt: skip
    capsys.readouterr()
    assert again.read_bytes() == out.read_bytes()
    code = main(["report", str(case_path), "--out", str(out), "--report-id", "LAB-2026-7"])
    assert code == 0
    assert f"SHA-256 {hashlib.sha256(out.read_bytes()).hexdigest()}" in capsys.readouterr().out
    assert "Report LAB-2026-7" in flat(pdftotext(out))


def test_export_refuses_to_overwrite_evidence_or_the_case(tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "p", n_regions=0, with_findings=False)
    with Case.open(case_path) as case:
        evidence = Path(case.evidence()[0].path)
        before = evidence.read_bytes()
        for target in (evidence, case_path):
            with pytest.raises(ExaminerError, match="refusing to overwrite"):
                export_report(case, target)
        with pytest.raises(ExaminerError, match="does not exist"):
            export_report(case, tmp_path / "nowhere" / "r.pdf")
    assert evidence.read_bytes() == before


def test_case_without_findings_or_regions_still_reports(tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "e", n_regions=0, with_findings=False)
    with Case.open(case_path) as case:
        case.set_meta("report.conclusion", None)
        result = export_report(case, tmp_path / "e.pdf")
    text = flat(pdftotext(tmp_path / "e.pdf"))
    assert "No region is marked" in text and "No detection analysis is recorded" in text
    assert "not stated" in text
    assert result.pages >= 3


def test_demonstration_codecs_are_labelled(tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "d", n_regions=1, with_findings=False)
    with Case.open(case_path) as case:
        item = case.evidence()[0]
        case.add_finding(item.id, "recompression", {"codec": "no-such-demo", "quality": 1, "bpp": 0.1, "demonstration": True})
        export_report(case, tmp_path / "d.pdf")
    text = flat(pdftotext(tmp_path / "d.pdf"))
    assert "DEMONSTRATION CODEC" in text
    assert "demonstration codec" in text.lower().split("limitations and scope")[-1]


def test_region_without_comparison_shows_the_evidence_crop_and_says_why(tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "r", n_regions=1, with_findings=False)
    with Case.open(case_path) as case:
        region = case.regions()[0]
        region.comparison = ""
        case.update_region(region)
        model = build_model(case)
    block = model.regions[0]
    assert len(block.crops) == 1
    assert any("no comparison image" in p for p in block.problems)
    assert {m.role for m in model.manifest} >= {"evidence file", "reference original", "figure"}
    # The overview of the whole image carries every region's box.
    assert len(model.overviews) == 1
    assert model.overviews[0].boxes == [(model.regions[0].number, model.regions[0].box)]


def test_preview_pages_are_png(exported: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    pngs = render_preview_pages(exported["out"], 2)
    assert len(pngs) == 2 and all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    monkeypatch.setattr(export_mod.shutil, "which", lambda name: None)
    with pytest.raises(ToolMissingError, match="poppler-utils"):
        render_preview_pages(exported["out"], 1)


def test_other_analyses_bring_their_methods_and_citations(tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "s", n_regions=1, with_findings=False)
    with Case.open(case_path) as case:
        item = case.evidence()[0]
        case.add_finding(item.id, "symbols", {
            "check": "ocr", "available": True, "message": "", "seconds": 0.2,
            "proposals": [{"box": [240, 100, 30, 40], "check": "ocr", "evidence_reading": "2",
                           "comparison_reading": "7", "category": "shape"}],
            "method_module": "examiner.analysis.symbols.ocr_diff",
        })  # fmt: skip
        model = build_model(case)
        export_report(case, tmp_path / "s.pdf")
    keys = [k for _, k, _ in model.bibliography]
    assert "smith2007tesseract" in keys
    assert len(model.other_results) == 1 and ("Proposals", "1") in model.other_results[0].rows
    text = flat(pdftotext(tmp_path / "s.pdf"))
    assert "Other analyses" in text and "\u201c2\u201d vs \u201c7\u201d" in text
