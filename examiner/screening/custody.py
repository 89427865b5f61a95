"""Chain of custody of a results file: the log's hash chain, then every row against the log.

Each log entry lists the rows its transaction committed with a digest of each row's content.
Replaying the log gives, per row, the digest of its last committed state; every row in the file
must match it, and every row the log names must exist. A row changed, added or removed outside
the program therefore shows up by name, as does any entry of the log that was altered. With
``rehash`` every input file is read again (read-only) and its SHA-256 compared with the row.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from examiner.core.audit import ChainReport
from examiner.screening import store
from examiner.screening.store import ResultsFile

MAX_LISTED = 25
_PAGE = 500


@dataclass
class VerifyReport:
    chain: ChainReport
    rows_checked: int = 0
    files_rehashed: int = 0
    problems: list[str] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    def summary(self) -> str:
        if self.ok:
            extra = f", {self.files_rehashed} input files re-hashed and unchanged" if self.files_rehashed else ""
            return f"{self.chain.summary()}; {self.rows_checked} rows match the log{extra}"
        parts = [self.chain.summary()] + self.problems
        if self.more_problems:
            parts.append(f"... and {self.more_problems} more problems")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


def verify_log(rf: ResultsFile) -> ChainReport:
    return rf.log.verify()


def _check_meta(rf: ResultsFile, report: VerifyReport) -> None:
    """What the run was told (sources, versions, options) must be what its first entry recorded."""
    first = rf.log.entries(limit=1)
    if not first or first[0].action != "screening.created":
        report.add("the log does not begin with the creation of the results file")
        return
    created = first[0].params
    meta = rf.meta()
    for key, value in meta.items():
        if key == "walk_complete":
            continue
        if created.get(key) != value:
            report.add(f"the file's {key!r} differs from what log entry 1 recorded (altered)")
    if meta.get("walk_complete") and not rf.conn.execute(
        "SELECT 1 FROM audit WHERE action = 'files.found' AND params LIKE '%\"walk_complete\":true%' LIMIT 1"
    ).fetchone():  # fmt: skip
        report.add("the file says its walk is complete, but no log entry records that (altered)")


def _replay(rf: ResultsFile) -> None:
    """The last logged digest of every row, in temporary tables (bounded memory for large runs)."""
    c = rf.conn
    c.execute("CREATE TEMP TABLE IF NOT EXISTS logged (kind TEXT, key TEXT, digest TEXT, seq INTEGER, PRIMARY KEY (kind, key))")
    c.execute("DELETE FROM temp.logged")
    since = 0
    while True:
        entries = rf.log.entries(since=since, limit=_PAGE)
        if not entries:
            break
        for e in entries:
            rows: list[tuple[str, str, str, int]] = []
            p = e.params
            for item in p.get("files", []) if e.action in ("files.found", "files.hashed") else []:
                rows.append(("file", str(item[0]), str(item[-1]), e.seq))
            for item in p.get("analyses", []) if e.action in ("files.hashed", "analyses.recorded") else []:
                rows.append(("analysis", str(item[0]), str(item[-1]), e.seq))
            if e.action == "followup.recorded":
                rows.append(("followup", f"{p.get('sha256')}/{p.get('kind')}", str(p.get("digest")), e.seq))
            c.executemany("INSERT OR REPLACE INTO temp.logged (kind, key, digest, seq) VALUES (?,?,?,?)", rows)
        since = entries[-1].seq


def verify(rf: ResultsFile, rehash: bool = False) -> VerifyReport:
    report = VerifyReport(verify_log(rf))
    try:
        _check_rows(rf, report, rehash)
    except sqlite3.DatabaseError as exc:
        # A table dropped or damaged with sqlite3: named, with the verification failed.
        report.add(f"the results file's tables are missing or unreadable ({exc}; altered outside the program)")
    return report


def _check_rows(rf: ResultsFile, report: VerifyReport, rehash: bool) -> None:
    _check_meta(rf, report)
    _replay(rf)
    c = rf.conn
    checks: tuple[tuple[str, str, Callable[[tuple[Any, ...]], str], Callable[[tuple[Any, ...]], str]], ...] = (
        ("file", f"SELECT {', '.join(store.FILE_COLUMNS)} FROM files", store.file_digest, lambda r: str(r[0])),
        ("analysis", f"SELECT {', '.join(store.ANALYSIS_COLUMNS)} FROM analyses", store.analysis_digest, lambda r: str(r[0])),
        ("followup", f"SELECT {', '.join(store.FOLLOWUP_COLUMNS)} FROM followups", store.followup_digest,
         lambda r: f"{r[0]}/{r[1]}"),
    )  # fmt: skip
    for kind, sql, digest_of, key_of in checks:
        for r in c.execute(sql).fetchall() if kind != "file" else c.execute(sql):
            report.rows_checked += 1
            key = key_of(r)
            logged = c.execute("SELECT digest, seq FROM temp.logged WHERE kind = ? AND key = ?", (kind, key)).fetchone()
            name = f"{kind} row {key}" + (f" ({r[1]})" if kind == "file" else "")
            try:
                digest = digest_of(r)
            except (TypeError, ValueError):
                report.add(f"{name} holds a value of a type the program never writes (altered outside the program)")
                continue
            if logged is None:
                report.add(f"{name} is not recorded in the log (added outside the program)")
            elif logged[0] != digest:
                report.add(f"{name} differs from what log entry {logged[1]} recorded (altered)")
    for kind, table, col in (("file", "files", "CAST(id AS TEXT)"), ("analysis", "analyses", "sha256"),
                             ("followup", "followups", "sha256 || '/' || kind")):  # fmt: skip
        for key, seq in c.execute(
            f"SELECT key, seq FROM temp.logged WHERE kind = ? AND key NOT IN (SELECT {col} FROM main.{table})", (kind,)
        ):  # fmt: skip
            report.add(f"{kind} row {key}, recorded in log entry {seq}, is missing from the file (removed)")
    _check_blobs(rf, report)
    if rehash:
        _rehash(rf, report)


def _check_blobs(rf: ResultsFile, report: VerifyReport) -> None:
    for sha, kind, blob, blob_sha in rf.conn.execute("SELECT sha256, kind, blob, blob_sha256 FROM followups WHERE blob IS NOT NULL"):
        if hashlib.sha256(bytes(blob)).hexdigest() != blob_sha:
            report.add(f"the {kind} stored for {sha[:16]}... does not match its recorded SHA-256 (altered)")


def _rehash(rf: ResultsFile, report: VerifyReport) -> None:
    from examiner.screening.tasks import hash_one

    for fid, pb, sha in rf.conn.execute("SELECT id, path_bytes, sha256 FROM files WHERE sha256 IS NOT NULL ORDER BY id").fetchall():
        path = os.fsdecode(bytes(pb))
        now = hash_one(path)
        report.files_rehashed += 1
        if now["sha256"] is None:
            report.add(f"input {fid} ({store.path_text(path)}): {now['reason']}")
        elif now["sha256"] != sha:
            report.add(f"input {fid} ({store.path_text(path)}) has changed: SHA-256 {now['sha256']}, recorded {sha}")
