"""The append-only, hash-chained audit log of a case.

Each entry records when (UTC), who (actor), what (action) and with which parameters (a JSON
object), plus the previous entry's hash. Its own hash is::

    entry_hash = SHA-256( prev_hash + canonical_json({seq, time_utc, actor, action, params}) )

where canonical JSON has sorted keys, no insignificant whitespace and UTF-8 text. The first
entry's ``prev_hash`` is 64 zeros. Changing, removing, inserting or reordering any entry breaks
the chain from that entry on; cutting entries off the end is caught by the stored head. A broken
chain is reported with the first bad entry and is never repaired.

The chain proves only that the log is unchanged; :mod:`examiner.core.row_records` checks the
case's tables against it, and :mod:`examiner.core.anchor` checks the log against a head kept
outside the file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

# The log's tables, for every file that keeps one (case files and screening results): the
# entries, the newest entry's seq and hash, and the triggers that keep the program append-only.
AUDIT_STATEMENTS: tuple[str, ...] = (
    """
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        time_utc TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        params TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        entry_hash TEXT NOT NULL
    )
    """,
    # The newest entry's seq and hash, so cutting entries off the end is noticed too.
    """
    CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        entry_hash TEXT NOT NULL
    )
    """,
    # Append-only: the program never updates or deletes audit entries.
    """
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
    """,
    """
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
    """,
)


def utc_now() -> str:
    """The current time as ISO-8601 UTC with microseconds and a ``Z`` suffix."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_hash(prev_hash: str, seq: int, time_utc: str, actor: str, action: str, params: Any) -> str:
    body = canonical_json({"seq": seq, "time_utc": time_utc, "actor": actor, "action": action, "params": params})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    time_utc: str
    actor: str
    action: str
    params: dict[str, Any]
    prev_hash: str
    entry_hash: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChainReport:
    """Result of checking the chain. ``first_bad`` is the seq of the first entry that fails."""

    ok: bool
    entries: int
    first_bad: int | None = None
    problem: str = ""
    head_hash: str = GENESIS_HASH
    problems: list[str] = field(default_factory=list)
    damaged: bool = False  # the log's tables are missing or unreadable

    def summary(self) -> str:
        if self.ok:
            return f"audit chain intact ({self.entries} entries)"
        where = f"entry {self.first_bad}" if self.first_bad is not None else "the log"
        return f"audit chain BROKEN at {where}: {self.problem}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class AuditLog:
    """The audit table of one open case. Writes happen inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def append(self, actor: str, action: str, params: dict[str, Any] | None = None) -> AuditEntry:
        """Append one entry. Call inside a transaction (Case methods do), so the entry and the
        change it records commit together or not at all."""
        params = dict(params or {})
        canonical_json(params)  # fail early on values that cannot be recorded faithfully
        params = json.loads(canonical_json(params))
        row = self._conn.execute("SELECT seq, entry_hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (1, GENESIS_HASH) if row is None else (int(row[0]) + 1, str(row[1]))
        t = utc_now()
        h = entry_hash(prev, seq, t, actor, action, params)
        self._conn.execute(
            "INSERT INTO audit (seq, time_utc, actor, action, params, prev_hash, entry_hash) VALUES (?,?,?,?,?,?,?)",
            (seq, t, actor, action, canonical_json(params), prev, h),
        )
        self._conn.execute(
            "INSERT INTO audit_head (id, seq, entry_hash) VALUES (1, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, entry_hash = excluded.entry_hash",
            (seq, h),
        )
        return AuditEntry(seq, t, actor, action, params, prev, h)

    def entries(self, since: int = 0, limit: int | None = None) -> list[AuditEntry]:
        """Entries in order; a ``params`` value that is not valid JSON is returned as
        ``{"_unparseable": text}`` so a tampered log can still be shown."""
        sql = "SELECT seq, time_utc, actor, action, params, prev_hash, entry_hash FROM audit WHERE seq > ? ORDER BY seq"
        args: tuple[Any, ...] = (since,)
        if limit is not None:
            sql += " LIMIT ?"
            args += (int(limit),)
        out = []
        try:
            rows = self._conn.execute(sql, args).fetchall()
        except sqlite3.DatabaseError:
            return []  # the table is gone: verify() names that
        for seq, t, actor, action, params, prev, h in rows:
            if not isinstance(seq, int):
                continue  # a forged entry number: verify() names it
            out.append(AuditEntry(seq, _text(t), _text(actor), _text(action), _parse_params(params), _text(prev), _text(h)))
        return out

    def verify(self) -> ChainReport:
        """Recompute every hash from the stored text; report the first entry that fails.

        The entries and the stored head are read in one transaction: read in two, a writer in
        between makes an intact log look cut off."""
        if self._conn.in_transaction:
            return self._verify()
        self._conn.execute("BEGIN")
        try:
            return self._verify()
        finally:
            if self._conn.in_transaction:
                self._conn.execute("COMMIT")

    def _verify(self) -> ChainReport:
        try:
            rows = self._conn.execute(
                "SELECT seq, time_utc, actor, action, params, prev_hash, entry_hash FROM audit ORDER BY seq"
            ).fetchall()
            head = self._conn.execute("SELECT seq, entry_hash FROM audit_head WHERE id = 1").fetchone()
        except sqlite3.DatabaseError as exc:
            problem = f"the audit log's tables are missing or unreadable ({exc}; deleted or damaged outside the program)"
            return ChainReport(False, 0, problem=problem, problems=[problem], damaged=True)
        prev = GENESIS_HASH
        expected_seq = 1
        count = 0
        for seq, t, actor, action, params_text, prev_hash, stored_hash in rows:
            count += 1
            bad = _check_entry(expected_seq, prev, seq, t, actor, action, params_text, prev_hash, stored_hash)
            if bad:
                return ChainReport(False, len(rows), first_bad=int(seq) if isinstance(seq, int) else expected_seq,
                                   problem=bad, problems=[bad])  # fmt: skip
            prev = str(stored_hash)
            expected_seq += 1
        last_seq = expected_seq - 1
        if head is None and count:
            return ChainReport(False, count, first_bad=None, problem="the stored head of the log is missing")
        if head is not None and (not isinstance(head[0], int) or head[0] != last_seq or head[1] != prev):
            problem = (
                f"the log ends at entry {last_seq} but its stored head is entry {head[0]} "
                "(entries removed from the end, or the head was altered)"
            )
            first = min(head[0], last_seq + 1) if isinstance(head[0], int) else last_seq
            return ChainReport(False, count, first_bad=first, problem=problem, problems=[problem])
        return ChainReport(True, count, head_hash=prev)


def _text(value: Any) -> str:
    """A stored field as text for showing; a BLOB put there outside the program is decoded."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _parse_params(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return {"_unparseable": str(text)}
    return value if isinstance(value, dict) else {"_value": value}


def _check_entry(
    expected_seq: int, prev: str, seq: Any, t: Any, actor: Any, action: Any, params_text: Any,
    prev_hash: Any, stored_hash: Any,
) -> str:  # fmt: skip
    if seq != expected_seq:
        return f"expected entry number {expected_seq}, found {seq!r} (entries missing or reordered)"
    if prev_hash != prev:
        return "its previous-hash field does not match the entry before it"
    if not all(isinstance(v, str) for v in (t, actor, action, params_text, stored_hash)):
        return "a field has the wrong type"
    try:
        params = json.loads(params_text)
    except (ValueError, RecursionError):
        return "its parameters are not valid JSON (altered)"
    if canonical_json(params) != params_text:
        return "its parameters are not in canonical form (altered)"
    if entry_hash(prev, seq, t, actor, action, params) != stored_hash:
        return "its hash does not match its contents (altered)"
    return ""
