"""Every table row of a case, checked against what the audit log recorded about it.

The chain proves that the log was not edited; it says nothing about the tables beside it, which
anyone with ``sqlite3`` can change. So every write records, in its audit entry, the SHA-256 of
each row it left behind (``params["row_sha256"]``: ``"table/key" -> hash``, ``null`` for a row
it deleted). :func:`check_rows` recomputes the hash of every row now in the file and compares it
with the newest entry that names the row: a row that differs, a row the log never mentions and
a recorded row that is gone are each named. Artefact blobs are hashed again against their key.

Which rows a write touched is collected by TEMP triggers on the writing connection, so no code
path can change a row without the change being recorded, and the file's schema stays as it was.

Entries written before row hashes existed (older case files) hold less: the fields each action
recorded (a region's whole content, an evidence item's path and hashes, a finding's data hash,
a meta value's hash, the case details). :func:`check_rows` compares those fields, and says that
the other columns of such rows cannot be checked.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from examiner.core.audit import AuditEntry, canonical_json

ROWS_PARAM = "row_sha256"

# Table -> (key column, columns covered by the row hash). The lists are fixed rather than read
# from the schema, so a later migration that adds a column must record new hashes on purpose.
TRACKED: dict[str, tuple[str, tuple[str, ...]]] = {
    "case_details": ("key", ("key", "value")),
    "evidence": ("id", ("id", "path", "sha256", "md5", "size", "facts", "reference_path", "reference_sha256",
                        "reference_md5", "added_utc", "added_by")),  # fmt: skip
    "regions": ("id", ("id", "evidence_id", "data", "locked", "created_utc", "updated_utc")),
    "findings": ("id", ("id", "evidence_id", "kind", "data", "artefacts", "created_utc", "actor")),
    "artefacts": ("sha256", ("sha256", "media_type", "name", "size", "created_utc")),
    "meta": ("key", ("key", "value")),
}
# The storage types the program writes per column (SQLite lets any column hold any type, so a
# value of another type was put there outside the program). Columns not listed hold text.
_INTEGER_COLUMNS = {"id", "size", "locked", "evidence_id"}
_NULLABLE_COLUMNS = {"reference_path", "reference_sha256", "reference_md5"}
# What a row is called in messages.
_NOUN = {"case_details": "case detail", "evidence": "evidence item", "regions": "region",
         "findings": "finding", "artefacts": "artefact", "meta": "case value"}  # fmt: skip


def row_key(table: str, pk: Any) -> str:
    return f"{table}/{pk}"


def describe(key: str) -> str:
    table, _, pk = key.partition("/")
    return f"{_NOUN.get(table, table)} {pk!r}" if table in ("case_details", "meta") else f"{_NOUN.get(table, table)} {pk}"


def row_hash(table: str, row: dict[str, Any]) -> str:
    cols = TRACKED[table][1]
    body = canonical_json({"table": table, "row": {c: row.get(c) for c in cols}})
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- recording


def install_change_tracking(conn: sqlite3.Connection) -> None:
    """TEMP triggers that note the key of every row inserted, updated or deleted on ``conn``."""
    # No unique constraint: inside a trigger, OR IGNORE gives way to the outer statement's
    # conflict handling (an upsert would then fail), so duplicates are skipped by the WHERE.
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS changed_rows (tbl TEXT NOT NULL, pk NOT NULL)")
    for table, (pk, _cols) in TRACKED.items():
        for event, refs in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
            body = " ".join(
                f"INSERT INTO changed_rows SELECT '{table}', {r}.{pk} WHERE NOT EXISTS "
                f"(SELECT 1 FROM changed_rows WHERE tbl = '{table}' AND pk = {r}.{pk});"
                for r in refs
            )
            conn.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS track_{table}_{event.lower()} AFTER {event} ON main.{table} "
                f"BEGIN {body} END"
            )


def collect_changes(conn: sqlite3.Connection) -> dict[str, str | None]:
    """Hashes of the rows changed since the last call (None: the row is gone); clears the list."""
    changed = conn.execute("SELECT DISTINCT tbl, pk FROM temp.changed_rows ORDER BY tbl, pk").fetchall()
    conn.execute("DELETE FROM temp.changed_rows")
    out: dict[str, str | None] = {}
    for table, pk in changed:
        key_col, cols = TRACKED[table]
        row = conn.execute(f"SELECT {', '.join(cols)} FROM main.{table} WHERE {key_col} = ?", (pk,)).fetchone()
        out[row_key(table, pk)] = None if row is None else row_hash(table, dict(zip(cols, row, strict=True)))
    return out


def discard_changes(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM temp.changed_rows")


# ---------------------------------------------------------------------------- checking


@dataclass
class RowReport:
    """Result of comparing every table row with the audit log."""

    ok: bool = True
    rows: int = 0
    artefacts_rehashed: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # A table is missing or a value has a type the program never writes: the case cannot be read
    # as a case (no report is made from it), only checked.
    damaged: bool = False

    def summary(self) -> str:
        if self.ok:
            return f"all {self.rows} table rows match the audit log; {self.artefacts_rehashed} artefact(s) re-hashed"
        return f"{len(self.problems)} table row problem(s): {self.problems[0]}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# A legacy expectation: the fields an old entry recorded about a row, or None (row deleted).
_Legacy = dict[str, Any] | None


def _expectations(entries: Iterable[AuditEntry]) -> tuple[dict[str, tuple[str, Any, int]], int]:
    """key -> ("hash", sha256|None, seq) or ("fields", dict|None, seq), newest entry winning;
    and how many entries predate row hashes."""
    out: dict[str, tuple[str, Any, int]] = {}
    legacy = 0
    for e in entries:
        rows = e.params.get(ROWS_PARAM)
        if isinstance(rows, dict):
            for key, h in rows.items():
                out[str(key)] = ("hash", h, e.seq)
            continue
        derived = _legacy_fields(e, out)
        if derived:
            legacy += 1
        for key, value in derived.items():
            out[key] = ("fields", value, e.seq)
    return out, legacy


def _merge(prev: tuple[str, Any, int] | None, changes: dict[str, Any]) -> dict[str, Any]:
    base = dict(prev[1]) if prev is not None and prev[0] == "fields" and isinstance(prev[1], dict) else {}
    base.update(changes)
    return base


def _legacy_fields(e: AuditEntry, known: dict[str, tuple[str, Any, int]]) -> dict[str, _Legacy]:
    """What an entry from before row hashes says about the rows it changed."""
    p = e.params
    out: dict[str, _Legacy] = {}
    try:
        if e.action == "case.created":
            for k, v in (p.get("details") or {}).items():
                out[row_key("case_details", k)] = {"value": v}
        elif e.action == "case.details_updated":
            for k, ch in (p.get("changes") or {}).items():
                out[row_key("case_details", k)] = {"value": ch.get("new")}
        elif e.action == "evidence.added":
            ref = p.get("reference") or {}
            out[row_key("evidence", int(p["evidence_id"]))] = {
                "path": p.get("path"), "sha256": p.get("sha256"), "md5": p.get("md5"), "size": p.get("size"),
                "reference_path": ref.get("path"), "reference_sha256": ref.get("sha256"),
            }  # fmt: skip
        elif e.action == "evidence.reference_set":
            key = row_key("evidence", int(p["evidence_id"]))
            new = p.get("new") or {}
            out[key] = _merge(known.get(key), {"reference_path": new.get("path"), "reference_sha256": new.get("sha256")})
        elif e.action == "finding.added":
            arts = p.get("artefacts") or {}
            out[row_key("findings", int(p["finding_id"]))] = {
                "evidence_id": p.get("evidence_id"), "kind": p.get("kind"), "data_sha256": p.get("data_sha256"),
                "artefacts": arts,
            }  # fmt: skip
            for sha in arts.values():
                out.setdefault(row_key("artefacts", sha), {})
        elif e.action == "artefact.stored":
            out[row_key("artefacts", p["sha256"])] = {}
        elif e.action in ("region.added", "region.updated"):
            region = p["region"] if e.action == "region.added" else p["new"]
            out[row_key("regions", int(region["id"]))] = {"region": region}
        elif e.action in ("region.locked", "region.unlocked"):
            key = row_key("regions", int(p["region_id"]))
            prev = known.get(key)
            if prev is not None and prev[0] == "fields" and isinstance(prev[1], dict) and "region" in prev[1]:
                out[key] = {"region": {**prev[1]["region"], "locked": e.action == "region.locked"}}
            else:
                # Locked by an older version after a newer one recorded the row's hash: the
                # entry does not say enough to rebuild the row, so it is not checked.
                out[key] = {"unchecked": True}
        elif e.action == "region.deleted":
            out[row_key("regions", int(p["region_id"]))] = None
        elif e.action == "meta.set":
            out[row_key("meta", p["key"])] = {"value_sha256": p.get("value_sha256")}
    except (KeyError, TypeError, ValueError, AttributeError):
        return {}
    return out


def _legacy_differences(table: str, row: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """Names of the recorded fields that differ from the row."""
    bad: list[str] = []
    if want.get("unchecked"):
        return bad
    if table == "case_details":
        try:
            if json.loads(row["value"]) != want.get("value"):
                bad.append("value")
        except (TypeError, ValueError, RecursionError):
            bad.append("value")
    elif table == "evidence":
        bad += [k for k, v in want.items() if row.get(k) != v]
    elif table == "findings":
        data_sha = hashlib.sha256(str(row.get("data", "")).encode("utf-8")).hexdigest()
        if data_sha != want.get("data_sha256"):
            bad.append("data")
        if row.get("kind") != want.get("kind") or row.get("evidence_id") != want.get("evidence_id"):
            bad.append("kind or evidence")
        try:
            if json.loads(row.get("artefacts") or "") != want.get("artefacts"):
                bad.append("artefacts")
        except (TypeError, ValueError, RecursionError):
            bad.append("artefacts")
    elif table == "regions":
        region = want.get("region") or {}
        try:
            stored = json.loads(row.get("data") or "")
        except (TypeError, ValueError, RecursionError):
            stored = None
        if stored != region:
            bad.append("data")
        if bool(row.get("locked")) != bool(region.get("locked")):
            bad.append("locked")
    elif table == "meta" and hashlib.sha256(str(row.get("value", "")).encode("utf-8")).hexdigest() != want.get("value_sha256"):
        bad.append("value")
    return bad


def _type_problem(table: str, row: dict[str, Any]) -> str:
    """Names the columns whose stored type the program never writes ('' when all fit)."""
    bad = []
    for col, value in row.items():
        if value is None and col in _NULLABLE_COLUMNS:
            continue
        want: type = int if col in _INTEGER_COLUMNS else str
        if type(value) is not want:
            bad.append(f"{col} ({_type_name(value)}, not {'an integer' if want is int else 'text'})")
    return ", ".join(bad)


def _type_name(value: Any) -> str:
    if value is None:
        return "NULL"
    return {bytes: "a BLOB", int: "an integer", float: "a real number", str: "text"}.get(type(value), type(value).__name__)


def _read_table(conn: sqlite3.Connection, table: str) -> list[dict[str, Any]] | None:
    cols = TRACKED[table][1]
    try:
        cur = conn.execute(f"SELECT {', '.join(cols)} FROM main.{table}")
    except sqlite3.DatabaseError:
        return None
    return [dict(zip(cols, r, strict=True)) for r in cur]


def check_rows(conn: sqlite3.Connection, entries: list[AuditEntry]) -> RowReport:
    """Compare every row of every tracked table with the audit log; call inside one read
    transaction together with the chain check, so both see the same state."""
    report = RowReport()
    expected, legacy = _expectations(entries)
    seen: set[str] = set()
    for table, (key_col, _cols) in TRACKED.items():
        rows = _read_table(conn, table)
        if rows is None:
            report.problems.append(f"the {table} table is missing or unreadable (deleted outside the program)")
            report.damaged = True
            continue
        for row in rows:
            key = row_key(table, row[key_col])
            seen.add(key)
            report.rows += 1
            wrong = _type_problem(table, row)
            if wrong:
                report.problems.append(f"{describe(key)}: stored with the wrong type in {wrong} (altered outside the program)")
                report.damaged = True
                continue
            rec = expected.get(key)
            if rec is None:
                report.problems.append(f"{describe(key)}: not recorded in the audit log (added outside the program)")
                continue
            kind, want, seq = rec
            if want is None:
                report.problems.append(f"{describe(key)}: deleted by audit entry {seq}, yet present (restored outside the program)")
            elif kind == "hash":
                if row_hash(table, row) != want:
                    report.problems.append(f"{describe(key)}: differs from what audit entry {seq} recorded (altered outside the program)")
            else:
                bad = _legacy_differences(table, row, want)
                if bad:
                    report.problems.append(
                        f"{describe(key)}: {', '.join(bad)} differ(s) from what audit entry {seq} recorded (altered outside the program)"
                    )
    for key, (_kind, want, seq) in sorted(expected.items()):
        table = key.partition("/")[0]
        if want is not None and key not in seen and _read_table_ok(conn, table):
            report.problems.append(f"{describe(key)}: recorded by audit entry {seq} but missing (deleted outside the program)")
    _rehash_artefacts(conn, report)
    if legacy:
        report.notes.append(
            f"{legacy} audit entries predate row hashes: for the rows they last changed, only the fields they "
            "recorded are checked (region contents; evidence path, hashes and size; finding data hash, kind and "
            "artefacts; case details; case value hashes), not the other columns (intake facts, times, authors)"
        )
    report.ok = not report.problems
    return report


def _read_table_ok(conn: sqlite3.Connection, table: str) -> bool:
    try:
        conn.execute(f"SELECT 1 FROM main.{table} LIMIT 1").fetchall()
    except sqlite3.DatabaseError:
        return False
    return True


def _rehash_artefacts(conn: sqlite3.Connection, report: RowReport) -> None:
    try:
        cur = conn.execute("SELECT sha256, data FROM main.artefacts")
    except sqlite3.DatabaseError:
        return
    for sha, data in cur:
        report.artefacts_rehashed += 1
        if not isinstance(data, bytes) or hashlib.sha256(data).hexdigest() != sha:
            report.problems.append(f"artefact {sha}: its bytes no longer match its SHA-256 (swapped or damaged)")
