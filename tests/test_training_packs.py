"""Exercise packs (verified on open, key hidden in training mode), scoring, the PDF result, the CLI."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from training_fixtures import SECRET, copy_regions, key_regions, make_instructor_case, shifted

from examiner.cli import main
from examiner.core.case import Case
from examiner.core.regions import Category
from examiner.training.exercise_pack import ExercisePack, PackError, make_pack, start_training_case
from examiner.training.scoring import DEFAULT_IOU, render_score_pdf, score_case, score_regions


@pytest.fixture()
def pack(tmp_path: Path) -> ExercisePack:
    case = make_instructor_case(tmp_path / "instr")
    p, notes = make_pack(case, tmp_path / "ex.mxpack", instructor="I. Structor")
    assert notes == []
    return p


def _start(pack: ExercisePack, tmp_path: Path, name: str = "trainee.mcase") -> Path:
    return start_training_case(pack.path, "T. Rainee", tmp_path / name)


def _mark(case_path: Path, per_item: dict[int, list]) -> None:  # type: ignore[type-arg]
    with Case.open(case_path) as case:
        items = case.evidence()
        for idx, regions in per_item.items():
            for r in copy_regions(regions, items[idx].id):
                case.add_region(r)


def test_pack_holds_pairs_key_and_hashes(pack: ExercisePack) -> None:
    assert [it.id for it in pack.items] == ["01", "02"]
    assert (pack.items[0].width, pack.items[0].height) == (96, 64)
    assert pack.items[0].codec == {"codec": "jpeg", "quality": 5, "bpp": 0.25}
    assert pack.manifest["format_version"] == 1
    key = pack.read_key()
    assert [len(key["01"]), len(key["02"])] == [2, 1]
    assert key["01"][0].categories == [Category.SHAPE] and key["01"][0].evidence_says.startswith(SECRET)
    with zipfile.ZipFile(pack.path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert set(manifest["files"]) == {"key.json", "images/01-original.png", "images/01-reconstruction.png",
                                      "images/02-original.png", "images/02-reconstruction.png"}
    # The reconstruction of item 2 is the JPEG evidence's decoded pixels, stored losslessly.
    rec = pack.image(pack.items[1], "reconstruction")
    assert rec.shape == (48, 80, 3)


def _rewrite(src: Path, dst: Path, change: dict[str, bytes | None]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change.get(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)
        for name, data in change.items():
            if name not in zin.namelist() and data is not None:
                zout.writestr(name, data)
    return dst


def test_tampered_or_damaged_packs_are_refused(pack: ExercisePack, tmp_path: Path) -> None:
    with zipfile.ZipFile(pack.path) as zf:
        key = json.loads(zf.read("key.json"))
        manifest = json.loads(zf.read("manifest.json"))
        png = zf.read("images/01-reconstruction.png")
    key["items"]["01"][0]["categories"] = ["geometry"]
    cases = {
        "key.json does not match its SHA-256": {"key.json": json.dumps(key).encode()},
        "01-reconstruction.png does not match": {"images/01-reconstruction.png": png[:-20] + b"\0" * 20},
        "not listed in the manifest": {"extra.txt": b"hello"},
        "are missing": {"images/02-original.png": None},
        "newer than this program reads": {"manifest.json": json.dumps({**manifest, "format_version": 99}).encode()},
        "no manifest.json": {"manifest.json": None},
    }
    for n, (message, change) in enumerate(cases.items()):
        bad = _rewrite(pack.path, tmp_path / f"bad{n}.mxpack", change)
        with pytest.raises(PackError, match=message) as err:
            ExercisePack.open(bad)
        assert str(bad) in str(err.value)
    junk = tmp_path / "junk.mxpack"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(PackError, match="not a readable zip"):
        ExercisePack.open(junk)


def test_training_case_holds_no_key(pack: ExercisePack, tmp_path: Path) -> None:
    case_path = _start(pack, tmp_path)
    with Case.open(case_path, read_only=True) as case:
        assert case.integrity.ok
        assert case.regions() == []
        items = case.evidence()
        assert [it.sha256 for it in items] == [it.reconstruction.sha256 for it in pack.items]
        assert all(it.reference_sha256 == p.original.sha256 for it, p in zip(items, pack.items, strict=True))
        info = case.get_meta("training")
        assert info["pack_digest"] == pack.digest and info["trainee"] == "T. Rainee"
        assert "key" not in json.dumps(info).lower()
    # Nothing of the key anywhere in the case file or the images written beside it.
    for f in [case_path, *sorted((tmp_path / "trainee-images").iterdir())]:
        assert SECRET.encode() not in f.read_bytes(), f
    with pytest.raises(PackError, match="already exists"):
        _start(pack, tmp_path)


def test_reproducing_the_key_scores_100(pack: ExercisePack, tmp_path: Path) -> None:
    case_path = _start(pack, tmp_path)
    _mark(case_path, {0: key_regions(0, 0), 1: key_regions(0, 1)})
    result = score_case(pack.path, case_path)
    assert result.score == pytest.approx(100.0)
    assert (result.hits, result.misses, result.false_alarms) == (3, 0, 0)
    assert result.components == {"detection": 1.0, "categories": 1.0, "symbol": 1.0}
    assert result.trainee == "T. Rainee" and result.iou_threshold == DEFAULT_IOU
    # The instructor's descriptions come with the key side of each match, for the review.
    assert all(m.key is not None and SECRET in m.key.evidence_says for m in result.matches)


def test_missed_region_and_wrong_category_score_as_expected(pack: ExercisePack, tmp_path: Path) -> None:
    case_path = _start(pack, tmp_path)
    first, _second = key_regions(0, 0)
    (third,) = key_regions(0, 1)
    wrong = shifted(third, 2.0)  # a slightly offset mark on the right place...
    wrong.categories = [Category.SHAPE]  # ...with the wrong category (key: geometry)
    _mark(case_path, {0: [first], 1: [wrong]})  # the lamp (item 1, second region) is missed
    result = score_case(pack.path, case_path)
    assert (result.hits, result.misses, result.false_alarms) == (2, 1, 0)
    # By hand: D = 2 / 3; C = (1 + 0) / 2; S = 2 / 2 -> 100 * (0.5 * 2/3 + 0.3 * 0.5 + 0.2 * 1) = 68.33.
    assert result.components["detection"] == pytest.approx(2 / 3)
    assert result.components["categories"] == pytest.approx(0.5)
    assert result.components["symbol"] == pytest.approx(1.0)
    assert result.score == pytest.approx(100 * (0.5 * 2 / 3 + 0.3 * 0.5 + 0.2), abs=1e-9)
    miss = [m for m in result.matches if m.outcome == "miss"]
    assert len(miss) == 1 and miss[0].key is not None and "lamp off" in miss[0].key.evidence_says


def test_false_alarm_symbol_partial_categories_and_threshold() -> None:
    (key,) = key_regions(1, 1)
    key.categories = [Category.SHAPE, Category.GEOMETRY]
    mark = copy_regions([key], 1)[0]
    mark.categories, mark.symbol = [Category.SHAPE], True
    far = shifted(mark, 45.0)
    matches, comps, score = score_regions({"a": [key]}, {"a": [mark, far]})
    assert [m.outcome for m in matches] == ["hit", "false alarm"]
    # Jaccard {shape} vs {shape, geometry} = 1/2; the Symbol flag differs; D = 1 / 2.
    assert comps == {"detection": 0.5, "categories": 0.5, "symbol": 0.0}
    assert score == pytest.approx(100 * (0.25 + 0.15))
    # A mark overlapping less than the threshold is a miss plus a false alarm.
    matches, _, _ = score_regions({"a": [key]}, {"a": [shifted(mark, 22.0)]}, threshold=0.9)
    assert sorted(m.outcome for m in matches) == ["false alarm", "miss"]
    # Key regions without categories are not graded on them; an empty key and no marks score 100.
    key.categories = []
    _, comps, _ = score_regions({"a": [key]}, {"a": [mark]})
    assert comps["categories"] is None
    assert score_regions({"a": []}, {"a": []})[2] == 100.0


def test_scoring_refuses_a_case_from_another_pack(pack: ExercisePack, tmp_path: Path) -> None:
    case_path = _start(pack, tmp_path)
    other_case = make_instructor_case(tmp_path / "other", "other.mcase")
    with Case.open(other_case) as c:
        c.update_details(title="Another exercise")
    other, _ = make_pack(other_case, tmp_path / "other.mxpack", title="Another exercise")
    assert other.digest != pack.digest
    with pytest.raises(PackError, match="started from another pack"):
        score_case(other.path, case_path)


def test_score_pdf_is_one_deterministic_page(pack: ExercisePack, tmp_path: Path) -> None:
    from pypdf import PdfReader

    case_path = _start(pack, tmp_path)
    hostile = key_regions(0, 0)
    for r in hostile:
        r.notes = "<b>not markup</b> & " + "long words " * 40
    _mark(case_path, {0: hostile * 12})  # many false alarms: the table must still fit one page
    result = score_case(pack.path, case_path)
    a, b = render_score_pdf(result), render_score_pdf(result)
    assert a == b
    out = tmp_path / "r.pdf"
    out.write_bytes(a)
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "T. Rainee" in text and f"{result.score:.1f}" in text and "false alarm" in text


def test_training_cli_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = make_instructor_case(tmp_path / "instr")
    pack_path = tmp_path / "cli.mxpack"
    assert main(["training", "make-pack", str(case), "--out", str(pack_path), "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["key_regions"] == 3 and len(made["items"]) == 2 and "regions" not in json.dumps(made["items"])
    trainee = tmp_path / "t.mcase"
    assert main(["training", "start", str(pack_path), "--trainee", "T. Rainee", "--out", str(trainee), "--json"]) == 0
    started = json.loads(capsys.readouterr().out)
    assert started["case"] == str(trainee) and "key_regions" not in started["pack"]
    ev = json.loads(_run_json(capsys, ["case", "show", str(trainee), "--json"]))["evidence"][0]["id"]
    assert main(["case", "add-region", str(trainee), "--evidence", str(ev), "--rect", "4,4,20,16",
                 "--category", "shape", "--symbol", "--evidence-says", "7", "--comparison-says", "1"]) == 0  # fmt: skip
    capsys.readouterr()
    pdf = tmp_path / "result.pdf"
    assert main(["training", "score", str(pack_path), str(trainee), "--pdf", str(pdf), "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert (scored["hits"], scored["misses"], scored["false_alarms"]) == (1, 2, 0)
    # D = 1/3, C = 1 (shape, as in the key), S = 1.
    assert scored["score"] == pytest.approx(100 * (0.5 / 3 + 0.3 + 0.2), abs=0.01)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert main(["training", "score", str(pack_path), str(trainee), "--iou", "0"]) == 2
    assert "--iou" in capsys.readouterr().err
    bad = tmp_path / "bad.mxpack"
    bad.write_bytes(b"not a pack")
    assert main(["training", "start", str(bad), "--trainee", "x", "--out", str(tmp_path / "x.mcase")]) == 2
    err = capsys.readouterr().err
    assert "bad.mxpack" in err and "Traceback" not in err


def _run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def test_starter_pack_key_covers_exactly_the_planted_changes(tmp_path: Path) -> None:
    from examiner.demo_scene import render_scene
    from examiner.training.starter_pack import build_starter_pack, exercises

    pack, notes = build_starter_pack(tmp_path / "starter.mxpack", use_demo_codec=False, include_demo_case=False)
    assert any("JPEG" in n for n in notes)
    key = pack.read_key()
    kinds = {c.value for regs in key.values() for r in regs for c in r.categories}
    assert kinds == {"amplitude", "geometry", "shape"}
    assert all(r.symbol for regs in key.values() for r in regs)
    for ex, item in zip(exercises(), pack.items, strict=True):
        original, _ = render_scene(ex.seed)
        changed, _ = render_scene(ex.seed, ex.variant)
        if ex.post is not None:
            changed = ex.post(changed)
        diff = np.any(original != changed, axis=2)
        assert diff.any(), ex.title
        inside = np.zeros_like(diff)
        for r in key[item.id]:
            inside |= r.mask(*diff.shape)
        assert not (diff & ~inside).any(), f"{ex.title}: a change lies outside the key"
        assert np.array_equal(pack.image(item, "original"), original)
        assert item.codec is not None and item.codec["codec"] == "jpeg" and item.codec["bpp"] > 0
    # Built by code, reproducibly: the same pack bytes again.
    again, _ = build_starter_pack(tmp_path / "again.mxpack", use_demo_codec=False, include_demo_case=False)
    assert again.digest == pack.digest


def test_score_pdf_stays_one_page_with_long_descriptions(tmp_path: Path) -> None:
    from pypdf import PdfReader

    from examiner.training.scoring import Match, ScoreResult

    (key,) = key_regions(1, 1)
    key.evidence_says = "<i>" + "a very long description of what changed " * 30
    key.comparison_says = "and what the original showed " * 30
    matches = [Match(f"{i:02d}", "miss", key, None) for i in range(40)]
    result = ScoreResult("Pack " * 80, "ab" * 32, "Trainee " * 40, 0.3, matches,
                         {"detection": 0.0, "categories": 0.0, "symbol": 0.0}, 0.0, {}, "2026-01-02T03:04:05Z")  # fmt: skip
    out = tmp_path / "long.pdf"
    out.write_bytes(render_score_pdf(result))
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "more line(s)" in text and "<i>" in text  # markup shown literally, the rest counted


def test_cancelled_starter_pack_writes_nothing(tmp_path: Path) -> None:
    from examiner.core.tasks import TaskContext
    from examiner.errors import Cancelled
    from examiner.training.starter_pack import build_starter_pack

    ctx = TaskContext()
    ctx.cancel.cancel()
    with pytest.raises(Cancelled):
        build_starter_pack(tmp_path / "s.mxpack", use_demo_codec=False, ctx=ctx)
    assert list(tmp_path.iterdir()) == []


def test_starter_pack_with_the_demonstration_codec_and_demo_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """The path taken when the demonstration codec is installed: its exercises and the demo case
    (with the builder's marked regions as key). The codec itself is stood in for by JPEG here,
    so the test does not depend on the demonstration weights."""
    import dataclasses

    from examiner.codecs import engine
    from examiner.training import starter_pack

    real_run = engine.run

    def fake_run(codec: object, image: np.ndarray, quality: int, *args: object, **kwargs: object) -> object:
        if codec == starter_pack.DEMO_CODEC[0]:
            rec = real_run("jpeg", image, 35)
            return dataclasses.replace(rec, codec_id=str(codec), quality=quality)
        return real_run(codec, image, quality, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "run", fake_run)
    monkeypatch.setattr(starter_pack, "demo_codec_available", lambda: True)
    out = tmp_path / "starter.mxpack"
    assert main(["training", "starter-pack", "--out", str(out), "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["notes"] == [] and len(made["items"]) == 6
    codecs = [it["codec"]["codec"] for it in made["items"]]
    assert codecs.count(starter_pack.DEMO_CODEC[0]) == 4 and codecs.count("jpeg") == 2
    pack = ExercisePack.open(out)
    demo_key = pack.read_key()[pack.items[-1].id]
    assert {r.comparison_says for r in demo_key} and all(r.symbol and r.categories and r.evidence_says for r in demo_key)
    assert len(demo_key) == 2
    assert main(["training", "show", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "Demo case" in shown and "digest" in shown


def test_a_training_case_with_a_broken_audit_log_is_not_scored(pack: ExercisePack, tmp_path: Path) -> None:
    import sqlite3

    from examiner.errors import IntegrityError

    case_path = _start(pack, tmp_path)
    _mark(case_path, {0: key_regions(0, 0)})
    conn = sqlite3.connect(case_path, isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
    conn.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 2")
    conn.close()
    with pytest.raises(IntegrityError, match="audit log"):
        score_case(pack.path, case_path)
