"""Anchoring a case's audit chain outside the file.

Everything inside a case file can be rewritten by someone who recomputes every hash. A *head*
(an entry number and that entry's hash, ``N:HASH``) taken from an earlier report or receipt
pins the whole log up to entry N, because entry N's hash covers every entry before it. A later
check against it proves that entries 1..N are unchanged; entries after N are new since then,
which is expected for a case still being worked on. A signature over a head with the
examiner's key (see :mod:`examiner.core.signing`) does the same without a copy of the head.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from examiner.core.audit import AuditEntry, canonical_json
from examiner.errors import ExaminerError

HEAD_FORMAT = "miscompression-examiner audit head 1"
_HEAD_RE = re.compile(r"^\s*(\d{1,12})\s*:\s*([0-9a-fA-F]{64})\s*$")


@dataclass(frozen=True)
class ChainHead:
    seq: int
    entry_hash: str

    def text(self) -> str:
        return f"{self.seq}:{self.entry_hash}"

    def message(self) -> bytes:
        """The bytes a signature covers."""
        return canonical_json({"format": HEAD_FORMAT, "seq": self.seq, "entry_hash": self.entry_hash}).encode("utf-8")


def parse_head(text: str) -> ChainHead:
    m = _HEAD_RE.fullmatch(text or "")
    if m is None or int(m.group(1)) < 1:
        raise ExaminerError(f"{text!r}: an expected head is N:HASH (entry number, colon, 64 hex digits of its hash)")
    return ChainHead(int(m.group(1)), m.group(2).lower())


def head_of(entries: list[AuditEntry]) -> ChainHead | None:
    return ChainHead(entries[-1].seq, entries[-1].entry_hash) if entries else None


@dataclass
class AnchorReport:
    """What the checks against anchors outside the file found."""

    ok: bool = True
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def extend(self, other: AnchorReport) -> None:
        self.problems += other.problems
        self.notes += other.notes
        self.ok = not self.problems

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_expected_head(entries: list[AuditEntry], chain_ok: bool, expected: ChainHead) -> AnchorReport:
    """Entry ``expected.seq`` must exist with exactly that hash (a longer chain is fine)."""
    out = AnchorReport()
    by_seq = {e.seq: e for e in entries}
    last = entries[-1].seq if entries else 0
    entry = by_seq.get(expected.seq)
    if entry is None:
        out.problems.append(
            f"expected head {expected.text()}: the log has only {last} entries, so entries were removed "
            "(the log was cut back or rewritten since that head was taken)"
        )
    elif entry.entry_hash != expected.entry_hash:
        out.problems.append(
            f"expected head {expected.text()}: entry {expected.seq} now has hash {entry.entry_hash}, so the log up "
            "to that entry was rewritten since that head was taken"
        )
    elif not chain_ok:
        out.problems.append(f"expected head {expected.text()}: found, but the chain does not verify")
    elif last > expected.seq:
        out.notes.append(
            f"expected head {expected.text()} matches; the log has {last - expected.seq} entries added since then "
            f"(entries {expected.seq + 1}-{last}), which that head does not cover"
        )
    else:
        out.notes.append(f"expected head {expected.text()} matches the end of the log")
    out.ok = not out.problems
    return out
