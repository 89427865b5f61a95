"""A case written by a process that is killed (SIGKILL) mid-write opens in its last committed
state with an intact audit chain, every time."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import random
import signal
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from imagegen import encode, pattern

from examiner.core.case import Case
from examiner.core.regions import Category, Region, ShapeKind

KILLS = 30

def writer(path: str, conn: Connection) -> None:
    """Child process: write continuously, reporting each committed finding id on the pipe."""
    case = Case.open(path, actor="writer", record=False)
    i = len(case.findings())
    conn.send("ready")
    while True:
        i += 1
        f = case.add_finding(1, "detection", {"i": i, "pad": "x" * 2000}, {f"map{i}.bin": bytes([i % 256]) * 5000})
        conn.send(f.id)
        r = case.add_region(Region(1, ShapeKind.RECT, [(1, 1), (5 + i % 20, 6)], [Category.SHAPE], evidence_says=str(i)))
        r.notes = "edited"
        case.update_region(r)
        case.set_meta("counter", i)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork are POSIX")
def test_sigkill_during_writes_leaves_last_committed_state(tmp_path: Path) -> None:
    img = tmp_path / "evidence.png"
    img.write_bytes(encode(pattern(), "PNG"))
    path = tmp_path / "crash.mcase"
    with Case.create(path, "K", "E") as case:
        case.add_evidence(img)
    # A forked child is a real OS process killed with a real SIGKILL; forking spares it the
    # interpreter start-up and imports, so many kills fit in a few seconds.
    ctx = multiprocessing.get_context("fork")
    rng = random.Random(1234)
    last_reported = 0
    for kill in range(KILLS):
        parent_end, child_end = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=writer, args=(str(path), child_end), daemon=True)
        proc.start()
        child_end.close()
        assert parent_end.poll(30) and parent_end.recv() == "ready"
        time.sleep(rng.uniform(0.02, 0.3))
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(30)
        assert proc.exitcode == -signal.SIGKILL
        try:
            while parent_end.poll(0):
                last_reported = parent_end.recv()
        except (EOFError, OSError, pickle.UnpicklingError):
            pass  # a message cut off by the kill was never a confirmed commit
        parent_end.close()
        with Case.open(path, record=False) as case:
            assert case.integrity.chain.ok, (kill, case.integrity.chain.summary())
            findings = case.findings()
            # Everything reported as committed is there; at most the write in flight is extra.
            assert last_reported <= len(findings) <= last_reported + 1, (kill, last_reported, len(findings))
            entries = case.audit.entries()
            # Change and audit entry commit together: counts match exactly.
            assert sum(e.action == "finding.added" for e in entries) == len(findings)
            assert sum(e.action == "region.added" for e in entries) == len(case.regions())
            for f in findings[-3:]:
                for sha in f.artefacts.values():
                    case.get_artefact(sha)
            last_reported = len(findings)
    assert last_reported >= KILLS  # the writers really were writing when they were killed
    with Case.open(path) as case:
        assert case.integrity.ok
