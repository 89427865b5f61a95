"""The attacks of an opposing expert on a case and its report, each re-run as it was run: the
case is built with the command line, the attack made with sqlite3 or plain file operations, and
the outcome checked (a refusal, or a finding that names what was done). See
docs/reference/integrity.md for the list."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from imagegen import encode, pattern

from examiner.cli import main
from examiner.core import row_records
from examiner.core.audit import entry_hash
from examiner.core.case import Case
from examiner.core.case_tx import LockWait
from examiner.errors import CaseError

# ---------------------------------------------------------------------------- helpers


def _case(folder: Path, name: str = "c", seed: int = 1, examiner: str = "Dr. Examiner") -> tuple[Path, Path]:
    """A case made with the CLI: one evidence image and one region."""
    folder.mkdir(parents=True, exist_ok=True)
    ev = folder / f"{name}-evidence.png"
    ev.write_bytes(encode(pattern(seed=seed), "PNG"))
    path = folder / f"{name}.mcase"
    assert main(["case", "create", str(path), "--case-id", name.upper(), "--examiner", examiner,
                 "--evidence", str(ev), "--actor", "dr"]) == 0  # fmt: skip
    assert main(["case", "add-region", str(path), "--evidence", "1", "--rect", "1,1,9,7", "--category", "shape",
                 "--symbol", "--evidence-says", "the digit 8", "--comparison-says", "the digit 3",
                 "--actor", "dr"]) == 0  # fmt: skip
    return path, ev


def _report(case: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    rc = main(["report", str(case), "--out", str(out), "--json", *extra])
    text = capsys.readouterr().out
    return rc, (json.loads(text) if text.strip().startswith("{") else {})


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(path).pages)


def _append_forged(path: Path, action: str, params: dict[str, Any]) -> int:
    """Append one entry the way a forger with sqlite3 and this program's formulas would."""
    conn = sqlite3.connect(path)
    seq, prev, t = conn.execute("SELECT seq, entry_hash, time_utc FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq += 1
    h = entry_hash(prev, seq, t, "dr", action, params)
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    conn.execute("INSERT INTO audit VALUES (?,?,?,?,?,?,?)", (seq, t, "dr", action, text, prev, h))
    conn.execute("UPDATE audit_head SET seq = ?, entry_hash = ?", (seq, h))
    conn.commit()
    conn.close()
    return int(seq)


def _change_region(path: Path, says: str) -> str:
    """Change region 1 with sqlite3; returns the new row's hash as the program computes it."""
    conn = sqlite3.connect(path)
    data = json.loads(conn.execute("SELECT data FROM regions WHERE id = 1").fetchone()[0])
    data["evidence_says"] = says
    conn.execute("UPDATE regions SET data = ? WHERE id = 1", (json.dumps(data, sort_keys=True, separators=(",", ":")),))
    cols = row_records.TRACKED["regions"][1]
    row = dict(zip(cols, conn.execute(f"SELECT {', '.join(cols)} FROM regions WHERE id = 1").fetchone(), strict=True))
    conn.commit()
    conn.close()
    return row_records.row_hash("regions", row)


def _model(path: Path) -> Any:
    from examiner.report.builder import build_report_model

    with Case.open(path, read_only=True) as case:
        return build_report_model(case)


# ---------------------------------------------------------------------------- 1: a change hidden as an observation


@pytest.mark.parametrize("action, params", [
    ("report.exported", {"integrity_ok": True, "path": "/tmp/r.pdf", "sha256": "0" * 64}),
    ("case.opened", {"ok": True, "chain": "audit chain intact", "rows": "all rows match", "files": []}),
])  # fmt: skip
def test_1_a_change_logged_as_an_observation_is_named_and_not_hidden_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], action: str, params: dict[str, Any]
) -> None:
    path, _ = _case(tmp_path)
    assert main(["case", "key-generate", "--out", str(tmp_path / "examiner.key")]) == 0
    rc, genuine = _report(path, tmp_path / "genuine.pdf", capsys, "--sign-key", str(tmp_path / "examiner.key"))
    assert rc == 0 and genuine["audit_head"]
    new_hash = _change_region(path, "the digit 3")
    forged_seq = _append_forged(path, action, {**params, row_records.ROWS_PARAM: {"regions/1": new_hash}})

    capsys.readouterr()
    rc = main(["case", "verify", str(path), "--expect-head", genuine["audit_head"],
               "--public-key", str(tmp_path / "examiner.key.pub")])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 3
    assert f"audit entry {forged_seq} ({action}) records changed table rows" in out and "forged" in out

    rc, forged = _report(path, tmp_path / "forged.pdf", capsys)
    assert rc == 3
    # The anchor moves past the forged entry (to it, or to a later failed check, which is listed too).
    assert forged["audit_head"] != genuine["audit_head"] and int(forged["audit_head"].split(":")[0]) >= forged_seq
    model = _model(path)
    assert forged_seq in [row.seq for row in model.audit]
    assert not model.integrity_ok and "DOES NOT MATCH" in model.audit_verification
    assert "intact" not in model.audit_verification


def test_1_a_change_under_a_change_action_gets_a_new_anchor_and_is_listed(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """The same forgery under an action that does change the case: the chain and rows verify,
    which an anchor taken earlier cannot prevent, but the entry is named after the anchor and the
    new report anchors and lists it."""
    path, _ = _case(tmp_path)
    rc, genuine = _report(path, tmp_path / "genuine.pdf", capsys)
    new_hash = _change_region(path, "the digit 3")
    forged_seq = _append_forged(path, "region.updated", {"region_id": 1, row_records.ROWS_PARAM: {"regions/1": new_hash}})
    capsys.readouterr()
    assert main(["case", "verify", str(path), "--expect-head", genuine["audit_head"]]) == 0
    assert f"changed the case: {forged_seq} (region.updated)" in capsys.readouterr().out
    rc, forged = _report(path, tmp_path / "forged.pdf", capsys)
    assert forged["audit_head"].startswith(f"{forged_seq}:") and forged["audit_head"] != genuine["audit_head"]
    assert forged_seq in [row.seq for row in _model(path).audit]


# ---------------------------------------------------------------------------- 2: report over another case's evidence


def test_2_report_over_an_evidence_file_of_a_case_in_the_same_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, _ = _case(tmp_path / "a", "a", seed=1)
    b, b_evidence = _case(tmp_path / "b", "b", seed=2)
    before = b_evidence.read_bytes()
    capsys.readouterr()
    assert main(["report", str(a), "--out", str(b_evidence)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    # Through a hard link in a third folder, too (same device and inode).
    os.link(b_evidence, tmp_path / "b" / "linked.pdf")
    assert main(["report", str(a), "--out", str(tmp_path / "b" / "linked.pdf")]) == 2
    # The preview pages: a page named like B's evidence in B's folder.
    (tmp_path / "b" / "report-page1.png").symlink_to(b_evidence)
    assert main(["report", str(a), "--out", str(tmp_path / "a" / "report.pdf"), "--preview", str(tmp_path / "b")]) == 2
    assert not (tmp_path / "a" / "report.pdf").exists()
    assert b_evidence.read_bytes() == before
    assert main(["case", "verify", str(b)]) == 0


def test_2_report_over_an_evidence_file_of_a_recent_case_is_refused(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from examiner.core.settings import Settings

    a, _ = _case(tmp_path / "a", "a", seed=1)
    b, b_evidence = _case(tmp_path / "b", "b", seed=2)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "out.pdf").symlink_to(b_evidence)
    before = b_evidence.read_bytes()
    settings = Settings.load()
    settings.add_recent_case(b)
    settings.save()
    capsys.readouterr()
    assert main(["report", str(a), "--out", str(elsewhere / "out.pdf")]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert b_evidence.read_bytes() == before


# ---------------------------------------------------------------------------- 3: wrong column types, dropped tables


@pytest.mark.parametrize("sql, named", [
    ("UPDATE case_details SET value = CAST(value AS BLOB) WHERE key = 'examiner'", "wrong type in value (a BLOB"),
    ("UPDATE regions SET data = CAST(data AS BLOB)", "region 1: stored with the wrong type"),
    ("UPDATE evidence SET path = CAST(path AS BLOB)", "evidence item 1: stored with the wrong type in path"),
    ("DROP TABLE regions", "the regions table is missing"),
    ("DROP TABLE evidence", "the evidence table is missing"),
    ("DROP TABLE audit_head", "no such table: audit_head"),
])  # fmt: skip
def test_3_wrong_types_and_missing_tables_are_named_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             sql: str, named: str) -> None:  # fmt: skip
    path, _ = _case(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute(sql)
    conn.commit()
    conn.close()
    capsys.readouterr()
    assert main(["case", "verify", str(path)]) == 3
    captured = capsys.readouterr()
    assert named in captured.out + captured.err and "internal error" not in captured.err
    assert main(["report", str(path), "--out", str(tmp_path / "r.pdf")]) == 3
    err = capsys.readouterr().err
    assert "no report is made" in err and named in err
    assert not (tmp_path / "r.pdf").exists()


# ---------------------------------------------------------------------------- 4 and 9: names


def test_4_overlong_names_are_refused_at_intake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ev = tmp_path / "ev.png"
    ev.write_bytes(encode(pattern(seed=1), "PNG"))
    long_name = "A" * 3000
    assert main(["case", "create", str(tmp_path / "x.mcase"), "--case-id", "X", "--examiner", long_name]) == 2
    assert "at most 200" in capsys.readouterr().err and not (tmp_path / "x.mcase").exists()
    path, _ = _case(tmp_path)
    assert main(["report", str(path), "--out", str(tmp_path / "r.pdf"), "--reviewer", long_name]) == 2
    assert "reviewer's name is 3,000 characters" in capsys.readouterr().err
    assert main(["case", "log", str(path), "--actor", "\n".join(["line"] * 100)]) == 2


def test_4_a_long_name_already_in_a_case_is_cut_and_kept_on_one_line(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from examiner.report.model import META_REVIEWER

    path, _ = _case(tmp_path, examiner="\n".join(["Examiner"] * 22))  # 200 characters, 22 lines
    with Case.open(path, actor="dr") as case:
        case.set_meta(META_REVIEWER, "\n".join(["Reviewer line"] * 100))  # 1,399 characters, 100 lines
    rc, result = _report(path, tmp_path / "r.pdf", capsys)
    assert rc == 0 and result["pages"] >= 1
    model = _model(path)
    assert "\n" not in model.examiner and "\\x0a" in model.examiner
    assert "\n" not in model.reviewer and "[cut: 1,399 characters in total]" in model.reviewer


def test_9_a_newline_in_an_actor_name_cannot_forge_a_log_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = _case(tmp_path)
    fake = "dr\n   99  2026-01-01T00:00:00.000000Z  admin  evidence.removed  {}\x07\u202e"
    assert main(["case", "add-region", str(path), "--evidence", "1", "--rect", "2,2,5,5", "--category", "shape",
                 "--evidence-says", "a", "--comparison-says", "b", "--actor", fake]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["case", "log", str(path)]) == 0
    out = capsys.readouterr().out
    with Case.open(path, read_only=True) as case:
        entries = case.audit.entries()
    assert len(out.splitlines()) == len(entries) + 1  # one line per entry and the chain summary
    assert "evidence.removed" in out and "dr\\x0a   99" in out and "\x07" not in out and "\u202e" not in out
    actors = [row.actor for row in _model(path).audit]
    assert any("dr\\x0a" in a for a in actors) and not any("\n" in a for a in actors)


# ---------------------------------------------------------------------------- 5: an emptied case


def test_5_an_emptied_case_is_broken(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = _case(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_no_delete")
    for table in ("audit", "audit_head", "regions", "findings", "artefacts", "meta", "evidence", "case_details"):
        conn.execute(f"DELETE FROM {table}")
    conn.commit()
    conn.close()
    capsys.readouterr()
    assert main(["case", "verify", str(path)]) == 3
    assert "does not begin with the case's creation" in capsys.readouterr().out
    rc, _ = _report(path, tmp_path / "r.pdf", capsys)
    assert rc == 3
    assert "AUDIT CHAIN BROKEN" in _model(path).audit_verification


# ---------------------------------------------------------------------------- 6: ids with a trailing newline


def test_6_ids_with_a_trailing_newline_are_refused() -> None:
    from examiner.codecs.packs import CODEC_ID_RE
    from examiner.codecs.weights import WEIGHT_NAME_RE
    from examiner.core.anchor import parse_head
    from examiner.training.exercise_pack import _safe_id

    with pytest.raises(ValueError, match="not a safe name"):
        _safe_id("01\n")
    assert CODEC_ID_RE.fullmatch("demo\n") is None and CODEC_ID_RE.fullmatch("demo") is not None
    assert WEIGHT_NAME_RE.fullmatch("model-0123abcd.pth\n") is None
    assert parse_head(f" 3:{'a' * 64}\n").seq == 3  # surrounding white space is allowed on purpose
    # The exercise pack with item id "01\n" is refused by test_untrusted_inputs (bad_id "01\n").


# ---------------------------------------------------------------------------- 7: names SQLite owns


@pytest.mark.parametrize("suffix", ["-journal", "-wal", "-shm"])
def test_7_output_names_sqlite_owns_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str) -> None:
    path, _ = _case(tmp_path / "a", "a")
    other, _ = _case(tmp_path / "a", "other", seed=2)
    for target in (Path(f"{path}{suffix}"), Path(f"{other}{suffix}"), tmp_path / f"unknown.mcase{suffix}"):
        capsys.readouterr()
        assert main(["report", str(path), "--out", str(target)]) == 2
        assert "SQLite keeps for a case file's journal" in capsys.readouterr().err
        assert not target.exists()
    assert main(["report", str(path), "--out", str(other)]) == 2  # a case file itself
    assert main(["case", "verify", str(path)]) == 0 and main(["case", "verify", str(other)]) == 0


# ---------------------------------------------------------------------------- 8: hostile PNG text and XMP


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + ctype + body + zlib.crc32(ctype + body).to_bytes(4, "big")


def _with_chunk(png: bytes, chunk: bytes, after_idat: bool = False) -> bytes:
    """Insert before the first IDAT, or just before IEND."""
    at = png.rindex(b"IEND") - 4 if after_idat else png.index(b"IDAT") - 4
    return png[:at] + chunk + png[at:]


HOSTILE_TEXT = b"Comment\x00<script>alert(1)</script>\x1b[2J"


@pytest.mark.parametrize("where", ["before", "after"])
def test_8_hostile_png_text_is_a_notice_wherever_it_sits(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         where: str) -> None:  # fmt: skip
    img = tmp_path / "text.png"
    img.write_bytes(_with_chunk(encode(pattern(seed=4), "PNG"), _png_chunk(b"tEXt", HOSTILE_TEXT), where == "after"))
    capsys.readouterr()
    assert main(["inspect", str(img), "--json"]) == 4  # suspicious metadata
    report = json.loads(capsys.readouterr().out)
    assert report["text_chunks"]["Comment"] == "<script>alert(1)</script>\\x1b[2J"
    notices = " | ".join(report["metadata_notices"])
    assert "control characters" in notices and "markup" in notices
    assert ("after the image data" in notices) == (where == "after")


def test_8_xmp_with_escape_and_bidi_controls_is_a_notice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    packet = "<x:xmpmeta>\x1b]0;owned\x07 \u202eevil</x:xmpmeta>".encode()
    img = tmp_path / "xmp.png"
    img.write_bytes(_with_chunk(encode(pattern(seed=4), "PNG"), _png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + packet)))
    capsys.readouterr()
    assert main(["inspect", str(img), "--json"]) == 4
    report = json.loads(capsys.readouterr().out)
    assert "\\u202eevil" in report["xmp"]["text"]
    notices = " | ".join(report["metadata_notices"])
    assert "XMP: contains NUL or control characters" in notices and "XMP: contains bidirectional" in notices


def test_8_a_ztxt_bomb_before_the_pixels_is_a_notice_and_the_image_stays_examinable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from examiner.core.evidence import open_evidence

    clean = encode(pattern(seed=4), "PNG")
    bomb = _png_chunk(b"zTXt", b"Bomb\x00\x00" + zlib.compress(b"A" * (64 << 20), 9))
    img = tmp_path / "bomb.png"
    img.write_bytes(_with_chunk(clean, bomb))
    (tmp_path / "clean.png").write_bytes(clean)
    assert np.array_equal(open_evidence(img).pixels, open_evidence(tmp_path / "clean.png").pixels)
    capsys.readouterr()
    assert main(["inspect", str(img), "--json"]) == 4
    notices = " | ".join(json.loads(capsys.readouterr().out)["metadata_notices"])
    assert "possible decompression bomb" in notices
    path, _ = _case(tmp_path)
    assert main(["case", "add-evidence", str(path), str(img)]) == 0


# ---------------------------------------------------------------------------- a writer holding the case


def _hold_write_lock(path: Path, seconds: float) -> threading.Thread:
    ready = threading.Event()

    def hold() -> None:
        # A writer in the middle of its transaction: readers go on, other writers must wait.
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        ready.set()
        threading.Event().wait(seconds)
        conn.execute("COMMIT")
        conn.close()

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    ready.wait(10)
    return t


def test_verify_waits_for_a_writer_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = _case(tmp_path)
    capsys.readouterr()
    holder = _hold_write_lock(path, 1.5)
    assert main(["case", "verify", str(path)]) == 0
    holder.join()
    assert "another program is writing to the case; waiting up to" in capsys.readouterr().err


def test_a_write_gives_up_after_its_bound_with_a_clear_message(tmp_path: Path) -> None:
    path, _ = _case(tmp_path)
    holder = _hold_write_lock(path, 3.0)
    told: list[str] = []
    with pytest.raises(CaseError, match="kept the case locked for 0.5 s"):
        Case.open(path, actor="dr", lock_wait=LockWait(0.5, told.append))
    holder.join()
    assert told and "waiting up to 0.5 s" in told[0]


# ---------------------------------------------------------------------------- polygon vertices


def test_polygons_are_bounded_at_intake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from examiner.core.regions import MAX_POLYGON_VERTICES

    path, _ = _case(tmp_path)
    n = MAX_POLYGON_VERTICES + 1
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    coords = ",".join(f"{20 + 10 * np.cos(a):.3f},{16 + 10 * np.sin(a):.3f}" for a in angles)
    capsys.readouterr()
    assert main(["case", "add-region", str(path), "--evidence", "1", "--polygon", coords, "--category", "shape",
                 "--evidence-says", "a", "--comparison-says", "b"]) == 2  # fmt: skip
    assert f"at most {MAX_POLYGON_VERTICES:,} vertices, not {n:,}" in capsys.readouterr().err
