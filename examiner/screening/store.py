"""The screening results file: one SQLite file with its own hash-chained log.

Only the client process writes it. Every change and the log entry that records it commit in one
``BEGIN IMMEDIATE`` transaction (rollback journal, ``synchronous=FULL``), so a ``kill -9`` at
any point leaves the last committed state, and a resume picks up from there.

Tables:

* ``files``: one row per path found (``UNIQUE`` path bytes, so a path can never be counted twice),
  its size and mtime from the walk, its SHA-256 once hashed, and a status: ``pending`` (found,
  not hashed yet), ``hashed`` (its outcome is that of its hash in ``analyses``), ``refused`` or
  ``error`` (with the reason) for what could not be hashed;
* ``analyses``: one row per distinct SHA-256, so duplicates are analysed once: ``pending``,
  ``result`` (verdict, score, likelihood ratio when the model gives one, rank), ``refused`` (the
  intake's reason) or ``error``; with the tool and model versions and the worker that did it;
* ``followups``: per hash and kind (thumbnail, identification, seed variability) for the top-ranked;
* ``meta``: sources, options, versions; ``audit`` / ``audit_head``: the log
  (:class:`examiner.core.audit.AuditLog`).

Each log entry lists the rows it committed with a digest of each row's content
(:func:`file_digest`, :func:`analysis_digest`, :func:`followup_digest`), and the SHA-256 of every
input, so :mod:`examiner.screening.custody` can check the rows against the log.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from examiner.core.audit import AUDIT_STATEMENTS, AuditLog, canonical_json, utc_now
from examiner.core.store import open_sqlite, transaction
from examiner.errors import ExaminerError

# 2: the row digests cover ``files.path_bytes`` (what the workers and ``--open`` read) and the
# analyses carry ``rank_uncapped`` (ties at the LR cap). Version 1 files are refused, not
# migrated: their logs never covered the path bytes, so no migration could make them trustworthy.
SCHEMA_VERSION = 2
APPLICATION_ID = 0x4D534352  # "MSCR": marks the SQLite file as a screening results file

META_SET = "screening.meta_set"

# Row states.
PENDING, HASHED, RESULT, REFUSED, ERROR = "pending", "hashed", "result", "refused", "error"

_SCHEMA: tuple[str, ...] = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        path_bytes BLOB NOT NULL UNIQUE,
        path TEXT NOT NULL,
        source TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime REAL NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        sha256 TEXT
    )""",
    "CREATE INDEX files_by_sha ON files(sha256)",
    "CREATE INDEX files_by_status ON files(status, id)",
    """CREATE TABLE analyses (
        sha256 TEXT PRIMARY KEY,
        analysed_file INTEGER NOT NULL REFERENCES files(id),
        status TEXT NOT NULL,
        verdict TEXT,
        score REAL,
        lr REAL,
        verbal_scale TEXT,
        rank_kind TEXT,
        rank REAL,
        rank_uncapped REAL,
        reason TEXT,
        data TEXT,
        tool_version TEXT,
        model_version TEXT,
        model_sha256 TEXT,
        worker TEXT,
        seconds REAL,
        done_utc TEXT
    )""",
    "CREATE INDEX analyses_by_status ON analyses(status)",
    "CREATE INDEX analyses_by_rank ON analyses(rank, rank_uncapped)",
    """CREATE TABLE followups (
        sha256 TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        data TEXT,
        blob BLOB,
        blob_sha256 TEXT,
        tool_version TEXT,
        worker TEXT,
        done_utc TEXT,
        PRIMARY KEY (sha256, kind)
    )""",
    *AUDIT_STATEMENTS,
)


def path_bytes(path: str) -> bytes:
    """The path as the file system names it (undecodable names survive via surrogate escapes)."""
    return os.fsencode(path)


def path_text(path: str) -> str:
    """The path as text that can be stored and shown: undecodable bytes as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def plain(value: Any) -> Any:
    """A value the canonical JSON of a digest can hold: non-finite floats as text, bytes as hex."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value


def digest(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


# Every column of a row is in its digest: the path bytes are what the workers, the follow-ups and
# ``--open`` read the evidence from, so a row pointing at a planted copy shows up as altered.
FILE_COLUMNS = ("id", "path_bytes", "path", "source", "size", "mtime", "status", "reason", "sha256")
ANALYSIS_COLUMNS = ("sha256", "analysed_file", "status", "verdict", "score", "lr", "verbal_scale", "rank_kind", "rank",
                    "rank_uncapped", "reason", "data", "tool_version", "model_version", "model_sha256", "worker", "seconds", "done_utc")  # fmt: skip
FOLLOWUP_COLUMNS = ("sha256", "kind", "status", "reason", "data", "blob_sha256", "tool_version", "worker", "done_utc")


def file_digest(row: tuple[Any, ...]) -> str:
    return digest({k: plain(v) for k, v in zip(FILE_COLUMNS, row, strict=True)})


def analysis_digest(row: tuple[Any, ...]) -> str:
    return digest({k: plain(v) for k, v in zip(ANALYSIS_COLUMNS, row, strict=True)})


def followup_digest(row: tuple[Any, ...]) -> str:
    return digest({k: plain(v) for k, v in zip(FOLLOWUP_COLUMNS, row, strict=True)})


# By the (capped) LR, then by the uncapped strength of the evidence (images at the LR cap are
# ordered by how far past it they are), then by where the image was first found: never by hash.
RANK_ORDER = "a.rank DESC, a.rank_uncapped DESC, a.analysed_file"


class ResultsFile:
    """An open results file. Writes are methods that commit one transaction with its log entry."""

    def __init__(self, path: Path, conn: sqlite3.Connection, actor: str) -> None:
        self.path = path
        self.conn = conn
        self.actor = actor
        self.log = AuditLog(conn)

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(cls, path: str | Path, actor: str, meta: dict[str, Any]) -> ResultsFile:
        p = Path(path)
        if p.exists():
            raise ExaminerError(f"{p}: a file with this name already exists; resume it with --resume or choose another name")
        if not p.parent.is_dir():
            raise ExaminerError(f"{p}: folder {p.parent} does not exist")
        conn = _connect(p)
        rf = cls(p, conn, actor)
        with transaction(conn):
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            for stmt in _SCHEMA:
                conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            for k, v in meta.items():
                conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (k, canonical_json(v)))
            rf.log.append(actor, "screening.created", {"schema_version": SCHEMA_VERSION, **meta})
        return rf

    @classmethod
    def open(cls, path: str | Path, actor: str = "", read_only: bool = False) -> ResultsFile:
        p = Path(path)
        if not p.is_file():
            raise ExaminerError(f"{p}: results file not found")
        try:
            with open(p, "rb") as fh:
                head = fh.read(100)
        except OSError as exc:
            raise ExaminerError(f"{p}: cannot be read ({exc.strerror or exc})") from None
        if not head.startswith(b"SQLite format 3\x00") or int.from_bytes(head[68:72], "big") != APPLICATION_ID:
            raise ExaminerError(f"{p}: not a screening results file")
        journal = p.with_name(p.name + "-journal")
        if read_only and journal.is_file() and journal.stat().st_size > 0:
            # A run killed mid-commit leaves a hot journal, which a read-only connection cannot
            # roll back. Rolling it back is SQLite's own crash recovery to the last commit; it
            # changes nothing that was ever committed.
            recovery = _connect(p)
            try:
                recovery.execute("SELECT count(*) FROM meta").fetchone()
            finally:
                recovery.close()
        conn = _connect(p, read_only=read_only)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ExaminerError(f"{p}: not a readable results file ({exc})") from None
        if version != SCHEMA_VERSION:
            conn.close()
            if version == 1:
                raise ExaminerError(
                    f"{p}: made by an earlier version of this program (results file version 1), whose log does not "
                    "cover the file paths the evidence is read from; it is not opened, because it cannot be verified "
                    "to this version's standard. Screen the sources again into a new results file "
                    "(examiner screen SOURCE... --out NEW)")  # fmt: skip
            raise ExaminerError(f"{p}: results file version {version}; this program reads version {SCHEMA_VERSION}"
                                + ("; update the program" if version > SCHEMA_VERSION else ""))  # fmt: skip
        return cls(p, conn, actor)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ meta
    def meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.conn.execute("SELECT key, value FROM meta")}

    def meta_text(self) -> dict[str, str]:
        """The meta values as stored (canonical JSON), for comparison with the log."""
        return {str(k): str(v) for k, v in self.conn.execute("SELECT key, value FROM meta")}

    def set_meta(self, key: str, value: Any) -> None:
        """Change one meta key; the verification replays these entries (:data:`META_SET`)."""
        with transaction(self.conn):
            self.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                              (key, canonical_json(value)))  # fmt: skip
            self.log.append(self.actor, META_SET, {"key": key, "value": value})

    def head(self) -> str | None:
        """The last log entry as ``N:HASH``, what ``--expect-head`` takes (not verified here)."""
        r = self.conn.execute("SELECT seq, entry_hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return None if r is None else f"{r[0]}:{r[1]}"

    def log_action(self, action: str, params: dict[str, Any]) -> None:
        with transaction(self.conn):
            self.log.append(self.actor, action, params)

    # ------------------------------------------------------------------ files
    def known(self, path: str) -> bool:
        return self.conn.execute("SELECT 1 FROM files WHERE path_bytes = ?", (path_bytes(path),)).fetchone() is not None

    def add_found(self, entries: list[tuple[str, str, int, float, str, str | None]], walk_complete: bool = False) -> list[int]:
        """Insert walked entries ``(path, source, size, mtime, status, reason)``; one transaction
        and one ``files.found`` entry listing each row with its digest."""
        ids: list[int] = []
        logged: list[list[Any]] = []
        with transaction(self.conn):
            for path, source, size, mtime, status, reason in entries:
                cur = self.conn.execute(
                    "INSERT INTO files (path_bytes, path, source, size, mtime, status, reason) VALUES (?,?,?,?,?,?,?)",
                    (path_bytes(path), path_text(path), path_text(source), int(size), float(mtime), status, reason),
                )
                fid = int(cur.lastrowid or 0)
                ids.append(fid)
                logged.append([fid, path_text(path), self._file_digest(fid)])
            if walk_complete:
                self.conn.execute("INSERT INTO meta (key, value) VALUES ('walk_complete', 'true') "
                                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value")  # fmt: skip
            if logged or walk_complete:
                self.log.append(self.actor, "files.found", {"files": logged, "walk_complete": walk_complete})
        return ids

    def _file_digest(self, fid: int) -> str:
        row = self.conn.execute(f"SELECT {', '.join(FILE_COLUMNS)} FROM files WHERE id = ?", (fid,)).fetchone()
        return file_digest(row)

    def _analysis_digest(self, sha: str) -> str:
        row = self.conn.execute(f"SELECT {', '.join(ANALYSIS_COLUMNS)} FROM analyses WHERE sha256 = ?", (sha,)).fetchone()
        return analysis_digest(row)

    def record_hashes(self, outcomes: list[dict[str, Any]], versions: dict[str, str]) -> list[str]:
        """Record a hash batch. Returns the hashes that need analysing (first seen here). A file
        whose head already shows it is no image gets its refusal at once, as intake would."""
        new: list[str] = []
        files_logged: list[list[Any]] = []
        analyses_logged: list[list[Any]] = []
        now = utc_now()
        with transaction(self.conn):
            for o in outcomes:
                fid = int(o["id"])
                if o.get("sha256") is None:
                    self.conn.execute("UPDATE files SET status = ?, reason = ? WHERE id = ? AND status = ?",
                                      (ERROR, o["reason"], fid, PENDING))  # fmt: skip
                    files_logged.append([fid, None, self._file_digest(fid)])
                    continue
                sha = str(o["sha256"])
                self.conn.execute("UPDATE files SET status = ?, sha256 = ?, size = ? WHERE id = ? AND status = ?",
                                  (HASHED, sha, int(o["size"]), fid, PENDING))  # fmt: skip
                files_logged.append([fid, sha, self._file_digest(fid)])
                if self.conn.execute("SELECT 1 FROM analyses WHERE sha256 = ?", (sha,)).fetchone():
                    continue  # a duplicate: its outcome is that hash's analysis
                if o.get("refusal"):
                    self.conn.execute(
                        "INSERT INTO analyses (sha256, analysed_file, status, reason, tool_version, model_version, "
                        "model_sha256, worker, seconds, done_utc) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (sha, fid, REFUSED, o["refusal"], versions["tool_version"], versions["model_version"],
                         versions["model_sha256"], o.get("worker", ""), 0.0, now),
                    )  # fmt: skip
                else:
                    self.conn.execute("INSERT INTO analyses (sha256, analysed_file, status) VALUES (?,?,?)",
                                      (sha, fid, PENDING))  # fmt: skip
                    new.append(sha)
                analyses_logged.append([sha, fid, self._analysis_digest(sha)])
            self.log.append(self.actor, "files.hashed", {"files": files_logged, "analyses": analyses_logged})
        return new

    def record_analyses(self, outcomes: list[dict[str, Any]]) -> list[str]:
        """Record an analysis batch; a hash already recorded (a task that ran twice) is left as it
        was. Returns the hashes recorded now."""
        logged: list[list[Any]] = []
        with transaction(self.conn):
            for o in outcomes:
                cur = self.conn.execute(
                    "UPDATE analyses SET status = ?, verdict = ?, score = ?, lr = ?, verbal_scale = ?, rank_kind = ?, "
                    "rank = ?, rank_uncapped = ?, reason = ?, data = ?, tool_version = ?, model_version = ?, "
                    "model_sha256 = ?, worker = ?, seconds = ?, done_utc = ? WHERE sha256 = ? AND status = ?",
                    (o["status"], o.get("verdict"), o.get("score"), o.get("lr"), o.get("verbal_scale"), o.get("rank_kind"),
                     o.get("rank"), o.get("rank_uncapped"), o.get("reason"), None if o.get("data") is None else canonical_json(o["data"]),
                     o["tool_version"], o["model_version"], o["model_sha256"], o.get("worker", ""),
                     float(o.get("seconds", 0.0)), utc_now(), o["sha256"], PENDING),
                )  # fmt: skip
                if cur.rowcount:
                    logged.append([o["sha256"], o["status"], self._analysis_digest(o["sha256"])])
            if logged:
                self.log.append(self.actor, "analyses.recorded", {"analyses": logged})
        return [sha for sha, _status, _digest in logged]

    def record_followup(self, o: dict[str, Any]) -> None:
        blob = o.get("blob")
        blob_sha = None if blob is None else hashlib.sha256(blob).hexdigest()
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO followups (sha256, kind, status, reason, data, blob, blob_sha256, tool_version, worker, "
                "done_utc) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(sha256, kind) DO NOTHING",
                (o["sha256"], o["kind"], o["status"], o.get("reason"),
                 None if o.get("data") is None else canonical_json(o["data"]), blob, blob_sha, o["tool_version"],
                 o.get("worker", ""), utc_now()),
            )  # fmt: skip
            row = self.conn.execute(f"SELECT {', '.join(FOLLOWUP_COLUMNS)} FROM followups WHERE sha256 = ? AND kind = ?",
                                    (o["sha256"], o["kind"])).fetchone()  # fmt: skip
            self.log.append(self.actor, "followup.recorded",
                            {"sha256": o["sha256"], "kind": o["kind"], "digest": followup_digest(row)})  # fmt: skip

    # ------------------------------------------------------------------ work queues
    def pending_files(self, after_id: int, limit: int) -> list[tuple[int, str, int]]:
        rows = self.conn.execute("SELECT id, path_bytes, size FROM files WHERE status = ? AND id > ? ORDER BY id LIMIT ?",
                                 (PENDING, after_id, limit)).fetchall()  # fmt: skip
        return [(int(i), os.fsdecode(bytes(b)), int(s)) for i, b, s in rows]

    def pending_analyses(self, after_rowid: int, limit: int) -> list[tuple[int, str, str]]:
        rows = self.conn.execute(
            "SELECT a.rowid, a.sha256, f.path_bytes FROM analyses a JOIN files f ON f.id = a.analysed_file "
            "WHERE a.status = ? AND a.rowid > ? ORDER BY a.rowid LIMIT ?", (PENDING, after_rowid, limit)).fetchall()  # fmt: skip
        return [(int(r), str(s), os.fsdecode(bytes(b))) for r, s, b in rows]

    def count_pending_analyses(self, after_rowid: int) -> int:
        return int(self.conn.execute("SELECT count(*) FROM analyses WHERE status = ? AND rowid > ?",
                                     (PENDING, after_rowid)).fetchone()[0])  # fmt: skip

    def count_pending_files(self, after_id: int) -> int:
        return int(self.conn.execute("SELECT count(*) FROM files WHERE status = ? AND id > ?",
                                     (PENDING, after_id)).fetchone()[0])  # fmt: skip

    def path_of(self, file_id: int) -> str:
        row = self.conn.execute("SELECT path_bytes FROM files WHERE id = ?", (file_id,)).fetchone()
        if row is None:
            raise ExaminerError(f"{self.path}: no row {file_id}")
        return os.fsdecode(bytes(row[0]))

    def top(self, n: int) -> list[dict[str, Any]]:
        """The ``n`` best-ranked distinct results: see :data:`RANK_ORDER`."""
        cur = self.conn.execute(
            "SELECT a.*, (SELECT min(id) FROM files f WHERE f.sha256 = a.sha256) AS first_id FROM analyses a "
            f"WHERE a.status = ? ORDER BY {RANK_ORDER} LIMIT ?", (RESULT, n))  # fmt: skip
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def followup(self, sha: str, kind: str) -> dict[str, Any] | None:
        cur = self.conn.execute("SELECT * FROM followups WHERE sha256 = ? AND kind = ?", (sha, kind))
        r = cur.fetchone()
        return None if r is None else dict(zip([d[0] for d in cur.description], r, strict=True))

    def files_with_hash(self, sha: str) -> list[tuple[int, str]]:
        return [(int(i), str(p)) for i, p in self.conn.execute("SELECT id, path FROM files WHERE sha256 = ? ORDER BY id", (sha,))]


# ---------------------------------------------------------------------- rows as examiners see them

ROW_SQL = """
SELECT f.id, f.path, f.size, f.sha256,
  CASE WHEN f.status IN ('refused', 'error', 'pending') THEN f.status ELSE COALESCE(a.status, 'pending') END AS outcome,
  COALESCE(f.reason, a.reason) AS reason, a.verdict, a.score, a.lr, a.verbal_scale, a.rank_kind, a.rank,
  a.rank_uncapped, CASE WHEN f.sha256 IS NULL THEN NULL ELSE (SELECT min(d.id) FROM files d WHERE d.sha256 = f.sha256) END AS first_id,
  a.model_version, a.tool_version
FROM files f LEFT JOIN analyses a ON a.sha256 = f.sha256
"""
ROW_KEYS = ("id", "path", "size", "sha256", "outcome", "reason", "verdict", "score", "lr", "verbal_scale", "rank_kind",
            "rank", "rank_uncapped", "first_id", "model_version", "tool_version")  # fmt: skip


def _row_dict(r: tuple[Any, ...]) -> dict[str, Any]:
    d = dict(zip(ROW_KEYS, r, strict=True))
    d["duplicate_of"] = d["first_id"] if d["first_id"] is not None and d["first_id"] != d["id"] else None
    del d["first_id"]
    for k in ("rank", "rank_uncapped", "lr", "score"):
        if isinstance(d[k], float) and not math.isfinite(d[k]):
            d[k] = None if math.isnan(d[k]) else (1e308 if d[k] > 0 else -1e308)
    return d


def iter_rows(conn: sqlite3.Connection, where: str = "", args: tuple[Any, ...] = (), order: str = "f.id",
              limit: int | None = None, offset: int = 0) -> Iterator[dict[str, Any]]:  # fmt: skip
    sql = ROW_SQL + (f" WHERE {where}" if where else "") + f" ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    for r in conn.execute(sql, args):
        yield _row_dict(r)


def row(conn: sqlite3.Connection, file_id: int) -> dict[str, Any] | None:
    return next(iter_rows(conn, "f.id = ?", (file_id,)), None)


def counts(conn: sqlite3.Connection) -> dict[str, Any]:
    """Per outcome and per verdict, over files (every path once) and over distinct hashes."""
    by_outcome: dict[str, int] = {}
    by_verdict: dict[str, int] = {}
    dups = 0
    for outcome, verdict, n, dup in conn.execute(
        "SELECT outcome, verdict, count(*), sum(first_id IS NOT NULL AND first_id != id) FROM (" + ROW_SQL + ") GROUP BY outcome, verdict"
    ):  # fmt: skip
        by_outcome[outcome] = by_outcome.get(outcome, 0) + int(n)
        if verdict:
            by_verdict[verdict] = by_verdict.get(verdict, 0) + int(n)
        dups += int(dup or 0)
    unique = int(conn.execute("SELECT count(*) FROM analyses WHERE status = ?", (RESULT,)).fetchone()[0])
    total = int(conn.execute("SELECT count(*) FROM files").fetchone()[0])
    return {"files": total, "outcomes": by_outcome, "verdicts": by_verdict, "duplicates": dups,
            "distinct_images_analysed": unique}  # fmt: skip


def _connect(p: Path, read_only: bool = False) -> sqlite3.Connection:
    try:
        conn = open_sqlite(p, read_only)
    except sqlite3.DatabaseError as exc:
        raise ExaminerError(f"{p}: not a readable results file ({exc})") from None
    return conn
