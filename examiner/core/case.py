"""A case: details, evidence items, reference originals, findings, regions and artefacts, all in
one SQLite ``.mcase`` file with a hash-chained audit log.

Every mutating method runs in one transaction that also appends its audit entry, so the change
and its record commit together or not at all. Evidence files are never copied or written: the
case stores their path and the hashes taken at intake, and :meth:`Case.integrity_check`
re-hashes them (it runs on every open; the result is kept in :attr:`Case.integrity`). The object
is safe to share between threads (one lock serialises access). Typical use::

    with Case.create("job.mcase", case_id="2026-17", examiner="A. Examiner") as case:
        item = case.add_evidence("plate.jpg", reference="plate_original.png")
        case.add_finding(item.id, "detection", {"score": 0.93}, {"heatmap.png": png_bytes})

    with Case.open("job.mcase") as case:
        if not case.integrity.ok:
            print(case.integrity.problems())
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from examiner.core import store
from examiner.core.actors import default_actor, login_name
from examiner.core.audit import AuditEntry, AuditLog, ChainReport, canonical_json, utc_now
from examiner.core.case_changes import disguised_changes
from examiner.core.case_records import (
    EDITABLE_DETAILS,
    EVIDENCE_COLUMNS,
    ArtefactInfo,
    CaseDetails,
    EvidenceItem,
    Finding,
    evidence_from_row,
    finding_from_row,
    from_row,
    region_from_json,
)
from examiner.core.case_tx import CaseAudit, LockWait, WriteTx
from examiner.core.evidence import Evidence, open_evidence
from examiner.core.formats import DEFAULT_MAX_PIXELS
from examiner.core.integrity import FileStatus, IntegrityReport, item_files
from examiner.core.regions import Region, validate_region
from examiner.core.row_records import (
    RowReport,
    check_rows,
    install_change_tracking,
)
from examiner.core.text_safety import check_names
from examiner.errors import CaseError, IntegrityError

__all__ = ["ArtefactInfo", "Case", "CaseDetails", "EvidenceItem", "FileStatus", "Finding", "IntegrityReport"]

CASE_SUFFIX = ".mcase"
FINDING_KINDS_KNOWN = ("detection", "recompression", "variability", "suggestion", "identification", "symbols", "note")


class Case:
    """An open case file. Create with :meth:`create`, open with :meth:`open`; close when done
    (or use it as a context manager)."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, actor: str, read_only: bool, max_pixels: int = DEFAULT_MAX_PIXELS,
        lock_wait: LockWait | None = None,
    ) -> None:
        self.path = path
        self.actor = actor
        self.login = login_name()
        # The intake limit for every file this case decodes (evidence, references).
        self.max_pixels = int(max_pixels)
        self.read_only = read_only
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.RLock()
        self._audit = AuditLog(conn)
        self.integrity: IntegrityReport = IntegrityReport(utc_now(), ChainReport(True, 0))
        self._untracked = False
        self.lock_wait = lock_wait or LockWait()  # how long writes wait for another program's write
        if not read_only:
            try:
                install_change_tracking(conn)
            except sqlite3.DatabaseError:
                # A table is gone; the integrity check names it, and writes are refused below.
                self._untracked = True

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    def create(
        cls,
        path: str | Path,
        case_id: str,
        examiner: str,
        requester: str = "",
        lab: str = "",
        actor: str | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        **details: str,
    ) -> Case:
        """Create a new case file (refuses to overwrite an existing file)."""
        p = Path(path)
        if not case_id.strip():
            raise CaseError("a case needs a case id")
        if not examiner.strip():
            raise CaseError("a case needs the examiner's name")
        check_names(examiner=examiner, requester=requester, actor=actor or "")
        unknown = set(details) - set(EDITABLE_DETAILS)
        if unknown:
            raise CaseError(f"unknown case detail(s): {', '.join(sorted(unknown))}")
        if not p.parent.exists():
            raise CaseError(f"{p}: folder {p.parent} does not exist")
        conn = store.connect(p, create=True)
        case = cls(p, conn, actor or examiner or default_actor(), read_only=False, max_pixels=max_pixels)
        d = CaseDetails(case_id=case_id, examiner=examiner, requester=requester, lab=lab, created_utc=utc_now(), **details)
        with case._write("case.created", {"details": d.to_dict(), "schema_version": store.SCHEMA_VERSION}):
            for k, v in d.to_dict().items():
                conn.execute("INSERT INTO case_details (key, value) VALUES (?, ?)", (k, json.dumps(v)))
        case.integrity = IntegrityReport(utc_now(), case._audit.verify())
        return case

    @classmethod
    def open(
        cls,
        path: str | Path,
        actor: str | None = None,
        read_only: bool = False,
        record: bool = True,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        lock_wait: LockWait | None = None,
    ) -> Case:
        """Open a case: verify the audit chain and re-hash every evidence and reference file.

        The case opens even when something fails, so the problem can be shown; look at
        :attr:`integrity`. Unless ``read_only`` or ``record=False``, the check is recorded in the
        audit log (action ``case.opened``).
        """
        p = Path(path)
        check_names(actor=actor or "")
        conn = store.connect(p, read_only=read_only)
        case = cls(p, conn, actor or "", read_only=read_only, max_pixels=max_pixels, lock_wait=lock_wait)
        try:
            # The case's examiner acts unless the front end names someone: the login is only a fact.
            case.actor = actor or case._examiner_name() or default_actor()
            case.integrity_check(record=record and not read_only, action="case.opened")
        except BaseException:
            case.close()
            raise
        return case

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise CaseError(f"{self.path}: the case is closed")
        return self._conn

    def _write(self, action: str, params: dict[str, Any], actor: str | None = None) -> WriteTx:
        if self.read_only:
            raise CaseError(f"{self.path}: the case is open read-only")
        if self._untracked:
            raise IntegrityError(f"{self.path}: the case file's tables are damaged; no changes made (run 'examiner case verify')")
        return WriteTx(self, action, params, actor or self.actor)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Case]:
        """Hold one read transaction, so every read inside sees the same committed state even
        while another process writes (it waits until the snapshot ends). Nests."""
        with self._lock:
            conn = self.conn
            if conn.in_transaction:
                yield self
                return
            conn.execute("BEGIN")
            try:
                yield self
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    def check_tables(self) -> tuple[ChainReport, RowReport]:
        """The audit chain (an emptied log, not begun by case.created, is broken) and every table
        row against it, both from one snapshot."""
        with self.snapshot():
            chain = self._audit.verify()
            entries = self._audit.entries()
            rows = check_rows(self.conn, entries)
        if chain.ok and (not entries or entries[0].action != "case.created"):
            problem = "the log does not begin with the case's creation (case.created): it was emptied or replaced"
            chain = ChainReport(False, chain.entries, first_bad=1, problem=problem, problems=[problem])
        rows.problems += disguised_changes(entries)
        rows.ok = not rows.problems
        return chain, rows

    # ---------------------------------------------------------------- audit

    @property
    def audit(self) -> CaseAudit:
        """``append(actor, action, params)``, ``entries()``, ``verify() -> ChainReport``."""
        return CaseAudit(self)

    def log_action(self, action: str, params: dict[str, Any] | None = None, actor: str | None = None) -> AuditEntry:
        """Record an action that changes nothing else in the case (e.g. a report export)."""
        with self._write(action, dict(params or {}), actor) as tx:
            pass
        assert tx.entry is not None
        return tx.entry

    # ---------------------------------------------------------------- details

    @property
    def details(self) -> CaseDetails:
        with self._lock:
            rows = dict(self.conn.execute("SELECT key, value FROM case_details").fetchall())
        values = {k: from_row(self.path, f"case detail {k!r}", json.loads, v)
                  for k, v in rows.items() if k in {f.name for f in fields(CaseDetails)}}  # fmt: skip
        values.setdefault("case_id", "")
        values.setdefault("examiner", "")
        return CaseDetails(**values)

    def _examiner_name(self) -> str:
        try:  # a damaged case still opens, so that the check can name the damage
            return self.details.examiner.strip()
        except (sqlite3.DatabaseError, CaseError):
            return ""

    def update_details(self, **changes: str) -> CaseDetails:
        unknown = set(changes) - set(EDITABLE_DETAILS)
        if unknown:
            raise CaseError(f"unknown or read-only case detail(s): {', '.join(sorted(unknown))}")
        for k, v in changes.items():
            if not isinstance(v, str):
                raise CaseError(f"case detail {k} must be text")
        check_names(**{k: v for k, v in changes.items() if k in ("examiner", "requester")})
        old = self.details.to_dict()
        diff = {k: {"old": old.get(k, ""), "new": v} for k, v in changes.items() if old.get(k, "") != v}
        if not diff:
            return self.details
        with self._write("case.details_updated", {"changes": diff}):
            for k in diff:
                self.conn.execute(
                    "INSERT INTO case_details (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (k, json.dumps(changes[k])),
                )
        return self.details

    # ---------------------------------------------------------------- evidence

    def add_evidence(self, path: str | Path, reference: str | Path | None = None) -> EvidenceItem:
        """Take an evidence file in (full intake: hashes, facts, decode check) and add it.

        The file is only read. A reference original, if given, goes through the same intake.
        Adding the same bytes twice is refused.
        """
        ev = open_evidence(path, self.max_pixels)
        dup = self.conn.execute("SELECT id, path FROM evidence WHERE sha256 = ?", (ev.sha256,)).fetchone()
        if dup is not None:
            raise CaseError(f"{path}: the same file (SHA-256 {ev.sha256[:16]}...) is already evidence {dup[0]} ({dup[1]})")
        ref = open_evidence(reference, self.max_pixels) if reference is not None else None
        params: dict[str, Any] = {
            "path": ev.facts.path,
            "sha256": ev.facts.sha256,
            "md5": ev.facts.md5,
            "size": ev.facts.size,
            "format": ev.facts.format,
            "width": ev.facts.width,
            "height": ev.facts.height,
            "reference": None if ref is None else {"path": ref.facts.path, "sha256": ref.facts.sha256},
        }
        with self._write("evidence.added", params) as tx:
            cur = self.conn.execute(
                "INSERT INTO evidence (path, sha256, md5, size, facts, reference_path, reference_sha256, reference_md5,"
                " added_utc, added_by) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    ev.facts.path, ev.facts.sha256, ev.facts.md5, ev.facts.size, canonical_json(ev.facts.to_dict()),
                    *((None,) * 3 if ref is None else (ref.facts.path, ref.facts.sha256, ref.facts.md5)), utc_now(), self.actor,
                ),
            )  # fmt: skip
            tx.params["evidence_id"] = int(cur.lastrowid or 0)
        return self.evidence_item(int(cur.lastrowid or 0))

    def set_reference(self, evidence_id: int, path: str | Path | None) -> EvidenceItem:
        """Attach (or with ``None`` detach) the reference original of an evidence item."""
        item = self.evidence_item(evidence_id)
        ref = open_evidence(path, self.max_pixels) if path is not None else None
        params = {
            "evidence_id": evidence_id,
            "old": item.reference,
            "new": None if ref is None else {"path": ref.facts.path, "sha256": ref.facts.sha256},
        }
        with self._write("evidence.reference_set", params):
            self.conn.execute(
                "UPDATE evidence SET reference_path = ?, reference_sha256 = ?, reference_md5 = ? WHERE id = ?",
                (None if ref is None else ref.facts.path, None if ref is None else ref.facts.sha256,
                 None if ref is None else ref.facts.md5, evidence_id),
            )  # fmt: skip
        return self.evidence_item(evidence_id)

    def evidence(self) -> list[EvidenceItem]:
        with self._lock:
            rows = self.conn.execute(f"SELECT {EVIDENCE_COLUMNS} FROM evidence ORDER BY id").fetchall()
        return [from_row(self.path, f"evidence item {r[0]}", evidence_from_row, r) for r in rows]

    def evidence_item(self, evidence_id: int) -> EvidenceItem:
        with self._lock:
            row = self.conn.execute(f"SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE id = ?", (int(evidence_id),)).fetchone()
        if row is None:
            raise CaseError(f"{self.path}: no evidence item {evidence_id}")
        return from_row(self.path, f"evidence item {evidence_id}", evidence_from_row, row)

    def load_evidence(self, evidence_id: int) -> Evidence:
        """Decode an evidence item's file now, refusing it if its bytes changed since intake."""
        item = self.evidence_item(evidence_id)
        ev = open_evidence(item.path, self.max_pixels)
        if ev.sha256 != item.sha256:
            raise IntegrityError(
                f"{item.path}: SHA-256 changed since intake (was {item.sha256}, now {ev.sha256}); evidence refused"
            )
        return ev

    def load_reference(self, evidence_id: int) -> np.ndarray | None:
        """Pixels of the evidence item's reference original (hash-checked), or None."""
        item = self.evidence_item(evidence_id)
        if not item.reference_path:
            return None
        ref = open_evidence(item.reference_path, self.max_pixels)
        if ref.sha256 != item.reference_sha256:
            raise IntegrityError(
                f"{item.reference_path}: SHA-256 of the reference changed (was {item.reference_sha256}, now {ref.sha256})"
            )
        return ref.pixels

    # ---------------------------------------------------------------- artefacts

    def put_artefact(self, data: bytes, media_type: str, name: str) -> str:
        """Store a blob (content-addressed, deduplicated) and return its SHA-256."""
        with self._write("artefact.stored", {}) as tx:
            digest = self._put_artefact(data, media_type, name)
            tx.params.update({"sha256": digest, "name": name, "media_type": media_type, "size": len(data)})
        return digest

    def _put_artefact(self, data: bytes, media_type: str, name: str) -> str:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise CaseError(f"artefact {name!r} must be bytes")
        blob = bytes(data)
        digest = hashlib.sha256(blob).hexdigest()
        self.conn.execute(
            "INSERT OR IGNORE INTO artefacts (sha256, media_type, name, size, data, created_utc) VALUES (?,?,?,?,?,?)",
            (digest, media_type, name, len(blob), blob, utc_now()),
        )
        return digest

    def get_artefact(self, sha256: str) -> bytes:
        """The blob with this SHA-256, verified; IntegrityError if its stored bytes changed."""
        with self._lock:
            row = self.conn.execute("SELECT data FROM artefacts WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            raise CaseError(f"{self.path}: no artefact {sha256}")
        data = bytes(row[0])
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError(f"{self.path}: artefact {sha256} is corrupt (its bytes no longer match its hash)")
        return data

    def artefact_info(self, sha256: str) -> ArtefactInfo:
        with self._lock:
            row = self.conn.execute(
                "SELECT sha256, media_type, name, size, created_utc FROM artefacts WHERE sha256 = ?", (sha256,)
            ).fetchone()
        if row is None:
            raise CaseError(f"{self.path}: no artefact {sha256}")
        return ArtefactInfo(*row)

    # ---------------------------------------------------------------- findings

    def add_finding(
        self,
        evidence_id: int,
        kind: str,
        data: dict[str, Any],
        artefacts: dict[str, bytes] | None = None,
    ) -> Finding:
        """Attach a result to an evidence item; ``artefacts`` (name -> bytes) are stored as blobs
        and referenced by SHA-256. ``data`` must be JSON (no NaN)."""
        self.evidence_item(evidence_id)
        if not kind or not isinstance(kind, str):
            raise CaseError("a finding needs a kind")
        try:
            data_text = canonical_json(data)
        except (TypeError, ValueError, RecursionError) as exc:
            raise CaseError(f"finding data cannot be stored as JSON: {exc}") from None
        params: dict[str, Any] = {
            "evidence_id": evidence_id,
            "kind": kind,
            "data_sha256": hashlib.sha256(data_text.encode("utf-8")).hexdigest(),
        }
        now = utc_now()
        with self._write("finding.added", params) as tx:
            hashes: dict[str, str] = {}
            for name, blob in (artefacts or {}).items():
                media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
                hashes[name] = self._put_artefact(blob, media_type, name)
            cur = self.conn.execute(
                "INSERT INTO findings (evidence_id, kind, data, artefacts, created_utc, actor) VALUES (?,?,?,?,?,?)",
                (evidence_id, kind, data_text, canonical_json(hashes), now, self.actor),
            )
            tx.params["finding_id"] = int(cur.lastrowid or 0)
            tx.params["artefacts"] = hashes
        return Finding(int(cur.lastrowid or 0), evidence_id, kind, json.loads(data_text), hashes, now, self.actor)

    def findings(self, evidence_id: int | None = None, kind: str | None = None) -> list[Finding]:
        sql = "SELECT id, evidence_id, kind, data, artefacts, created_utc, actor FROM findings WHERE 1=1"
        args: list[Any] = []
        if evidence_id is not None:
            sql += " AND evidence_id = ?"
            args.append(int(evidence_id))
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        with self._lock:
            rows = self.conn.execute(sql + " ORDER BY id", args).fetchall()
        return [from_row(self.path, f"finding {r[0]}", finding_from_row, r) for r in rows]

    def finding(self, finding_id: int) -> Finding:
        for f in self.findings():
            if f.id == finding_id:
                return f
        raise CaseError(f"{self.path}: no finding {finding_id}")

    # ---------------------------------------------------------------- regions

    def add_region(self, region: Region) -> Region:
        """Store a new region; returns a copy with ``id`` (and author/time when empty) set."""
        item = self.evidence_item(region.evidence_id)
        validate_region(region, item.id, int(item.facts.get("width", 0)), int(item.facts.get("height", 0)))
        r = Region.from_dict(region.to_dict())
        r.id = None
        r.author = r.author or self.actor
        r.created_utc = r.created_utc or utc_now()
        with self._write("region.added", {}) as tx:
            cur = self.conn.execute(
                "INSERT INTO regions (evidence_id, data, locked, created_utc, updated_utc) VALUES (?,?,?,?,?)",
                (r.evidence_id, "{}", int(r.locked), r.created_utc, r.created_utc),
            )
            r.id = int(cur.lastrowid or 0)
            self.conn.execute("UPDATE regions SET data = ? WHERE id = ?", (canonical_json(r.to_dict()), r.id))
            tx.params.update({"region": r.to_dict()})
        return r

    def update_region(self, region: Region) -> Region:
        """Replace a stored region's contents. Locked regions refuse edits (unlock first)."""
        if region.id is None:
            raise CaseError("update_region needs a region with an id (use add_region for new ones)")
        old = self.region(region.id)
        if old.locked:
            raise CaseError(f"region {region.id} is locked; unlock it before editing")
        item = self.evidence_item(region.evidence_id)
        validate_region(region, item.id, int(item.facts.get("width", 0)), int(item.facts.get("height", 0)))
        if region.evidence_id != old.evidence_id:
            raise CaseError(f"region {region.id} belongs to evidence {old.evidence_id}; it cannot move")
        new = Region.from_dict(region.to_dict())
        with self._write("region.updated", {"region_id": new.id, "old": old.to_dict(), "new": new.to_dict()}):
            self.conn.execute(
                "UPDATE regions SET data = ?, locked = ?, updated_utc = ? WHERE id = ?",
                (canonical_json(new.to_dict()), int(new.locked), utc_now(), new.id),
            )
        return new

    def set_region_locked(self, region_id: int, locked: bool, reason: str = "") -> Region:
        """Lock (freeze) or unlock a region; unlocking is recorded with its reason."""
        r = self.region(region_id)
        if r.locked == locked:
            return r
        r.locked = locked
        with self._write("region.locked" if locked else "region.unlocked", {"region_id": region_id, "reason": reason}):
            self.conn.execute(
                "UPDATE regions SET data = ?, locked = ?, updated_utc = ? WHERE id = ?",
                (canonical_json(r.to_dict()), int(locked), utc_now(), region_id),
            )
        return r

    def delete_region(self, region_id: int) -> None:
        r = self.region(region_id)
        if r.locked:
            raise CaseError(f"region {region_id} is locked; unlock it before deleting")
        with self._write("region.deleted", {"region_id": region_id, "old": r.to_dict()}):
            self.conn.execute("DELETE FROM regions WHERE id = ?", (region_id,))

    def region(self, region_id: int) -> Region:
        with self._lock:
            row = self.conn.execute("SELECT data FROM regions WHERE id = ?", (int(region_id),)).fetchone()
        if row is None:
            raise CaseError(f"{self.path}: no region {region_id}")
        return from_row(self.path, f"region {region_id}", region_from_json, row[0])

    def regions(self, evidence_id: int | None = None) -> list[Region]:
        with self._lock:
            if evidence_id is None:
                rows = self.conn.execute("SELECT data FROM regions ORDER BY id").fetchall()
            else:
                rows = self.conn.execute(
                    "SELECT data FROM regions WHERE evidence_id = ? ORDER BY id", (int(evidence_id),)
                ).fetchall()
        return [from_row(self.path, "a region", region_from_json, r[0]) for r in rows]

    # ---------------------------------------------------------------- key/value

    def get_meta(self, key: str, default: Any = None) -> Any:
        """A JSON value other parts of the program keep in the case (e.g. rejected suggestions)."""
        with self._lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else from_row(self.path, f"case value {key!r}", json.loads, row[0])

    def set_meta(self, key: str, value: Any, actor: str | None = None) -> None:
        try:
            text = canonical_json(value)
        except (TypeError, ValueError, RecursionError) as exc:
            raise CaseError(f"meta value for {key!r} cannot be stored as JSON: {exc}") from None
        with self._write("meta.set", {"key": key, "value_sha256": hashlib.sha256(text.encode()).hexdigest()}, actor):
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, text),
            )

    def meta_keys(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self.conn.execute("SELECT key FROM meta ORDER BY key")]

    # ---------------------------------------------------------------- integrity

    def integrity_check(self, record: bool = True, action: str = "case.integrity_checked") -> IntegrityReport:
        """Verify the audit chain, compare every table row with it, and re-hash every evidence
        and reference file now.

        The result replaces :attr:`integrity`; with ``record`` (and a writable case) the outcome
        is appended to the audit log. The tables are read in one snapshot, and the outcome is
        recorded only for the state it describes: if another writer got in between, the check
        runs again under the write lock. Never raises for a failed check: read the report.
        """
        with self._lock:
            with self.snapshot():
                chain, rows = self.check_tables()
                items = self._evidence_for_check()
                head = self._last_entry()
            files = [s for item in items for s in item_files(item)]
            report = IntegrityReport(utc_now(), chain, files, rows)
            if record and not self.read_only and not chain.damaged:
                # Not through _write: a failed check is recorded even when the tables are damaged.
                with WriteTx(self, action, {}, self.actor) as tx:
                    if self._last_entry() != head:
                        chain, rows = self.check_tables()
                        now = self._evidence_for_check()
                        if now != items:
                            files = [s for item in now for s in item_files(item)]
                        report = IntegrityReport(utc_now(), chain, files, rows)
                    tx.params.update({
                        "ok": report.ok,
                        "chain": chain.summary(),
                        "rows": rows.summary(),
                        "files": [{"evidence_id": f.evidence_id, "role": f.role, "status": f.status} for f in files],
                    })  # fmt: skip
            self.integrity = report
            return report

    def _evidence_for_check(self) -> list[EvidenceItem]:
        try:
            return self.evidence()
        except (CaseError, sqlite3.DatabaseError):
            return []  # an unreadable evidence row or table: the row check has named it

    def _last_entry(self) -> tuple[Any, ...] | None:
        try:
            row = self.conn.execute("SELECT seq, entry_hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        except sqlite3.DatabaseError:
            return None  # the log is gone: the chain check names it
        return None if row is None else tuple(row)
