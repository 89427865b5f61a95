"""The hash-chained audit log: formula, verification, tamper detection through the CLI."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from imagegen import encode, pattern

from examiner.cli import main
from examiner.core.audit import GENESIS_HASH, AuditLog, canonical_json
from examiner.core.case import Case
from examiner.core.regions import Category, Region, ShapeKind


@pytest.fixture
def case_path(tmp_path: Path) -> Path:
    img = tmp_path / "evidence.png"
    img.write_bytes(encode(pattern(), "PNG"))
    path = tmp_path / "audit.mcase"
    with Case.create(path, "A-1", "Examiner One", actor="examiner1") as case:
        item = case.add_evidence(img)
        case.add_region(Region(item.id, ShapeKind.RECT, [(1, 1), (9, 9)], [Category.SHAPE], evidence_says="8", comparison_says="3"))
        case.add_finding(item.id, "detection", {"score": 0.25})
        for i in range(3):
            case.log_action("test.marker", {"marker": f"MARK{i:03d}XYZ"})
    return path


def raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    return conn


def test_entry_hash_follows_the_documented_formula(case_path: Path) -> None:
    with Case.open(case_path, record=False) as case:
        entries = case.audit.entries()
    prev = GENESIS_HASH
    for e in entries:
        body = canonical_json({"seq": e.seq, "time_utc": e.time_utc, "actor": e.actor, "action": e.action, "params": e.params})
        assert e.prev_hash == prev
        assert e.entry_hash == hashlib.sha256((prev + body).encode("utf-8")).hexdigest()
        assert e.time_utc.endswith("Z")
        prev = e.entry_hash
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    actions = [e.action for e in entries]
    assert actions[:4] == ["case.created", "evidence.added", "region.added", "finding.added"]


def test_log_is_append_only_in_the_database(case_path: Path) -> None:
    conn = sqlite3.connect(case_path, isolation_level=None)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit SET actor = 'x' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit WHERE seq = 2")
    conn.close()


@pytest.mark.parametrize("column", ["time_utc", "actor", "action", "params", "prev_hash", "entry_hash"])
def test_any_altered_field_is_caught_at_that_entry(case_path: Path, tmp_path: Path, column: str) -> None:
    with Case.open(case_path, record=False) as case:
        n = len(case.audit.entries())
    for seq in range(1, n + 1):
        copy = tmp_path / f"copy-{column}-{seq}.mcase"
        shutil.copy(case_path, copy)
        conn = raw(copy)
        value = conn.execute(f"SELECT {column} FROM audit WHERE seq = ?", (seq,)).fetchone()[0]
        flipped = value[:-2] + chr(ord(value[-2]) ^ 1) + value[-1]
        conn.execute(f"UPDATE audit SET {column} = ? WHERE seq = ?", (flipped, seq))
        conn.close()
        report = AuditLog(sqlite3.connect(copy)).verify()
        assert not report.ok and report.first_bad == seq, (column, seq, report)


def test_removed_and_reordered_entries_are_caught(case_path: Path, tmp_path: Path) -> None:
    middle = tmp_path / "middle.mcase"
    shutil.copy(case_path, middle)
    conn = raw(middle)
    conn.execute("DELETE FROM audit WHERE seq = 3")
    conn.close()
    report = AuditLog(sqlite3.connect(middle)).verify()
    assert not report.ok and report.first_bad == 4 and "missing" in report.problem

    tail = tmp_path / "tail.mcase"
    shutil.copy(case_path, tail)
    conn = raw(tail)
    last = conn.execute("SELECT max(seq) FROM audit").fetchone()[0]
    conn.execute("DELETE FROM audit WHERE seq = ?", (last,))
    conn.close()
    report = AuditLog(sqlite3.connect(tail)).verify()
    assert not report.ok and report.first_bad == last and "removed from the end" in report.problem


def _flip_byte_in_file(path: Path, needle: bytes, index: int) -> None:
    data = bytearray(path.read_bytes())
    assert data.count(needle) == 1, f"{needle!r} occurs {data.count(needle)} times"
    pos = data.index(needle) + index
    original = data[pos]
    data[pos] = original ^ 0x01 if chr(original ^ 0x01).isprintable() else original ^ 0x02
    path.write_bytes(bytes(data))


def test_flipping_one_byte_on_disk_in_any_entry_fails_verify_naming_it(
    case_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Case.open(case_path, record=False) as case:
        entries = case.audit.entries()
    assert main(["case", "verify", str(case_path)]) == 0
    capsys.readouterr()
    baseline = tmp_path / "baseline.mcase"
    shutil.copy(case_path, baseline)  # verify appended an entry to case_path; flip in a fresh copy
    for e in entries:
        targets = {
            "params": (canonical_json(e.params).encode(), 2),
            "action": (e.action.encode() + canonical_json(e.params).encode(), 1),
            "time": (e.time_utc.encode() + e.actor.encode(), 20),
            "prev_hash": ((e.prev_hash + e.entry_hash).encode(), 10),
            "entry_hash": ((e.prev_hash + e.entry_hash).encode(), 64 + 30),
        }
        for what, (needle, index) in targets.items():
            copy = tmp_path / f"flip-{e.seq}-{what}.mcase"
            shutil.copy(baseline, copy)
            _flip_byte_in_file(copy, needle, index)
            rc = main(["case", "verify", str(copy)])
            err = capsys.readouterr().err
            assert rc != 0, (e.seq, what)
            assert f"entry {e.seq}" in err, (e.seq, what, err)
            assert err.count("\n") == 1 and "Traceback" not in err


def test_verify_json_names_first_bad_entry(case_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conn = raw(case_path)
    conn.execute("UPDATE audit SET params = ? WHERE seq = 2", ('{"path":"/elsewhere"}',))
    conn.close()
    rc = main(["case", "verify", str(case_path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 3
    assert out["ok"] is False and out["chain"]["first_bad"] == 2
    # The broken chain is never repaired: a second verify still fails at the same entry.
    rc = main(["case", "verify", str(case_path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 3 and out["chain"]["first_bad"] == 2


def test_broken_chain_blocks_further_cli_changes(case_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conn = raw(case_path)
    conn.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 1")
    conn.close()
    img = tmp_path / "more.png"
    img.write_bytes(encode(pattern(seed=5), "PNG"))
    rc = main(["case", "add-evidence", str(case_path), str(img)])
    err = capsys.readouterr().err
    assert rc != 0 and "entry 1" in err
    with Case.open(case_path, record=False) as case:
        assert len(case.evidence()) == 1
        assert not case.integrity.ok
