"""How a case writes: one transaction per change, with its audit entry and the hashes of the rows
it left behind; and the audit log as seen through an open case.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from examiner.core.audit import AuditEntry, AuditLog, ChainReport
from examiner.core.row_records import ROWS_PARAM, collect_changes
from examiner.core.store import BUSY_TIMEOUT_MS
from examiner.errors import CaseError

LOGIN_PARAM = "login"

if TYPE_CHECKING:
    from examiner.core.case import Case


# While another program writes, SQLite's own wait gives up after its busy timeout, and a writer
# that commits again at once can win every retry. A write therefore polls in short attempts up
# to a bound, says once that it is waiting, and names the reason when the bound is reached.
_ATTEMPT_MS = 200


@dataclass
class LockWait:
    """How long a write waits for another program's write to finish, and whom to tell."""

    # The default keeps the window's wait as short as SQLite's busy timeout was; commands wait
    # longer and say so (examiner.commands._settings.lock_wait).
    seconds: float = 10.0
    notify: Callable[[str], None] | None = None


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def begin_immediate(conn: sqlite3.Connection, path: object, wait: LockWait) -> None:
    """BEGIN IMMEDIATE, waiting up to ``wait.seconds`` for other writers; CaseError after that."""
    deadline = time.monotonic() + max(0.0, wait.seconds)
    told = False
    conn.execute(f"PRAGMA busy_timeout = {_ATTEMPT_MS}")
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise CaseError(f"{path}: cannot write ({exc})") from None
                if time.monotonic() >= deadline:
                    raise CaseError(
                        f"{path}: another program kept the case locked for {wait.seconds:g} s while writing to it; "
                        "nothing was done; try again when it has finished"
                    ) from None
                if not told and wait.notify is not None:
                    wait.notify(f"{path}: another program is writing to the case; waiting up to {wait.seconds:g} s")
                    told = True
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


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
            begin_immediate(self.case.conn, self.case.path, self.case.lock_wait)
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
