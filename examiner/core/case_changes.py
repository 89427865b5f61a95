"""Which audit entries changed a case, decided in one place for ``case verify`` and the report.

Some entries only observe the case (a successful open or integrity check) or record something
made from it (a report export, a signed head). The report leaves them out, so the same case
content gives the same report and the same anchor. The action's name alone must not decide
that: anyone who can recompute the chain could append an entry called ``report.exported`` that
carries the hashes of rows changed outside the program, and the row check would accept the
change while the report hid it. So an entry that records row hashes is a change whatever its
action, and an observing action that records row hashes is named as a forgery, since the
program never writes one.
"""

from __future__ import annotations

from examiner.core.audit import AuditEntry
from examiner.core.row_records import ROWS_PARAM
from examiner.core.signing import SIGN_ACTION

# Observations: left out of the report only when they record a successful check.
OBSERVING_ACTIONS = frozenset({"case.opened", "case.integrity_checked", "report.integrity_checked"})
EXPORT_ACTION = "report.exported"
# Records of something made from the case; they never change it.
RECORDING_ACTIONS = frozenset({EXPORT_ACTION, SIGN_ACTION})


def records_rows(entry: AuditEntry) -> bool:
    """The entry carries row hashes, i.e. it says it wrote table rows."""
    return ROWS_PARAM in entry.params


def changes_case(entry: AuditEntry) -> bool:
    """True for every entry that is part of the case's state (listed in the report, anchored)."""
    if records_rows(entry):
        return True
    if entry.action in RECORDING_ACTIONS:
        return False
    return not (entry.action in OBSERVING_ACTIONS and entry.params.get("ok") is True)


def disguised_changes(entries: list[AuditEntry]) -> list[str]:
    """One problem per entry whose action only observes or records, yet which carries row hashes."""
    return [
        f"audit entry {e.seq} ({e.action}) records changed table rows, which that action never writes: "
        "a change to the case was logged as an observation (forged entry)"
        for e in entries
        if records_rows(e) and (e.action in RECORDING_ACTIONS or e.action in OBSERVING_ACTIONS)
    ]


def changes_after(entries: list[AuditEntry], seq: int) -> list[AuditEntry]:
    """The entries after ``seq`` that changed the case."""
    return [e for e in entries if e.seq > seq and changes_case(e)]
