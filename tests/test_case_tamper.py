"""Forged rows: every table row is checked against the audit log, so edits made with plain
sqlite3 (no trigger stands in their way) are caught and named."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from imagegen import encode, pattern

from examiner.cli import main
from examiner.core import row_records
from examiner.core.case import Case
from examiner.core.regions import Category, Region, ShapeKind


def _region(evidence_id: int) -> Region:
    return Region(evidence_id, ShapeKind.RECT, [(1, 1), (10, 8)], [Category.SHAPE], symbol=True,
                  evidence_says="8", comparison_says="3", notes="original note")  # fmt: skip


def _build(folder: Path) -> Path:
    ev = folder / "ev.png"
    ev.write_bytes(encode(pattern(seed=1), "PNG"))
    path = folder / "c.mcase"
    with Case.create(path, "CASE-1", "Dr. Examiner", actor="dr") as case:
        item = case.add_evidence(ev)
        case.add_region(_region(item.id))
        case.add_region(_region(item.id))
        case.add_finding(item.id, "detection", {"score": 0.9}, {"map.png": b"\x89PNG original"})
        case.set_meta("report.conclusion", {"level": "Moderate support"})
    return path


@pytest.fixture
def case_path(tmp_path: Path) -> Path:
    return _build(tmp_path)


@pytest.fixture
def legacy_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A case as older versions wrote it: entries without row hashes."""
    with monkeypatch.context() as m:
        m.setattr("examiner.core.case_tx.collect_changes", lambda conn: (row_records.discard_changes(conn), {})[1])
        path = _build(tmp_path)
    yield path


def _sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for s in statements:
        conn.execute(s)
    conn.commit()
    conn.close()


def _problems(path: Path) -> list[str]:
    with Case.open(path, read_only=True) as case:
        assert case.integrity.chain.ok
        return case.integrity.problems()


def test_untouched_case_verifies_with_every_row_checked(case_path: Path) -> None:
    with Case.open(case_path, read_only=True) as case:
        assert case.integrity.ok, case.integrity.problems()
        assert case.integrity.rows.rows >= 10
        assert case.integrity.rows.artefacts_rehashed == 1
    assert main(["case", "verify", str(case_path)]) == 0


FORGERIES = {
    "region": ("UPDATE regions SET data = replace(data, 'original note', 'forged note') WHERE id = 2", "region 2"),
    "region_lock": ("UPDATE regions SET locked = 1 WHERE id = 1", "region 1"),
    "evidence": ("UPDATE evidence SET sha256 = 'ab' || substr(sha256, 3) WHERE id = 1", "evidence item 1"),
    "evidence_facts": ("UPDATE evidence SET facts = '{}' WHERE id = 1", "evidence item 1"),
    "finding": ("UPDATE findings SET data = '{\"score\":0.1}' WHERE id = 1", "finding 1"),
    "details": ("UPDATE case_details SET value = '\"Someone Else\"' WHERE key = 'examiner'", "case detail 'examiner'"),
    "meta": ("UPDATE meta SET value = '{\"level\":\"Strong support\"}'", "case value 'report.conclusion'"),
    "inserted": ("INSERT INTO regions (evidence_id, data, locked, created_utc, updated_utc) "
                 "SELECT evidence_id, data, locked, created_utc, updated_utc FROM regions WHERE id = 1", "region 3"),
    "deleted": ("DELETE FROM regions WHERE id = 1", "region 1"),
    "dropped": ("DROP TABLE findings", "findings table"),
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_rows_are_named(case_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    statement, named = FORGERIES[name]
    assert main(["case", "verify", str(case_path)]) == 0
    _sql(case_path, statement)
    problems = _problems(case_path)
    assert any(named in p for p in problems), problems
    capsys.readouterr()
    assert main(["case", "verify", str(case_path)]) == 3
    assert named in capsys.readouterr().out


def test_swapped_artefact_blob_under_its_old_key_is_caught(case_path: Path) -> None:
    with Case.open(case_path, read_only=True) as case:
        sha = case.findings()[0].artefacts["map.png"]
    _sql(case_path, f"UPDATE artefacts SET data = X'89504e4720666f72676564' WHERE sha256 = '{sha}'")
    problems = _problems(case_path)
    assert any(sha in p and "no longer match" in p for p in problems), problems


def test_forged_case_is_not_verified_in_the_report(case_path: Path, tmp_path: Path) -> None:
    from examiner.report.builder import build_report_model

    _sql(case_path, "UPDATE regions SET data = replace(data, 'original note', 'forged note') WHERE id = 2")
    with Case.open(case_path, read_only=True) as case:
        model = build_report_model(case)
    assert not model.audit_ok and not model.integrity_ok
    assert "region 2" in model.audit_verification
    assert model.integrity_statement.startswith("THE CASE FILE DOES NOT VERIFY")
    assert any("does not verify" in p.text for p in model.summary)
    assert "intact" not in model.audit_verification.split(".")[0]


def test_writes_refuse_a_case_with_forged_rows(case_path: Path, tmp_path: Path) -> None:
    _sql(case_path, "UPDATE regions SET locked = 1 WHERE id = 1")
    img = tmp_path / "other.png"
    img.write_bytes(encode(pattern(seed=5), "PNG"))
    assert main(["case", "add-evidence", str(case_path), str(img)]) == 3


def test_every_write_records_the_rows_it_left(case_path: Path) -> None:
    with Case.open(case_path, read_only=True) as case:
        entries = {e.action: e for e in case.audit.entries()}
        region_rows = entries["region.added"].params[row_records.ROWS_PARAM]
        assert set(region_rows) == {"regions/2"}
        finding_rows = entries["finding.added"].params[row_records.ROWS_PARAM]
        sha = hashlib.sha256(b"\x89PNG original").hexdigest()
        assert set(finding_rows) == {"findings/1", f"artefacts/{sha}"}
        assert row_records.ROWS_PARAM not in entries["case.opened"].params if "case.opened" in entries else True


def test_legacy_case_opens_and_checks_what_its_log_recorded(legacy_case: Path) -> None:
    with Case.open(legacy_case, read_only=True) as case:
        assert all(row_records.ROWS_PARAM not in e.params for e in case.audit.entries())
        assert case.integrity.ok, case.integrity.problems()
        assert any("predate row hashes" in n for n in case.integrity.rows.notes)
    _sql(legacy_case, "UPDATE regions SET data = replace(data, 'original note', 'forged note') WHERE id = 2")
    assert any("region 2" in p for p in _problems(legacy_case))


@pytest.mark.parametrize("name", ["evidence", "finding", "details", "meta", "inserted", "deleted", "region_lock"])
def test_legacy_case_forgeries_of_recorded_fields_are_caught(legacy_case: Path, name: str) -> None:
    statement, named = FORGERIES[name]
    _sql(legacy_case, statement)
    assert any(named in p for p in _problems(legacy_case))


def test_legacy_case_gets_row_hashes_from_its_next_write(legacy_case: Path) -> None:
    with Case.open(legacy_case) as case:
        r = case.region(1)
        r.notes = "edited"
        case.update_region(r)
        assert case.audit.entries()[-1].params[row_records.ROWS_PARAM] == {
            "regions/1": row_records.row_hash("regions", dict(zip(
                row_records.TRACKED["regions"][1],
                case.conn.execute("SELECT id, evidence_id, data, locked, created_utc, updated_utc FROM regions WHERE id = 1").fetchone(),
                strict=True)))}  # fmt: skip
    with Case.open(legacy_case, read_only=True) as case:
        assert case.integrity.ok
        assert json.loads(case.conn.execute("SELECT data FROM regions WHERE id = 1").fetchone()[0])["notes"] == "edited"


def test_hostile_json_in_a_forged_row_is_a_clear_error(case_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nested = "[" * 50_000 + "]" * 50_000
    _sql(case_path, f"UPDATE regions SET data = '{nested}' WHERE id = 1",
         "UPDATE regions SET data = replace(data, '[1.0,1.0]', '[1e999,1.0]') WHERE id = 2")
    assert any("region 1" in p for p in _problems(case_path))
    for argv in (["case", "verify", str(case_path)], ["case", "show", str(case_path)]):
        capsys.readouterr()
        assert main(argv) in (2, 3)
        err = capsys.readouterr().err
        assert "internal error" not in err and "Traceback" not in err
    _sql(case_path, "UPDATE evidence SET facts = '" + nested + "'")
    capsys.readouterr()
    assert main(["case", "verify", str(case_path)]) == 3
    out = capsys.readouterr().out
    assert "evidence item 1: differs" in out
