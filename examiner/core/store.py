"""The SQLite case file (``.mcase``): connection settings, schema versions and migrations.

One file holds a whole case. It uses SQLite's rollback journal with ``synchronous=FULL`` so a
crash or kill at any moment leaves the last committed transaction intact, and nothing but the
single file remains once the case is closed. The schema version lives in ``PRAGMA
user_version``; :data:`MIGRATIONS` brings an older file forward inside one transaction, and a
file newer than this program is refused rather than guessed at.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from examiner.core.audit import AUDIT_STATEMENTS
from examiner.errors import CaseError

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000  # how long a read waits for another program's write
APPLICATION_ID = 0x4D434153  # "MCAS": marks the SQLite file as a case file


_V1_STATEMENTS: tuple[str, ...] = (
    """
    CREATE TABLE case_details (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE evidence (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        md5 TEXT NOT NULL,
        size INTEGER NOT NULL,
        facts TEXT NOT NULL,
        reference_path TEXT,
        reference_sha256 TEXT,
        reference_md5 TEXT,
        added_utc TEXT NOT NULL,
        added_by TEXT NOT NULL DEFAULT ''
    )
    """,
    """
    CREATE TABLE artefacts (
        sha256 TEXT PRIMARY KEY,
        media_type TEXT NOT NULL,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        data BLOB NOT NULL,
        created_utc TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE findings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        evidence_id INTEGER NOT NULL REFERENCES evidence(id),
        kind TEXT NOT NULL,
        data TEXT NOT NULL,
        artefacts TEXT NOT NULL,
        created_utc TEXT NOT NULL,
        actor TEXT NOT NULL DEFAULT ''
    )
    """,
    """
    CREATE INDEX findings_by_evidence ON findings(evidence_id, kind)
    """,
    """
    CREATE TABLE regions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        evidence_id INTEGER NOT NULL REFERENCES evidence(id),
        data TEXT NOT NULL,
        locked INTEGER NOT NULL DEFAULT 0,
        created_utc TEXT NOT NULL,
        updated_utc TEXT NOT NULL
    )
    """,
    """
    CREATE INDEX regions_by_evidence ON regions(evidence_id)
    """,
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    *AUDIT_STATEMENTS,
)


def _v1(conn: sqlite3.Connection) -> None:
    # Statement by statement: executescript() would commit the surrounding transaction.
    for stmt in _V1_STATEMENTS:
        conn.execute(stmt)


# MIGRATIONS[n] turns a version-n file into version n+1 (index 0 creates a fresh file).
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1]
assert len(MIGRATIONS) == SCHEMA_VERSION


def open_sqlite(p: Path, read_only: bool) -> sqlite3.Connection:
    """An SQLite connection with the settings every file of the program that keeps a log uses:
    explicit transactions, a rollback journal with a full sync at each commit (a crash leaves the
    last committed state), waiting for other writers, foreign keys enforced. Raises
    sqlite3.DatabaseError for the caller to name the file."""
    if read_only:
        conn = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(p), isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if not read_only:
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def connect(path: str | Path, create: bool = False, read_only: bool = False) -> sqlite3.Connection:
    """Open (or create) a case database with the crash-safety settings applied and the schema
    migrated to :data:`SCHEMA_VERSION`."""
    p = Path(path)
    if create and p.exists():
        raise CaseError(f"{p}: a file with this name already exists; choose another case file name")
    if not create and not p.is_file():
        raise CaseError(f"{p}: case file not found")
    if not create:
        _check_header(p)
    try:
        conn = open_sqlite(p, read_only)
        # Freed space is zeroed, so no stale copy of a changed row lingers in the file.
        conn.execute("PRAGMA secure_delete = ON")
        _migrate(conn, p, read_only)
    except sqlite3.DatabaseError as exc:
        raise CaseError(f"{p}: not a readable case file ({exc})") from None
    return conn


def _check_header(p: Path) -> None:
    try:
        with open(p, "rb") as fh:
            head = fh.read(100)
    except OSError as exc:
        raise CaseError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    if not head.startswith(b"SQLite format 3\x00"):
        raise CaseError(f"{p}: not a case file (not an SQLite database)")
    # Only files this program created carry its application id; any other SQLite database is
    # refused rather than "migrated" into a case.
    if len(head) < 72 or int.from_bytes(head[68:72], "big") != APPLICATION_ID:
        raise CaseError(f"{p}: an SQLite database, but not a case file")


def _migrate(conn: sqlite3.Connection, p: Path, read_only: bool) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise CaseError(
            f"{p}: case file schema version {version} is newer than this program understands "
            f"({SCHEMA_VERSION}); update the program"
        )
    if version == SCHEMA_VERSION:
        return
    if read_only:
        raise CaseError(f"{p}: case file schema version {version} needs migrating; open it writable first")
    with transaction(conn):
        if version == 0:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One atomic write: BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
