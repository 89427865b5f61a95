"""Reads while another process writes: no false tamper alarm, and none written into the log.

Verifying reads the entries, the stored head and every table row; read in separate statements,
a commit in between made an intact case look cut off or forged. Every check now reads one
snapshot, and an open that records its check does so only for the state it checked.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from imagegen import encode, pattern

from examiner.core.case import Case

WRITER = r"""
import sys, time
from pathlib import Path
from examiner.core.case import Case
from examiner.core.regions import Category, Region, ShapeKind
path, stop = Path(sys.argv[1]), Path(sys.argv[2])
n = 0
with Case.open(path, actor="writer", record=False) as case:
    while not stop.exists():
        n += 1
        r = case.add_region(Region(1, ShapeKind.RECT, [(1, 1), (5 + n % 20, 6)], [Category.SHAPE],
                                   evidence_says=f"w{n}", comparison_says="c"))
        case.set_meta("progress", {"n": n})
        if n % 3 == 0:
            case.delete_region(r.id)
        print(n, flush=True)
        time.sleep(0.002)  # a tight loop would starve every other writer's busy handler
"""


@pytest.mark.slow
def test_fifty_reads_beside_a_writer_raise_no_false_alarm(tmp_path: Path) -> None:
    ev = tmp_path / "ev.png"
    ev.write_bytes(encode(pattern(seed=1), "PNG"))
    path = tmp_path / "c.mcase"
    with Case.create(path, "CASE-1", "Dr. Examiner", actor="dr") as case:
        case.add_evidence(ev)
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert writer.stdout is not None
        writer.stdout.readline()  # writing has begun
        alarms = []
        for round_no in range(50):
            # Mostly read-only opens; every fifth one records its check, as `case verify` does.
            with Case.open(path, actor="reader", read_only=round_no % 5 != 4) as case:
                if not case.integrity.ok:
                    alarms.append((round_no, case.integrity.problems()))
        stop.touch()
        out, err = writer.communicate(timeout=60)
    finally:
        stop.touch()
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == 0, err
    writes = int(out.split()[-1]) if out.split() else 0
    assert writes >= 5, "the writer barely ran, so the test proved nothing"
    print(f"{writes} writer rounds during 50 opens, {len(alarms)} alarms")
    assert alarms == []
    with Case.open(path, read_only=True) as case:
        assert case.integrity.ok, case.integrity.problems()
        checks = [e for e in case.audit.entries() if e.action == "case.opened"]
        assert len(checks) == 10
        assert all(e.params["ok"] is True for e in checks), "a false alarm was written into the log"


def test_audit_log_verify_reads_entries_and_head_in_one_transaction(tmp_path: Path) -> None:
    from examiner.core.audit import AuditLog

    path = tmp_path / "c.mcase"
    Case.create(path, "CASE-1", "Dr. Examiner", actor="dr").close()
    import sqlite3

    statements: list[str] = []
    conn = sqlite3.connect(path, isolation_level=None)
    conn.set_trace_callback(statements.append)
    assert AuditLog(conn).verify().ok
    conn.close()
    assert statements[0] == "BEGIN" and statements[-1] == "COMMIT"
    assert sum("FROM audit" in s for s in statements) == 2
    time.sleep(0)
