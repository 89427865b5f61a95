"""COCO-style dataset export: schema (keys and types), crops, prevalence table, round trip into a case."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import jsonschema
import pytest
from PIL import Image
from training_fixtures import make_instructor_case

from examiner.cli import main
from examiner.core.case import Case
from examiner.errors import ExaminerError
from examiner.training.dataset_export import bpp_band, export_dataset, import_dataset, region_area

NUM = {"type": "number"}
INT = {"type": "integer"}
# The COCO object-detection format (cocodataset.org, "Data format"), keys and types.
COCO_SCHEMA = {
    "type": "object",
    "required": ["info", "images", "annotations", "categories", "licenses"],
    "properties": {
        "info": {"type": "object", "required": ["description", "version", "year", "contributor", "date_created"],
                 "properties": {"year": INT, "version": {"type": "string"}, "description": {"type": "string"},
                                "contributor": {"type": "string"}, "date_created": {"type": "string"}}},
        "licenses": {"type": "array", "items": {"type": "object", "required": ["id", "name", "url"]}},
        "images": {"type": "array", "items": {
            "type": "object", "required": ["id", "width", "height", "file_name"],
            "properties": {"id": INT, "width": INT, "height": INT, "file_name": {"type": "string"}}}},
        "annotations": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "image_id", "category_id", "segmentation", "area", "bbox", "iscrowd"],
            "properties": {
                "id": INT, "image_id": INT, "category_id": INT, "area": NUM,
                "bbox": {"type": "array", "items": NUM, "minItems": 4, "maxItems": 4},
                "segmentation": {"type": "array", "minItems": 1,
                                 "items": {"type": "array", "items": NUM, "minItems": 6}},
                "iscrowd": {"enum": [0, 1]},
            }}},
        "categories": {"type": "array", "items": {
            "type": "object", "required": ["id", "name", "supercategory"],
            "properties": {"id": INT, "name": {"type": "string"}, "supercategory": {"type": "string"}}}},
    },
}  # fmt: skip


@pytest.fixture()
def exported(tmp_path: Path) -> tuple[Path, list[Path]]:
    a = make_instructor_case(tmp_path / "a")
    b = make_instructor_case(tmp_path / "b", "second.mcase")  # the same evidence bytes, marked again
    with Case.open(b) as case:
        r = case.regions()[0]
        r.categories = []
        case.update_region(r)
    out = tmp_path / "ds"
    result = export_dataset([a, b], out)
    assert (result.cases, result.images, result.annotations, result.crops) == (2, 2, 6, 6)
    return out, [a, b]


def test_export_validates_against_the_coco_schema(exported: tuple[Path, list[Path]]) -> None:
    out, _ = exported
    doc = json.loads((out / "annotations.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, COCO_SCHEMA)
    ids = {c["id"]: c["name"] for c in doc["categories"]}
    assert {"amplitude", "geometry", "shape", "unclassified"} <= set(ids.values())
    image_ids = {im["id"] for im in doc["images"]}
    assert len({a["id"] for a in doc["annotations"]}) == len(doc["annotations"])
    for a in doc["annotations"]:
        assert a["image_id"] in image_ids and a["category_id"] in ids
    # A schema that the export would break: negative control for the validator itself.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**doc, "images": [{"id": "1"}]}, COCO_SCHEMA)


def test_export_contents_hashes_crops_and_attributes(exported: tuple[Path, list[Path]]) -> None:
    out, cases = exported
    doc = json.loads((out / "annotations.json").read_text(encoding="utf-8"))
    with Case.open(cases[0], read_only=True) as case:
        items = case.evidence()
    for im, item in zip(doc["images"], items, strict=True):
        assert im["sha256"] == item.sha256 and (im["width"], im["height"]) == (item.facts["width"], item.facts["height"])
        assert hashlib.sha256((out / im["file_name"]).read_bytes()).hexdigest() == item.sha256
        assert hashlib.sha256((out / im["reference_file_name"]).read_bytes()).hexdigest() == item.reference_sha256
    first = doc["annotations"][0]
    assert first["bbox"] == [4.0, 4.0, 20.0, 16.0] and first["area"] == 320.0
    assert first["segmentation"] == [[4.0, 4.0, 24.0, 4.0, 24.0, 20.0, 4.0, 20.0]]
    attrs = first["attributes"]
    assert attrs["categories"] == ["shape"] and attrs["symbol"] is True
    assert (attrs["codec"], attrs["quality"], attrs["bpp"], attrs["bpp_band"]) == ("jpeg", 5, 0.25, "0.25-0.5")
    assert "digit 7" in attrs["evidence_says"] and attrs["case_id"] == "INSTR-1"
    ellipse = doc["annotations"][1]
    assert len(ellipse["segmentation"][0]) == 128 and ellipse["area"] < 30 * 22
    with Image.open(out / first["attributes"]["crop_file"]) as crop:
        assert crop.size == (20, 16)
    # The third region (second image) has no codec recorded; the re-marked one is unclassified.
    assert doc["annotations"][2]["attributes"]["codec"] is None
    assert doc["annotations"][3]["category_id"] == 5 and doc["annotations"][3]["attributes"]["categories"] == []


def test_prevalence_table(exported: tuple[Path, list[Path]]) -> None:
    out, _ = exported
    with (out / "prevalence.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["category", "codec", "quality", "bpp_band", "regions", "symbol_regions"]
    totals = {r["category"]: int(r["regions"]) for r in rows if r["codec"] == "all"}
    # Case a: shape, amplitude, geometry; case b: (unclassified), amplitude, geometry.
    assert totals == {"amplitude": 2, "geometry": 2, "shape": 1, "unclassified": 1}
    per_codec = {(r["codec"], r["bpp_band"]): int(r["regions"]) for r in rows if r["category"] == "all"}
    assert per_codec == {("jpeg", "0.25-0.5"): 4, ("unknown", "unknown"): 2}
    assert sum(int(r["symbol_regions"]) for r in rows if r["codec"] == "all") == 4
    assert [bpp_band(v) for v in (0.05, 0.125, 1.5, 3.0, None)] == ["0-0.125", "0.125-0.25", "1-2", ">=2", "unknown"]


def test_round_trip_back_into_a_case(exported: tuple[Path, list[Path]], tmp_path: Path) -> None:
    out, cases = exported
    back = import_dataset(out, tmp_path / "back.mcase")
    with Case.open(back, read_only=True) as case, Case.open(cases[0], read_only=True) as a, \
            Case.open(cases[1], read_only=True) as b:  # fmt: skip
        assert case.integrity.ok
        assert [e.sha256 for e in case.evidence()] == [e.sha256 for e in a.evidence()]
        assert [e.reference_sha256 for e in case.evidence()] == [e.reference_sha256 for e in a.evidence()]
        keys = ("kind", "points", "categories", "symbol", "evidence_says", "comparison_says", "notes", "author")
        got = [{k: r.to_dict()[k] for k in keys} for r in case.regions()]
        want = [{k: r.to_dict()[k] for k in keys} for r in [*a.regions(), *b.regions()]]
        assert sorted(got, key=json.dumps) == sorted(want, key=json.dumps)
        assert [region_area(r) for r in case.regions()] == [int(x["area"]) for x in
                                                            json.loads((out / "annotations.json").read_text())["annotations"]]  # fmt: skip
        # The codec the evidence came from survives the round trip.
        sha = case.evidence()[0].sha256
        assert case.get_meta("evidence_origin")[sha]["codec"] == "jpeg"


def test_export_refusals_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_instructor_case(tmp_path / "a")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    with pytest.raises(ExaminerError, match="not an empty folder"):
        export_dataset([a], busy)
    with pytest.raises(ExaminerError, match="no such case file"):
        export_dataset([tmp_path / "none.mcase"], tmp_path / "new")
    out = tmp_path / "cli"
    assert main(["export-dataset", str(a), "--out", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["annotations"] == 3 and Path(res["prevalence_file"]).is_file()
    assert main(["import-dataset", str(out), "--out", str(tmp_path / "rt.mcase"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"case": str(tmp_path / "rt.mcase"), "evidence": 2, "regions": 3}
    lean = tmp_path / "lean"
    assert main(["export-dataset", str(a), "--out", str(lean), "--no-images"]) == 0
    capsys.readouterr()
    assert not (lean / "images").exists()
    assert main(["import-dataset", str(lean), "--out", str(tmp_path / "x.mcase")]) == 2
    assert "export with images" in capsys.readouterr().err
    assert not (tmp_path / "x.mcase").exists()


def test_cancelled_export_leaves_nothing(tmp_path: Path) -> None:
    from examiner.core.tasks import TaskContext
    from examiner.errors import Cancelled

    a = make_instructor_case(tmp_path / "a")
    ctx = TaskContext()
    seen: list[float] = []

    def stop_after_first(p: object) -> None:
        seen.append(1.0)
        ctx.cancel.cancel()

    ctx.on_progress = stop_after_first  # type: ignore[assignment]
    with pytest.raises(Cancelled):
        export_dataset([a, a], tmp_path / "ds", ctx=ctx)
    assert seen and not (tmp_path / "ds").exists()
