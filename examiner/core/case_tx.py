"""How a case writes: one transaction per change, with its audit entry and the hashes of the rows
it left behind; and the audit log as seen through an open case.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from examiner.core.audit import AuditEntry, AuditLog, ChainReport
from examiner.core.row_records import ROWS_PARAM, collect_changes
from examiner.errors import CaseError

LOGIN_PARAM = "login"

if TYPE_CHECKING:
    from examiner.core.case import Case


class WriteTx:
    """BEGIN IMMEDIATE ... audit append ... COMMIT, holding the case lock throughout."""

    def __init__(self, case: Case, action: str, params: dict[str, Any], actor: str) -> None:
        self.case = case
        self.actor = actor
        self.action = action
        self.params = params
        self.entry: AuditEntry | None = None

    def __enter__(self) -> WriteTx:
        self.case._lock.acquire()
        try:
            self.case.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            self.case._lock.release()
            raise CaseError(f"{self.case.path}: cannot write ({exc})") from None
        except BaseException:
            self.case._lock.release()
            raise
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        conn = self.case.conn
        try:
            if exc_type is None:
                try:
                    changed = collect_changes(conn)
                    if changed:
                        self.params[ROWS_PARAM] = changed
                    # Who was logged in is a fact worth keeping; who acted is ``actor``.
                    self.params.setdefault(LOGIN_PARAM, self.case.login)
                    self.entry = self.case._audit.append(self.actor, self.action, self.params)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            else:
                conn.execute("ROLLBACK")
        except sqlite3.Error as e:
            raise CaseError(f"{self.case.path}: write failed ({e})") from None
        finally:
            self.case._lock.release()


class CaseAudit:
    """The audit log as seen through a case: appends go through their own transaction."""

    def __init__(self, case: Case) -> None:
        self._case = case

    def append(self, actor: str, action: str, params: dict[str, Any] | None = None) -> AuditEntry:
        return self._case.log_action(action, params, actor=actor)

    def entries(self, since: int = 0, limit: int | None = None) -> list[AuditEntry]:
        with self._case._lock:
            return AuditLog(self._case.conn).entries(since, limit)

    def verify(self) -> ChainReport:
        with self._case._lock:
            return AuditLog(self._case.conn).verify()
