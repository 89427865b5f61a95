"""Chain of custody of a results file: the log's hash chain, then every row and meta key against the log.

Each log entry lists the rows its transaction committed with a digest of each row's content
(every column, the path bytes the evidence is read from included). Replaying the log gives, per
row, the digest of its last committed state and the path it was found at; every row in the file
must match it, and every row the log names must exist. A row changed, added or removed outside
the program therefore shows up, named with its path, as does any entry of the log that was
altered. The meta keys (sources, versions, options, error rates, ...) are replayed the same way
from the creation entry, so a key that was changed, added or deleted is named.

The chain alone cannot show that entries were cut off its end with the stored head reset to
match: an expected head (``N:HASH`` from an earlier summary, report or receipt) or a signature by a
trusted examiner key does, as for cases (:mod:`examiner.core.anchor`, :mod:`examiner.core.signing`).
With ``rehash`` every input file is read again (read-only) and its SHA-256 compared with the row.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from examiner.core.anchor import AnchorReport, check_expected_head, head_of, parse_head
from examiner.core.audit import AuditEntry, ChainReport, canonical_json
from examiner.screening import store
from examiner.screening.store import ResultsFile

MAX_LISTED = 25
_PAGE = 500
# Meta keys the creation entry does not hold but the log sets: the walk's end.
_WALK_COMPLETE = "walk_complete"


@dataclass
class VerifyReport:
    chain: ChainReport
    rows_checked: int = 0
    meta_checked: int = 0
    files_rehashed: int = 0
    problems: list[str] = field(default_factory=list)
    more_problems: int = 0
    head: str | None = None
    anchor: AnchorReport = field(default_factory=AnchorReport)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems and self.anchor.ok

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    def all_problems(self) -> list[str]:
        out = ([] if self.chain.ok else [self.chain.summary()]) + self.problems
        if self.more_problems:
            out.append(f"... and {self.more_problems} more problems")
        return out + self.anchor.problems

    def summary(self) -> str:
        if self.ok:
            extra = f", {self.files_rehashed} input files re-hashed and unchanged" if self.files_rehashed else ""
            return f"{self.chain.summary()}; {self.rows_checked} rows and {self.meta_checked} meta keys match the log{extra}"
        return "; ".join(([self.chain.summary()] if self.chain.ok else []) + self.all_problems())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        d["all_problems"] = self.all_problems()
        return d


def verify_log(rf: ResultsFile) -> ChainReport:
    return rf.log.verify()


def _replay(rf: ResultsFile) -> dict[str, tuple[Any, int]]:
    """The last logged digest of every row (with the path it was found at), in temporary tables
    (bounded memory for large runs); returns the meta the log says the file holds, with the
    entry that set each key."""
    c = rf.conn
    c.execute("CREATE TEMP TABLE IF NOT EXISTS logged (kind TEXT, key TEXT, digest TEXT, seq INTEGER, ref TEXT, "
              "PRIMARY KEY (kind, key))")  # fmt: skip
    c.execute("DELETE FROM temp.logged")
    meta: dict[str, tuple[Any, int]] = {}
    since = 0
    while True:
        entries = rf.log.entries(since=since, limit=_PAGE)
        if not entries:
            break
        for e in entries:
            rows: list[tuple[str, str, str, int, str | None]] = []
            p = e.params
            if e.action == "screening.created" and e.seq == 1:
                meta.update({k: (v, 1) for k, v in p.items() if k != "schema_version"})
            elif e.action == store.META_SET and isinstance(p.get("key"), str):
                meta[p["key"]] = (p.get("value"), e.seq)
            elif e.action == "files.found" and p.get(_WALK_COMPLETE) is True:
                meta[_WALK_COMPLETE] = (True, e.seq)
            for item in _items(p, "files") if e.action in ("files.found", "files.hashed") else []:
                ref = str(item[1]) if e.action == "files.found" and len(item) == 3 else None
                rows.append(("file", str(item[0]), str(item[-1]), e.seq, ref))
            for item in _items(p, "analyses") if e.action in ("files.hashed", "analyses.recorded") else []:
                ref = str(item[1]) if e.action == "files.hashed" and len(item) == 3 else None
                rows.append(("analysis", str(item[0]), str(item[-1]), e.seq, ref))
            if e.action == "followup.recorded":
                rows.append(("followup", f"{p.get('sha256')}/{p.get('kind')}", str(p.get("digest")), e.seq, None))
            c.executemany("INSERT INTO temp.logged (kind, key, digest, seq, ref) VALUES (?,?,?,?,?) "
                          "ON CONFLICT(kind, key) DO UPDATE SET digest = excluded.digest, seq = excluded.seq, "
                          "ref = COALESCE(excluded.ref, logged.ref)", rows)  # fmt: skip
        since = entries[-1].seq
    return meta


def _items(params: dict[str, Any], key: str) -> list[list[Any]]:
    items = params.get(key)
    return [i for i in items if isinstance(i, list) and len(i) >= 2] if isinstance(items, list) else []


def _check_meta(rf: ResultsFile, report: VerifyReport, expected: dict[str, tuple[Any, int]]) -> None:
    """What the run was told (sources, versions, options, error rates) must be what the log recorded,
    key by key: a key changed, deleted or added outside the program is named."""
    first = rf.log.entries(limit=1)
    if not first or first[0].action != "screening.created":
        report.add("the log does not begin with the creation of the results file")
        return
    meta = rf.meta_text()
    for key in sorted(set(expected) | set(meta)):
        report.meta_checked += 1
        if key not in meta:
            report.add(f"meta key {key!r}, recorded in log entry {expected[key][1]}, is missing from the file (removed)")
        elif key not in expected:
            report.add(f"meta key {key!r} is not recorded in the log (added outside the program)")
        elif meta[key] != canonical_json(expected[key][0]):
            report.add(f"meta key {key!r} differs from what log entry {expected[key][1]} recorded (altered)")


def _logged_path(rf: ResultsFile, file_id: Any) -> str | None:
    r = rf.conn.execute("SELECT ref FROM temp.logged WHERE kind = 'file' AND key = ?", (str(file_id),)).fetchone()
    return None if r is None else r[0]


def _analysis_path(rf: ResultsFile, sha: str) -> str | None:
    r = rf.conn.execute("SELECT ref FROM temp.logged WHERE kind = 'analysis' AND key = ?", (sha,)).fetchone()
    return None if r is None or r[0] is None else _logged_path(rf, r[0])


def _name(rf: ResultsFile, kind: str, key: str, row_path: str | None = None) -> str:
    """A row as an examiner recognises it: by the path the log recorded (the row's own path if
    the log never had it)."""
    if kind == "file":
        path = _logged_path(rf, key) or row_path
        return f"file row {key}" + (f" ({path})" if path else "")
    sha, _, sub = key.partition("/")
    path = _analysis_path(rf, sha)
    what = f"the {sub} of" if kind == "followup" else "the analysis of"
    return f"{what} {path or 'an image not in the log'} (SHA-256 {sha[:16]}...)"


def verify(rf: ResultsFile, rehash: bool = False, expect_head: str | None = None,
           public_keys: Sequence[bytes] = ()) -> VerifyReport:  # fmt: skip
    """The chain, every meta key and row against the log, the stored images, and (when given) an
    expected head and trusted signing keys; with ``rehash`` the inputs themselves."""
    report = VerifyReport(verify_log(rf))
    try:
        _check_rows(rf, report)
        _check_blobs(rf, report)
        _check_anchors(rf, report, expect_head, public_keys)
        if rehash:
            _rehash(rf, report)
    except sqlite3.DatabaseError as exc:
        # A table dropped or damaged with sqlite3: named, with the verification failed.
        report.add(f"the results file's tables are missing or unreadable ({exc}; altered outside the program)")
    return report


def _check_rows(rf: ResultsFile, report: VerifyReport) -> None:
    expected = _replay(rf)
    _check_meta(rf, report, expected)
    c = rf.conn
    path_at = store.FILE_COLUMNS.index("path")
    checks: tuple[tuple[str, str, Callable[[tuple[Any, ...]], str], Callable[[tuple[Any, ...]], str]], ...] = (
        ("file", f"SELECT {', '.join(store.FILE_COLUMNS)} FROM files", store.file_digest, lambda r: str(r[0])),
        ("analysis", f"SELECT {', '.join(store.ANALYSIS_COLUMNS)} FROM analyses", store.analysis_digest, lambda r: str(r[0])),
        ("followup", f"SELECT {', '.join(store.FOLLOWUP_COLUMNS)} FROM followups", store.followup_digest,
         lambda r: f"{r[0]}/{r[1]}"),
    )  # fmt: skip
    for kind, sql, digest_of, key_of in checks:
        # The files table streams (it can hold millions of rows); the lookups use other cursors.
        for r in c.execute(sql) if kind == "file" else c.execute(sql).fetchall():
            report.rows_checked += 1
            key = key_of(r)
            logged = c.execute("SELECT digest, seq FROM temp.logged WHERE kind = ? AND key = ?", (kind, key)).fetchone()
            name = _name(rf, kind, key, r[path_at] if kind == "file" and isinstance(r[path_at], str) else None)
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
        ).fetchall():  # fmt: skip
            report.add(f"{_name(rf, kind, key)}, recorded in log entry {seq}, is missing from the file (removed)")


def _entry(rf: ResultsFile, seq: int) -> AuditEntry | None:
    found = rf.log.entries(since=seq - 1, limit=1) if seq >= 1 else []
    return found[0] if found and found[0].seq == seq else None


def _anchor_entries(rf: ResultsFile, expected: int | None) -> list[AuditEntry]:
    """Only the entries the anchor checks read (the last, the expected one, the signatures and the
    entries they sign): a large run's log, with every row's digest, need not be held in memory."""
    from examiner.core.signing import SIGN_ACTION, SIGNATURE_PARAM

    wanted = {int(r[0]) for r in rf.conn.execute("SELECT seq FROM audit WHERE action = ? OR seq = (SELECT max(seq) FROM audit)",
                                                 (SIGN_ACTION,))}  # fmt: skip
    if expected is not None:
        wanted.add(expected)
    entries = {e.seq: e for e in (_entry(rf, q) for q in sorted(wanted)) if e is not None}
    for e in list(entries.values()):
        rec = e.params.get(SIGNATURE_PARAM)
        if isinstance(rec, dict) and isinstance(rec.get("seq"), int) and rec["seq"] not in entries:
            signed = _entry(rf, rec["seq"])
            if signed is not None:
                entries[signed.seq] = signed
    return [entries[q] for q in sorted(entries)]


def _check_anchors(rf: ResultsFile, report: VerifyReport, expect_head: str | None, public_keys: Sequence[bytes]) -> None:
    from examiner.core.signing import check_signatures

    expected = parse_head(expect_head) if expect_head else None
    entries = _anchor_entries(rf, expected.seq if expected else None)
    head = head_of(entries)
    report.head = head.text() if head else None
    if expected is not None:
        report.anchor.extend(check_expected_head(entries, report.chain.ok, expected))
    else:
        report.anchor.notes.append(
            "no expected head given: the check proves the file is consistent with itself, not that it is the file "
            "a summary or report was made from (entries cut off its end would pass); give --expect-head N:HASH"
        )  # fmt: skip
    report.anchor.extend(check_signatures(entries, list(public_keys)))


def _check_blobs(rf: ResultsFile, report: VerifyReport) -> None:
    for sha, kind, blob, blob_sha in rf.conn.execute(
        "SELECT sha256, kind, blob, blob_sha256 FROM followups WHERE blob IS NOT NULL"
    ).fetchall():  # fmt: skip
        if hashlib.sha256(bytes(blob)).hexdigest() != blob_sha:
            report.add(f"{_name(rf, 'followup', f'{sha}/{kind}')}: the stored image does not match its recorded SHA-256 (altered)")


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


def require_verified(rf: ResultsFile, purpose: str, expect_head: str | None = None,
                     public_keys: Sequence[bytes] = ()) -> VerifyReport:  # fmt: skip
    """Verify before the file is used for ``purpose`` (a case, a report): a results file that does
    not verify is refused, saying why, so nothing is built on rows the log does not vouch for."""
    from examiner.errors import IntegrityError

    report = verify(rf, expect_head=expect_head, public_keys=public_keys)
    if not report.ok:
        problems = report.all_problems()
        listed = "; ".join(problems[:5]) + (f"; ... ({len(problems) - 5} more)" if len(problems) > 5 else "")
        raise IntegrityError(f"{rf.path}: does not verify, so no {purpose} is made from it: {listed} "
                             f"(examiner screen --verify {rf.path} lists every problem)")  # fmt: skip
    return report
