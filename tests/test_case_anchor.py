"""Anchors outside the file: an expected head from a report, and Ed25519-signed heads. A full
rewrite of the log (every hash recomputed) passes the file's own checks; these catch it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from imagegen import encode, pattern

from examiner.cli import main
from examiner.core import row_records
from examiner.core.audit import GENESIS_HASH, entry_hash
from examiner.core.case import Case
from examiner.core.regions import Category, Region, ShapeKind


@pytest.fixture
def case_path(tmp_path: Path) -> Path:
    ev = tmp_path / "ev.png"
    ev.write_bytes(encode(pattern(seed=1), "PNG"))
    path = tmp_path / "c.mcase"
    with Case.create(path, "CASE-1", "Dr. Examiner", actor="dr") as case:
        item = case.add_evidence(ev)
        case.add_region(Region(item.id, ShapeKind.RECT, [(1, 1), (10, 8)], [Category.SHAPE],
                               evidence_says="the digit 8", comparison_says="3"))  # fmt: skip
    return path


def _head(path: Path) -> str:
    with Case.open(path, read_only=True) as case:
        e = case.audit.entries()[-1]
    return f"{e.seq}:{e.entry_hash}"


def _rewrite(path: Path, keep: int | None = None, forge: str | None = None, drop_action: str | None = None) -> None:
    """A forger with sqlite3 and this program's formulas: optionally cut the log to ``keep``
    entries, change the region's text in its row and in the entry that recorded it, drop
    entries of one action, and recompute every hash and the stored head."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    rows = conn.execute("SELECT seq, time_utc, actor, action, params FROM audit ORDER BY seq").fetchall()
    if keep is not None:
        rows = rows[:keep]
    if drop_action:
        rows = [r for r in rows if r[3] != drop_action]
    if forge:
        data = json.loads(conn.execute("SELECT data FROM regions WHERE id = 1").fetchone()[0])
        data["evidence_says"] = forge
        conn.execute("UPDATE regions SET data = ? WHERE id = 1", (json.dumps(data, sort_keys=True, separators=(",", ":")),))
        cols = row_records.TRACKED["regions"][1]
        row = dict(zip(cols, conn.execute(f"SELECT {', '.join(cols)} FROM regions WHERE id = 1").fetchone(), strict=True))
    conn.execute("DELETE FROM audit")
    prev = GENESIS_HASH
    for n, (_seq, t, actor, action, params_text) in enumerate(rows, start=1):
        params: dict[str, Any] = json.loads(params_text)
        if forge and action == "region.added":
            params["region"]["evidence_says"] = forge
            params[row_records.ROWS_PARAM]["regions/1"] = row_records.row_hash("regions", row)
        text = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        h = entry_hash(prev, n, t, actor, action, params)
        conn.execute("INSERT INTO audit VALUES (?,?,?,?,?,?,?)", (n, t, actor, action, text, prev, h))
        prev = h
    conn.execute("UPDATE audit_head SET seq = ?, entry_hash = ?", (len(rows), prev))
    conn.commit()
    conn.close()


def test_a_full_rewrite_passes_alone_but_not_against_the_expected_head(case_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = _head(case_path)
    _rewrite(case_path, forge="the digit 3")
    assert main(["case", "verify", str(case_path)]) == 0  # consistent with itself: what the README says
    out = capsys.readouterr().out
    assert "no expected head given" in out
    assert main(["case", "verify", str(case_path), "--expect-head", head]) == 3
    out = capsys.readouterr().out
    assert f"expected head {head}" in out and "rewritten" in out


def test_a_longer_chain_with_the_expected_head_is_fine(case_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = _head(case_path)
    with Case.open(case_path) as case:
        case.update_details(title="more work")
    assert main(["case", "verify", str(case_path), "--expect-head", head]) == 0
    out = capsys.readouterr().out
    assert "matches; the log has" in out and "entries added since then" in out


def test_a_cut_log_fails_against_the_expected_head(case_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Case.open(case_path) as case:
        case.update_details(title="more work")
    head = _head(case_path)
    n = int(head.split(":")[0])
    _rewrite(case_path, keep=n - 2)
    capsys.readouterr()
    assert main(["case", "verify", str(case_path), "--expect-head", head]) == 3
    assert "the log has only" in capsys.readouterr().out


def test_malformed_expected_head_is_a_clear_error(case_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["case", "verify", str(case_path), "--expect-head", "12:nothex"]) == 2
    assert "N:HASH" in capsys.readouterr().err


def test_report_prints_the_head_it_anchors(case_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pypdf import PdfReader

    assert main(["report", str(case_path), "--out", str(tmp_path / "r.pdf"), "--json"]) == 0
    head = json.loads(capsys.readouterr().out)["audit_head"]
    text = "".join(p.extract_text() for p in PdfReader(tmp_path / "r.pdf").pages)
    n, h = head.split(":")
    assert f"entry {n}" in text and h[:32] in text.replace("\n", "")
    assert main(["case", "verify", str(case_path), "--expect-head", head]) == 0


def test_signed_heads_catch_a_rewrite_without_the_key(case_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "examiner.key"
    assert main(["case", "key-generate", "--out", str(key), "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert key.stat().st_mode & 0o077 == 0
    assert main(["case", "key-generate", "--out", str(key)]) == 2  # never overwritten
    pub = made["public_key"]
    assert main(["case", "sign-head", str(case_path), "--key", str(key)]) == 0
    capsys.readouterr()
    assert main(["case", "verify", str(case_path), "--public-key", str(key) + ".pub"]) == 0
    assert "signed by the trusted key" in capsys.readouterr().out
    # Without the key, the forger must either keep the old signature (which no longer matches) ...
    forged = tmp_path / "forged.mcase"
    forged.write_bytes(case_path.read_bytes())
    _rewrite(forged, forge="the digit 3")
    assert main(["case", "verify", str(forged), "--public-key", pub]) == 3
    assert "rewritten after signing" in capsys.readouterr().out
    # ... or drop it, which leaves no signature by the trusted key.
    dropped = tmp_path / "dropped.mcase"
    dropped.write_bytes(case_path.read_bytes())
    _rewrite(dropped, forge="the digit 3", drop_action="audit.head_signed")
    assert main(["case", "verify", str(dropped), "--public-key", pub]) == 3
    assert "no valid signature by the trusted key" in capsys.readouterr().out
    # A signature by another key does not stand in for the examiner's.
    other = tmp_path / "other.key"
    assert main(["case", "key-generate", "--out", str(other)]) == 0
    assert main(["case", "sign-head", str(dropped), "--key", str(other)]) == 0
    capsys.readouterr()
    assert main(["case", "verify", str(dropped), "--public-key", pub]) == 3


def test_an_altered_signature_is_caught(case_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from examiner.core.signing import signature_valid

    key = tmp_path / "k"
    main(["case", "key-generate", "--out", str(key)])
    capsys.readouterr()
    main(["case", "sign-head", str(case_path), "--key", str(key), "--json"])
    record = json.loads(capsys.readouterr().out)
    assert signature_valid(record)
    record["entry_hash"] = "0" * 64
    assert not signature_valid(record)


def test_signed_report_stays_byte_identical_and_records_the_signature(case_path: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from pypdf import PdfReader

    key = tmp_path / "k"
    main(["case", "key-generate", "--out", str(key)])
    pub = (tmp_path / "k.pub").read_text().strip()
    capsys.readouterr()
    for name in ("a.pdf", "b.pdf"):
        assert main(["report", str(case_path), "--out", str(tmp_path / name), "--sign-key", str(key)]) == 0
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    text = "".join(p.extract_text() for p in PdfReader(tmp_path / "a.pdf").pages).replace("\n", "")
    assert "Signature" in text and pub[:24] in text
    with Case.open(case_path, read_only=True) as case:
        exports = [e for e in case.audit.entries() if e.action == "report.exported"]
    assert exports[-1].params["head_signature"]["public_key"] == pub
    assert main(["case", "verify", str(case_path), "--public-key", pub]) == 0
