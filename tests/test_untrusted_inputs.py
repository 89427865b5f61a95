"""Untrusted paths and values: FIFOs and devices, pack ids and dataset file names that try to
leave their folder, output paths over evidence, terminal escapes, bidi controls, hostile JSON."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from imagegen import encode, pattern
from training_fixtures import make_instructor_case

from examiner.cli import main
from examiner.core.case import Case
from examiner.core.regions import Category, Region, ShapeKind
from examiner.errors import ExaminerError
from examiner.training.dataset_export import export_dataset, import_dataset
from examiner.training.exercise_pack import ExercisePack, PackError, make_pack, start_training_case

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


def _guarded(fn: Callable[[], int], fifo: Path | None = None, timeout: float = 30.0) -> int:
    """Run ``fn`` in a thread; if it is still blocked after ``timeout``, open the FIFO's writing
    end so it returns, and fail: the code under test hung."""
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        if fifo is not None:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        t.join(10)
        pytest.fail("the command blocked on a FIFO or device")
    return result[0]


def _case_with_evidence(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    ev = folder / "ev.png"
    ev.write_bytes(encode(pattern(seed=1), "PNG"))
    path = folder / "c.mcase"
    with Case.create(path, "CASE-1", "Dr. Examiner", actor="dr") as case:
        case.add_evidence(ev)
    return path, ev


# ---------------------------------------------------------------------------- FIFOs and devices


@needs_fifo
def test_fifo_as_evidence_is_refused_without_hanging(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    assert _guarded(lambda: main(["inspect", str(fifo)]), fifo) == 2
    assert "pipe.png: is a named pipe (FIFO)" in capsys.readouterr().err
    case_path, _ = _case_with_evidence(tmp_path / "c")
    assert _guarded(lambda: main(["case", "add-evidence", str(case_path), str(fifo)]), fifo) == 2
    assert "named pipe" in capsys.readouterr().err


@needs_fifo
def test_case_whose_evidence_became_a_fifo_does_not_hang(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_path, ev = _case_with_evidence(tmp_path)
    ev.unlink()
    os.mkfifo(ev)
    for argv in (["case", "verify", str(case_path)], ["case", "show", str(case_path)],
                 ["report", str(case_path), "--out", str(tmp_path / "r.pdf")]):  # fmt: skip
        rc = _guarded(lambda argv=argv: main(argv), ev)
        out, err = capsys.readouterr()
        assert rc in (0, 3), (argv, err)
        assert "named pipe" in out + err, argv
    with Case.open(case_path, read_only=True) as case:
        status = case.integrity.files[0]
        assert (status.status, status.detail) == ("unreadable", "is a named pipe (FIFO), not a regular file")


def test_evidence_path_pointing_at_a_device_does_not_hang(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("needs /dev/zero")
    case_path, _ = _case_with_evidence(tmp_path)
    conn = sqlite3.connect(case_path)
    conn.execute("UPDATE evidence SET path = '/dev/zero'")
    conn.commit()
    conn.close()
    assert _guarded(lambda: main(["case", "verify", str(case_path)])) == 3
    out = capsys.readouterr().out
    assert "/dev/zero" in out and "is a device" in out
    assert _guarded(lambda: main(["inspect", "/dev/zero"])) == 2
    assert "/dev/zero: is a device" in capsys.readouterr().err


def test_directory_as_evidence_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path)]) == 2
    assert f"{tmp_path}: is a directory" in capsys.readouterr().err


# ---------------------------------------------------------------------------- output paths


def test_preview_never_writes_over_evidence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    ev = folder / "report-page1.png"
    ev.write_bytes(encode(pattern(seed=1), "PNG"))
    before = ev.read_bytes()
    case_path = folder / "c.mcase"
    with Case.create(case_path, "CASE-1", "Dr. Examiner", actor="dr") as case:
        case.add_evidence(ev)
    rc = main(["report", str(case_path), "--out", str(folder / "report.pdf"), "--preview", str(folder)])
    assert rc == 2
    assert "report-page1.png" in capsys.readouterr().err
    assert ev.read_bytes() == before
    assert not (folder / "report.pdf").exists()  # refused before anything was written


def test_report_through_a_link_to_evidence_is_refused(tmp_path: Path) -> None:
    from examiner.report.export import export_report

    case_path, ev = _case_with_evidence(tmp_path)
    link = tmp_path / "link.pdf"
    os.link(ev, link)
    before = ev.read_bytes()
    with Case.open(case_path) as case, pytest.raises(ExaminerError, match="refusing to overwrite"):
        export_report(case, link)
    assert ev.read_bytes() == before


# ---------------------------------------------------------------------------- exercise packs


def _rewrite_pack(src: Path, dst: Path, new_id: str) -> None:
    """The pack with item 01 renamed, every hash recomputed (a forger's consistent pack)."""
    import hashlib

    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members["manifest.json"])
    key = json.loads(members["key.json"])
    manifest["items"][0]["id"] = new_id
    key["items"][new_id] = key["items"].pop("01")
    members["key.json"] = json.dumps(key).encode()
    manifest["files"]["key.json"] = {"sha256": hashlib.sha256(members["key.json"]).hexdigest(),
                                     "size": len(members["key.json"])}  # fmt: skip
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(dst, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)


# "01\n": a pattern ending in "$" also matches before a final newline (ids are full-matched).
@pytest.mark.parametrize("bad_id", ["../../escaped", "/tmp/absolute", "a/b", "..", "x" * 65, "", "a\x00b", "01\n"])
def test_pack_item_ids_cannot_leave_the_training_folder(tmp_path: Path, bad_id: str) -> None:
    case = make_instructor_case(tmp_path / "instr")
    pack, _ = make_pack(case, tmp_path / "ex.mxpack")
    bad = tmp_path / "bad.mxpack"
    _rewrite_pack(pack.path, bad, bad_id)
    with pytest.raises(PackError, match="not a safe name|malformed"):
        ExercisePack.open(bad)
    with pytest.raises(PackError):
        start_training_case(bad, "T", tmp_path / "t.mcase")
    assert not (tmp_path / "t.mcase").exists()
    assert not list(tmp_path.parent.glob("escaped*"))


def test_training_images_are_never_written_over_existing_files(tmp_path: Path) -> None:
    case = make_instructor_case(tmp_path / "instr")
    pack, _ = make_pack(case, tmp_path / "ex.mxpack")
    out = tmp_path / "t.mcase"
    start_training_case(pack.path, "T", out)
    images = sorted((tmp_path / "t-images").iterdir())
    assert images and all(p.stat().st_mode & 0o222 == 0 for p in images)
    with pytest.raises(PackError, match="already exists"):
        start_training_case(pack.path, "T", out)


# ---------------------------------------------------------------------------- dataset import


@pytest.fixture()
def dataset(tmp_path: Path) -> Path:
    out = tmp_path / "ds"
    export_dataset([make_instructor_case(tmp_path / "a")], out)
    return out


def _edit_coco(folder: Path, change: Callable[[dict], None]) -> None:  # type: ignore[type-arg]
    p = folder / "annotations.json"
    doc = json.loads(p.read_text())
    change(doc)
    p.write_text(json.dumps(doc))


@pytest.mark.parametrize("name", ["../outside.png", "/etc/passwd", "images/../../outside.png", ""])
def test_dataset_file_names_must_stay_in_the_folder(dataset: Path, tmp_path: Path, name: str) -> None:
    (tmp_path / "outside.png").write_bytes(encode(pattern(seed=9), "PNG"))
    _edit_coco(dataset, lambda d: d["images"][0].update(file_name=name))
    with pytest.raises(ExaminerError, match="outside the dataset folder|no usable file_name"):
        import_dataset(dataset, tmp_path / "imp.mcase")
    assert not (tmp_path / "imp.mcase").exists()


def test_dataset_without_a_hash_is_refused(dataset: Path, tmp_path: Path) -> None:
    _edit_coco(dataset, lambda d: d["images"][0].update(sha256=None))
    with pytest.raises(ExaminerError, match="no valid SHA-256"):
        import_dataset(dataset, tmp_path / "imp.mcase")


def test_dataset_with_hostile_values_gives_clear_errors(dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def inf_points(d: dict) -> None:  # type: ignore[type-arg]
        d["annotations"][0]["attributes"]["points"] = [[1e400, 0], [5, 5]]

    def huge_points(d: dict) -> None:  # type: ignore[type-arg]
        d["annotations"][0]["attributes"]["points"] = [[1e300, 0], [5, 5]]

    for n, change in enumerate((inf_points, huge_points)):
        ds = tmp_path / f"ds{n}"
        import shutil

        shutil.copytree(dataset, ds)
        _edit_coco(ds, change)
        assert main(["import-dataset", str(ds), "--out", str(tmp_path / f"i{n}.mcase")]) == 2
        err = capsys.readouterr().err
        assert "annotation" in err and "internal error" not in err
    nested = tmp_path / "nested"
    nested.mkdir()
    (nested / "annotations.json").write_text("[" * 100_000 + "]" * 100_000)
    assert main(["import-dataset", str(nested), "--out", str(tmp_path / "n.mcase")]) == 2
    err = capsys.readouterr().err
    assert "not readable as JSON" in err and "internal error" not in err


def test_deeply_nested_pack_manifest_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "nested.mxpack"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("manifest.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(PackError, match="not valid JSON"):
        ExercisePack.open(bad)


def test_region_from_data_refuses_non_finite_points() -> None:
    for pts in ([[float("nan"), 0], [1, 1]], [[1e12, 0], [1, 1]], [["x", 0], [1, 1]], [[1, 2, 3], [1, 1]]):
        with pytest.raises(ValueError):
            Region.from_dict({"evidence_id": 1, "kind": "rect", "points": pts})


# ---------------------------------------------------------------------------- terminal and PDF text

HOSTILE = "\x1b]0;owned\x07\x1b[2J\u202eevil\u2066x\u2069"


def test_terminal_output_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_path, _ = _case_with_evidence(tmp_path)
    with Case.open(case_path) as case:
        case.update_details(title=HOSTILE, notes=HOSTILE)
        case.add_region(Region(1, ShapeKind.RECT, [(1, 1), (9, 9)], [Category.SHAPE], evidence_says=HOSTILE,
                               comparison_says="x"))  # fmt: skip
    capsys.readouterr()
    for argv in (["case", "log", str(case_path)], ["case", "show", str(case_path)], ["case", "verify", str(case_path)]):
        main(argv)
        out, err = capsys.readouterr()
        for ch in ("\x1b", "\x07", "\u202e", "\u2066"):
            assert ch not in out + err, argv
    main(["case", "show", str(case_path)])
    assert "\\x1b]0;owned\\x07\\x1b[2J\\u202eevil" in capsys.readouterr().out


def test_training_show_escapes_the_pack_title(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = make_instructor_case(tmp_path / "instr")
    pack, _ = make_pack(case, tmp_path / "ex.mxpack", title=HOSTILE, instructor=HOSTILE)
    capsys.readouterr()
    assert main(["training", "show", str(pack.path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\\u202eevil" in out


def test_pdf_escapes_bidi_controls_and_keeps_long_notes_whole(tmp_path: Path) -> None:
    from pypdf import PdfReader

    from examiner.report.export import export_report

    case_path, _ = _case_with_evidence(tmp_path)
    note = "start " + "word " * 12_000 + "\u202eRTL\u2067iso\u2069 END-OF-NOTE"
    with Case.open(case_path) as case:
        case.add_region(Region(1, ShapeKind.RECT, [(1, 1), (9, 9)], [Category.SHAPE], evidence_says="a",
                               comparison_says="b", notes=note))  # fmt: skip
        export_report(case, tmp_path / "r.pdf")
    text = "".join(page.extract_text() for page in PdfReader(tmp_path / "r.pdf").pages)
    assert "\u202e" not in text and "\u2067" not in text
    assert "\\u202eRTL\\u2067iso\\u2069" in text
    assert "END-OF-NOTE" in text and "[cut:" not in text


def test_json_output_stays_valid_json_with_hostile_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_path, _ = _case_with_evidence(tmp_path)
    hostile = HOSTILE + "\x7f\x85"
    with Case.open(case_path) as case:
        case.update_details(title=hostile)
    capsys.readouterr()
    assert main(["case", "show", str(case_path), "--json"]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in ("\x1b", "\x07", "\x7f", "\x85", "\u202e", "\u2066"))
    assert json.loads(out)["details"]["title"] == hostile


def test_score_pdf_never_lands_on_the_pack_case_or_evidence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = make_instructor_case(tmp_path / "instr")
    pack, _ = make_pack(case, tmp_path / "ex.mxpack")
    trainee = tmp_path / "t.mcase"
    start_training_case(pack.path, "T", trainee)
    evidence = sorted((tmp_path / "t-images").iterdir())[0]
    for target in (pack.path, trainee, evidence):
        before = target.read_bytes()
        assert main(["training", "score", str(pack.path), str(trainee), "--pdf", str(target)]) == 2
        assert "refusing to overwrite" in capsys.readouterr().err
        assert target.read_bytes() == before


@pytest.mark.parametrize("name", ["../../outside-1-0123abcd.pth.tar", "/tmp/x-1-0123abcd.pth.tar", "sub/x.pth", ".."])
def test_codec_manifest_weight_names_cannot_leave_the_pack(tmp_path: Path, name: str) -> None:
    from examiner.codecs.api import CodecFamily, CodecInfo
    from examiner.codecs.weights import resolve
    from examiner.errors import WeightsError

    info = CodecInfo("x", "X", list(CodecFamily)[0], (1,), pack_dir=str(tmp_path),
                     extra={"weights": [{"quality": 1, "file": name, "sha256": "0" * 64}]})  # fmt: skip
    with pytest.raises(WeightsError, match="not a plain file name"):
        resolve(info, 1)
