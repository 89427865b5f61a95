"""The anchor checks of ``examiner case verify``: an expected head and trusted signatures."""

from __future__ import annotations

from examiner.core.anchor import AnchorReport, check_expected_head, parse_head
from examiner.core.audit import AuditEntry
from examiner.core.case_changes import changes_after
from examiner.core.signing import check_signatures, load_public_key


def anchor_report(entries: list[AuditEntry], chain_ok: bool, expect_head: str | None, public_keys: list[str]) -> AnchorReport:
    out = AnchorReport()
    if expect_head:
        head = parse_head(expect_head)
        out.extend(check_expected_head(entries, chain_ok, head))
        changed = changes_after(entries, head.seq)
        if changed and not out.problems:
            listed = ", ".join(f"{e.seq} ({e.action})" for e in changed[:10]) + (" ..." if len(changed) > 10 else "")
            out.notes.append(
                f"{len(changed)} entries after the expected head changed the case: {listed}; the head does not "
                f"cover them, and a report made now anchors entry {changed[-1].seq} and lists them"
            )
    else:
        out.notes.append(
            "no expected head given: the check proves the file is consistent with itself, not that it is the "
            "file a report was made from (a complete rewrite would pass)"
        )
    out.extend(check_signatures(entries, [load_public_key(k) for k in public_keys]))
    return out
