"""The anchor checks of ``examiner case verify``: an expected head and trusted signatures."""

from __future__ import annotations

from examiner.core.anchor import AnchorReport, check_expected_head, parse_head
from examiner.core.audit import AuditEntry
from examiner.core.signing import check_signatures, load_public_key


def anchor_report(entries: list[AuditEntry], chain_ok: bool, expect_head: str | None, public_keys: list[str]) -> AnchorReport:
    out = AnchorReport()
    if expect_head:
        out.extend(check_expected_head(entries, chain_ok, parse_head(expect_head)))
    else:
        out.notes.append(
            "no expected head given: the check proves the file is consistent with itself, not that it is the "
            "file a report was made from (a complete rewrite would pass)"
        )
    out.extend(check_signatures(entries, [load_public_key(k) for k in public_keys]))
    return out
