"""The Case API: details, evidence, references, findings, artefacts, regions, meta, integrity."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
from imagegen import encode, pattern

from examiner.core import store
from examiner.core.case import Case
from examiner.core.regions import Category, Region, ShapeKind
from examiner.errors import CaseError, EvidenceError, IntegrityError


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, seed in (("ev1.png", 1), ("ev2.png", 2), ("orig.png", 3)):
        p = tmp_path / name
        p.write_bytes(encode(pattern(seed=seed), "PNG"))
        out[name] = p
    return out


@pytest.fixture
def case(tmp_path: Path) -> Case:
    c = Case.create(tmp_path / "c.mcase", "CASE-7", "Dr. Examiner", requester="Police", lab="Lab A", actor="dr")
    yield c
    c.close()


def rect(evidence_id: int, x0: float = 1, y0: float = 1, x1: float = 10, y1: float = 8) -> Region:
    return Region(evidence_id, ShapeKind.RECT, [(x0, y0), (x1, y1)], [Category.SHAPE], symbol=True,
                  evidence_says="8", comparison_says="3")  # fmt: skip


def actions(case: Case) -> list[str]:
    return [e.action for e in case.audit.entries()]


def test_create_open_and_details(tmp_path: Path, case: Case) -> None:
    d = case.details
    assert (d.case_id, d.examiner, d.requester, d.lab) == ("CASE-7", "Dr. Examiner", "Police", "Lab A")
    assert d.created_utc.endswith("Z")
    case.update_details(received_date="2026-01-02", notes="<b>untrusted</b>")
    with pytest.raises(CaseError, match="unknown or read-only"):
        case.update_details(created_utc="x")
    case.close()
    with Case.open(tmp_path / "c.mcase") as again:
        assert again.details.received_date == "2026-01-02"
        assert again.details.notes == "<b>untrusted</b>"
        assert again.integrity.ok
        assert actions(again) == ["case.created", "case.details_updated", "case.opened"]
        assert again.audit.entries()[1].params["changes"]["notes"] == {"old": "", "new": "<b>untrusted</b>"}


def test_create_refuses_existing_file_and_missing_fields(tmp_path: Path, case: Case) -> None:
    with pytest.raises(CaseError, match="already exists"):
        Case.create(tmp_path / "c.mcase", "X", "Y")
    with pytest.raises(CaseError, match="case id"):
        Case.create(tmp_path / "d.mcase", " ", "Y")
    with pytest.raises(CaseError, match="not found"):
        Case.open(tmp_path / "nope.mcase")


def test_open_refuses_non_case_files_and_newer_schema(tmp_path: Path, case: Case) -> None:
    junk = tmp_path / "junk.mcase"
    junk.write_text("hello")
    with pytest.raises(CaseError, match="not a case file"):
        Case.open(junk)
    other = tmp_path / "other.mcase"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(CaseError):
        Case.open(other)
    case.close()
    conn = sqlite3.connect(tmp_path / "c.mcase")
    conn.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(CaseError, match="newer than this program"):
        Case.open(tmp_path / "c.mcase")


def test_schema_version_is_recorded(tmp_path: Path, case: Case) -> None:
    conn = sqlite3.connect(tmp_path / "c.mcase")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == store.APPLICATION_ID
    conn.close()


def test_evidence_and_reference(case: Case, images: dict[str, Path]) -> None:
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in images.values()}
    item = case.add_evidence(images["ev1.png"], reference=images["orig.png"])
    assert item.id == 1 and item.path == str(images["ev1.png"].resolve())
    assert item.facts["format"] == "png" and item.facts["width"] == 40
    assert item.reference and item.reference["path"] == str(images["orig.png"].resolve())
    assert item.added_utc.endswith("Z")
    item2 = case.add_evidence(images["ev2.png"])
    assert item2.reference is None
    item2 = case.set_reference(item2.id, images["orig.png"])
    assert item2.reference_sha256 == item.reference_sha256
    item2 = case.set_reference(item2.id, None)
    assert item2.reference is None
    assert [e.id for e in case.evidence()] == [1, 2]
    with pytest.raises(CaseError, match="already evidence 1"):
        case.add_evidence(images["ev1.png"])
    with pytest.raises(CaseError, match="no evidence item 9"):
        case.evidence_item(9)
    assert np.array_equal(case.load_evidence(1).pixels, pattern(seed=1))
    assert np.array_equal(case.load_reference(1), pattern(seed=3))
    assert case.load_reference(2) is None
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in images.values()} == before
    assert actions(case)[1:] == ["evidence.added", "evidence.added", "evidence.reference_set", "evidence.reference_set"]


def test_bad_evidence_adds_nothing(tmp_path: Path, case: Case) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    n = len(case.audit.entries())
    with pytest.raises(EvidenceError, match="text"):
        case.add_evidence(bad)
    assert case.evidence() == [] and len(case.audit.entries()) == n


def test_findings_and_artefacts(case: Case, images: dict[str, Path]) -> None:
    item = case.add_evidence(images["ev1.png"])
    f = case.add_finding(item.id, "detection", {"score": 0.9, "method": "spectral"}, {"map.png": b"PNGDATA", "raw.bin": b"\x00\x01"})
    assert f.id == 1 and f.kind == "detection" and f.created_utc.endswith("Z")
    assert case.get_artefact(f.artefacts["map.png"]) == b"PNGDATA"
    assert case.artefact_info(f.artefacts["map.png"]).media_type == "image/png"
    case.add_finding(item.id, "recompression", {"codec": "jpeg", "quality": 50})
    assert [x.kind for x in case.findings()] == ["detection", "recompression"]
    assert [x.id for x in case.findings(kind="recompression")] == [2]
    assert case.findings(evidence_id=99) == []
    assert case.finding(1).data == {"method": "spectral", "score": 0.9}
    with pytest.raises(CaseError, match="JSON"):
        case.add_finding(item.id, "detection", {"score": float("nan")})
    with pytest.raises(CaseError, match="no evidence item"):
        case.add_finding(42, "detection", {})
    sha = case.put_artefact(b"hello", "text/plain", "note.txt")
    assert sha == case.put_artefact(b"hello", "text/plain", "again.txt")  # content-addressed
    entry = case.audit.entries()[-1]
    assert entry.action == "artefact.stored" and entry.params["sha256"] == sha


def test_tampered_artefact_is_refused(tmp_path: Path, case: Case) -> None:
    sha = case.put_artefact(b"original bytes", "application/octet-stream", "x.bin")
    conn = sqlite3.connect(tmp_path / "c.mcase")
    conn.execute("UPDATE artefacts SET data = ? WHERE sha256 = ?", (b"changed bytes!", sha))
    conn.commit()
    conn.close()
    with pytest.raises(IntegrityError, match="corrupt"):
        case.get_artefact(sha)


def test_regions_and_locking(case: Case, images: dict[str, Path]) -> None:
    item = case.add_evidence(images["ev1.png"])
    r = case.add_region(rect(item.id))
    assert r.id == 1 and r.author == "dr" and r.created_utc
    poly = case.add_region(Region(item.id, ShapeKind.POLYGON, [(1, 1), (20, 2), (5, 15)], [Category.GEOMETRY]))
    r.evidence_says = "B"
    case.update_region(r)
    assert case.region(r.id).evidence_says == "B"
    assert [x.id for x in case.regions(item.id)] == [r.id, poly.id]
    case.set_region_locked(r.id, True)
    r.notes = "edit"
    with pytest.raises(CaseError, match="locked"):
        case.update_region(r)
    with pytest.raises(CaseError, match="locked"):
        case.delete_region(r.id)
    case.set_region_locked(r.id, False, reason="correction")
    case.delete_region(r.id)
    assert [x.id for x in case.regions()] == [poly.id]
    assert "region.unlocked" in actions(case) and "region.deleted" in actions(case)
    upd = next(e for e in case.audit.entries() if e.action == "region.updated")
    assert upd.params["old"]["evidence_says"] == "8" and upd.params["new"]["evidence_says"] == "B"


@pytest.mark.parametrize(
    ("region", "message"),
    [
        (Region(1, ShapeKind.RECT, [(0, 0), (50, 5)], [Category.SHAPE]), "outside"),
        (Region(1, ShapeKind.RECT, [(3, 3), (3, 9)], [Category.SHAPE]), "non-zero"),
        (Region(1, ShapeKind.POLYGON, [(0, 0), (5, 5)], [Category.SHAPE]), "three points"),
        (Region(1, ShapeKind.ELLIPSE, [(0, 0)], [Category.SHAPE]), "two corner"),
        (Region(1, ShapeKind.RECT, [(0, 0), (5, 5)], [Category.SHAPE], confidence="sure"), "confidence"),
        (Region(7, ShapeKind.RECT, [(0, 0), (5, 5)], [Category.SHAPE]), "no evidence item 7"),
    ],
)
def test_invalid_regions_are_refused(case: Case, images: dict[str, Path], region: Region, message: str) -> None:
    case.add_evidence(images["ev1.png"])
    with pytest.raises(CaseError, match=message):
        case.add_region(region)
    assert case.regions() == []


def test_meta_key_values(case: Case) -> None:
    assert case.get_meta("rejected", []) == []
    case.set_meta("rejected", [{"box": [1, 2, 3, 4]}])
    case.set_meta("report.counter", 3)
    assert case.get_meta("rejected") == [{"box": [1, 2, 3, 4]}]
    assert case.meta_keys() == ["rejected", "report.counter"]
    assert actions(case).count("meta.set") == 2


def test_integrity_mismatch_and_missing_files_still_open(tmp_path: Path, images: dict[str, Path]) -> None:
    path = tmp_path / "i.mcase"
    with Case.create(path, "I", "E") as c:
        c.add_evidence(images["ev1.png"], reference=images["orig.png"])
        c.add_evidence(images["ev2.png"])
    images["ev1.png"].write_bytes(encode(pattern(seed=9), "PNG"))  # evidence altered after intake
    images["ev2.png"].unlink()
    with Case.open(path) as c:
        report = c.integrity
        assert not report.ok and report.chain.ok
        status = {(f.evidence_id, f.role): f.status for f in report.files}
        assert status == {(1, "evidence"): "mismatch", (1, "reference"): "ok", (2, "evidence"): "missing"}
        assert c.integrity.evidence_status(1) == "mismatch" and c.integrity.evidence_status(2) == "missing"
        problems = " ".join(report.problems())
        assert "MISMATCH" in problems and "MISSING" in problems
        last = c.audit.entries()[-1]
        assert last.action == "case.opened" and last.params["ok"] is False
        with pytest.raises(IntegrityError, match="changed since intake"):
            c.load_evidence(1)
        json.dumps(report.to_dict())


def test_integrity_check_on_demand_and_read_only(tmp_path: Path, case: Case, images: dict[str, Path]) -> None:
    case.add_evidence(images["ev1.png"])
    assert case.integrity_check().ok
    assert actions(case)[-1] == "case.integrity_checked"
    case.close()
    with Case.open(tmp_path / "c.mcase", read_only=True) as ro:
        n = len(ro.audit.entries())
        assert ro.integrity.ok
        with pytest.raises(CaseError, match="read-only"):
            ro.set_meta("x", 1)
    with Case.open(tmp_path / "c.mcase", record=False) as c:
        assert len(c.audit.entries()) == n


def test_failed_audit_append_rolls_back_the_change(case: Case, images: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    item = case.add_evidence(images["ev1.png"])
    n = len(case.audit.entries())

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(case._audit, "append", boom)
    with pytest.raises(RuntimeError):
        case.add_finding(item.id, "detection", {"x": 1}, {"a.bin": b"blob"})
    monkeypatch.undo()
    assert case.findings() == [] and len(case.audit.entries()) == n
    assert case.conn.execute("SELECT count(*) FROM artefacts").fetchone()[0] == 0


def test_threads_can_share_a_case(case: Case, images: dict[str, Path]) -> None:
    item = case.add_evidence(images["ev1.png"])
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(10):
                case.add_finding(item.id, "note", {"thread": k, "i": i})
                case.findings(item.id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(case.findings()) == 40 and case.audit.verify().ok


def test_closed_case_says_so(case: Case) -> None:
    case.close()
    with pytest.raises(CaseError, match="closed"):
        case.evidence()
