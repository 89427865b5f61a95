"""The report's parts: bibliography, citation numbering, escaping, methods protocol, figures."""

from __future__ import annotations

import hashlib
import importlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_path
from pypdf import PdfReader
from report_cases import make_case

from examiner.cli import main
from examiner.codecs.api import CodecFamily, CodecInfo
from examiner.core.case import Case
from examiner.core.regions import Region, ShapeKind
from examiner.report.bibliography import Citations, bundled, format_numbers, latex_to_text, parse_bibtex
from examiner.report.export import export_report
from examiner.report.figures import region_crops
from examiner.report.methods import method_for_codec, method_for_finding, method_from_dict
from examiner.report.pdf import clean_text, esc


def test_bundled_bibliography_reads_and_formats() -> None:
    lib = bundled()
    assert "hofer2024taxonomy" in lib and "schneier1999audit" in lib
    hofer = lib["hofer2024taxonomy"].format()
    assert hofer == (
        "Nora Hofer and Rainer Böhme. A Taxonomy of Miscompressions: Preparing Image Forensics for Neural "
        "Compression. arXiv:2409.05490, 2024."
    )
    wang = lib["wang2004ssim"].format()
    assert "vol. 13, no. 4, pp. 600\u2013612, 2004." in wang
    assert "Bégaint" in lib["begaint2020compressai"].format()


def test_bundled_entries_are_copied_unaltered_from_the_shared_bibliography() -> None:
    shared = parse_bibtex(shared_path("references.bib").read_text(encoding="utf-8"))
    lib = bundled()
    common = set(lib) & set(shared)
    # Entries added later (after checking them against their sources) need not be in the shared file.
    assert len(common) >= 20
    for key in common:
        assert lib[key].fields == shared[key].fields, key
        assert lib[key].kind == shared[key].kind


def test_every_citation_key_used_by_codecs_and_analyses_is_in_the_bibliography() -> None:
    from examiner.codecs.registry import codec_infos

    keys = bundled()
    for info in codec_infos():
        for key in info.citations:
            assert key in keys, f"codec {info.id} cites unknown {key}"
    import pkgutil

    import examiner.analysis

    for info in pkgutil.walk_packages(examiner.analysis.__path__, "examiner.analysis."):
        try:
            mod = importlib.import_module(info.name)
        except ImportError:
            continue
        method = getattr(mod, "METHOD", None)
        if isinstance(method, dict):
            for key in method.get("citations", []):
                assert key in keys, f"{info.name} cites unknown {key}"


def test_bibtex_parser_handles_quotes_numbers_and_reports_broken_entries() -> None:
    lib = parse_bibtex('@article{k1, author = "A. One and B. {T}wo", year = 1999, title = {X {Y} Z}}')
    assert lib["k1"].authors() == ["A. One", "B. Two"]
    assert lib["k1"].get("title") == "X Y Z"
    assert lib["k1"].get("year") == "1999"
    assert latex_to_text(r"Jo{\~a}o Ball{\'e} B{\"o}hme") == "João Ballé Böhme"
    from examiner.errors import ExaminerError

    with pytest.raises(ExaminerError, match="k2"):
        parse_bibtex("@misc{k2, title = {unclosed ")


def test_citations_are_numbered_in_order_of_first_use() -> None:
    c = Citations()
    assert c.cite("wang2004ssim", "hofer2024taxonomy") == [1, 2]
    assert c.cite("hofer2024taxonomy") == [2]
    assert c.cite("nosuchkey2099") == [3]
    entries = c.entries()
    assert [k for _, k, _ in entries] == ["wang2004ssim", "hofer2024taxonomy", "nosuchkey2099"]
    assert "not in the bundled bibliography" in entries[2][2]
    assert format_numbers([5, 1, 2, 3, 7, 8]) == "[1\u20133, 5, 7, 8]"
    assert format_numbers([]) == ""


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("<font size=60>", "&lt;font size=60&gt;"),
        ("a < b & c", "a &lt; b &amp; c"),
        ("line\nnext", "line<br/>next"),
        ("nul\x00bell\x07", "nul\\x00bell\\x07"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
    ],
)
def test_escaping_shows_text_literally(raw: str, shown: str) -> None:
    assert esc(raw) == shown


def test_clean_text_cuts_long_values_with_a_statement() -> None:
    out = clean_text("y" * 50, limit=10)
    assert out.startswith("y" * 10) and "50 characters in total" in out


def test_methods_come_from_metadata_dicts_and_codec_manifests() -> None:
    m = method_from_dict("x", {"name": "N", "description": "D", "parameters": {"a": 0.5, "b": [1, 2]},
                               "limitations": "only one", "citations": ["wang2004ssim"]})  # fmt: skip
    assert m.parameters == (("a", "0.5"), ("b", "1, 2")) and m.limitations == ("only one",)
    snap = method_for_finding("detection", {"method": {"name": "Snap", "description": "from the run"}})
    assert snap is not None and snap.name == "Snap"
    via_module = method_for_finding("whatever", {"method_module": "examiner.analysis.compare"})
    assert via_module is not None and "wang2004ssim" in via_module.citations
    info = CodecInfo("demo", "Demo codec", CodecFamily.NEURAL, (1, 2, 3, 5), citations=("balle2018hyperprior",),
                     demonstration=True)  # fmt: skip
    cm = method_for_codec(info, {"q1.safetensors": "ab" * 32})
    assert "demonstration codec" in cm.labels
    assert ("quality levels offered", "1\u20133, 5") in cm.parameters
    assert any("Demonstration codec" in lim for lim in cm.limitations)


def test_region_crops_share_one_zoom_and_refuse_mismatched_sizes() -> None:
    ev = np.zeros((100, 120, 3), dtype=np.uint8)
    cmp_ = ev.copy()
    cmp_[40:50, 40:50] = 255
    r = Region(evidence_id=1, kind=ShapeKind.RECT, points=[(40.0, 40.0), (50.0, 50.0)])
    crops = region_crops(r, ev, cmp_, 1)
    assert len(crops.figures) == 3
    sizes = {f.rgb.shape for f in crops.figures}
    assert len(sizes) == 1
    assert crops.zoom > 1
    diff = crops.figures[2].rgb
    assert diff.max() == 255 and diff.min() == 0
    # 16-bit evidence is shown by rounding to 8 bits.
    crops16 = region_crops(r, (ev.astype(np.uint16) * 257), None, 2)
    assert crops16.figures[0].rgb.dtype == np.uint8
    with pytest.raises(ValueError, match="same size"):
        region_crops(r, ev, cmp_[:50], 3)


def test_manifest_hashes_match_the_image_streams_in_the_pdf(tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "c", n_regions=2)
    out = tmp_path / "r.pdf"
    with Case.open(case_path) as case:
        export_report(case, out)
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    text = re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in reader.pages))
    streams = set()
    for page in reader.pages:
        for ref in page["/Resources"].get("/XObject", {}).values():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                streams.add(hashlib.sha256(obj.get_data()).hexdigest())
    assert len(streams) >= 7  # 2 regions x 3 crops, spectrum, thumbnail
    for digest in streams:
        assert digest in text


def test_list_levels_needs_no_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "any.mcase", "--list-levels"]) == 0
    assert "Moderate support for the alternative" in capsys.readouterr().out
    assert main(["report", "any.mcase"]) == 2


def test_pdfa_output_is_deterministic_and_carries_the_report_data(tmp_path: Path) -> None:
    import pikepdf

    from examiner.report.export import ReportOptions
    from examiner.report.pdfa import read_attachment

    case_path = make_case(tmp_path / "a", n_regions=1)
    with Case.open(case_path) as case:
        first = export_report(case, tmp_path / "a.pdf", ReportOptions(pdfa=True))
        second = export_report(case, tmp_path / "b.pdf", ReportOptions(pdfa=True))
        intake_sha = case.evidence()[0].sha256
    assert first.sha256 == second.sha256
    pdf = (tmp_path / "a.pdf").read_bytes()
    data = read_attachment(pdf)
    assert data["report_id"] == first.report_id
    assert data["evidence"][0]["hashes"][0]["at_intake"] == intake_sha
    assert len(data["regions"]) == 1
    with pikepdf.open(tmp_path / "a.pdf") as doc:
        assert doc.pdf_version >= "1.7"
        assert doc.Root.AF[0].AFRelationship == pikepdf.Name.Data
        assert doc.Root.OutputIntents[0].S == pikepdf.Name.GTS_PDFA1
        meta = doc.open_metadata()
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
        assert str(doc.docinfo["/Title"]) == meta["dc:title"]
    assert len(PdfReader(tmp_path / "a.pdf").pages) == first.pages


def test_sixteen_bit_grey_evidence_reports_with_crops(tmp_path: Path) -> None:
    from PIL import Image

    from examiner.report.export import build_model

    grey = (np.linspace(0, 65535, 120 * 160, dtype=np.float64).reshape(120, 160)).astype(np.uint16)
    ref = grey.copy()
    ref[40:60, 50:80] = 1000
    Image.fromarray(grey).save(tmp_path / "g.png")
    Image.fromarray(ref).save(tmp_path / "g_ref.png")
    with Case.create(tmp_path / "g.mcase", case_id="G-1", examiner="E") as case:
        item = case.add_evidence(tmp_path / "g.png", reference=tmp_path / "g_ref.png")
        case.add_region(Region(evidence_id=item.id, kind=ShapeKind.POLYGON,
                               points=[(50.0, 40.0), (80.0, 40.0), (65.0, 60.0)], comparison="reference"))  # fmt: skip
        model = build_model(case)
        result = export_report(case, tmp_path / "g.pdf")
    block = model.regions[0]
    assert len(block.crops) == 3 and not block.problems
    assert block.crops[2].rgb.max() > 0  # the changed patch shows in the difference
    assert 0 < block.share_percent < 5
    assert result.pages >= 5
