"""The result of checking a case: the audit chain, every table row against the log, and every
evidence and reference file against its intake hash."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from examiner.core.audit import ChainReport
from examiner.core.case_records import EvidenceItem
from examiner.core.evidence import hash_file
from examiner.core.row_records import RowReport
from examiner.errors import EvidenceError


@dataclass
class FileStatus:
    """Integrity of one file the case depends on. ``status``: ok | mismatch | missing | unreadable."""

    evidence_id: int
    role: str  # evidence | reference
    path: str
    expected_sha256: str
    actual_sha256: str | None
    status: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class IntegrityReport:
    """Result of verifying the audit chain, comparing every table row with it and re-hashing
    every evidence/reference file."""

    checked_utc: str
    chain: ChainReport
    files: list[FileStatus] = field(default_factory=list)
    rows: RowReport = field(default_factory=RowReport)

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.rows.ok and all(f.status == "ok" for f in self.files)

    @property
    def damaged(self) -> bool:
        """A table is missing or holds values of a type the program never writes: the case can
        be checked, but not read as a case (no report is made from it)."""
        return self.chain.damaged or self.rows.damaged

    def evidence_status(self, evidence_id: int) -> str:
        """Worst status among the evidence file and its reference ('ok' when all match)."""
        statuses = [f.status for f in self.files if f.evidence_id == evidence_id]
        for s in ("mismatch", "missing", "unreadable"):
            if s in statuses:
                return s
        return "ok"

    def problems(self) -> list[str]:
        out = []
        if not self.chain.ok:
            out.append(self.chain.summary())
        out.extend(self.rows.problems)
        for f in self.files:
            if f.status == "ok":
                continue
            what = f"{f.role} {f.evidence_id} ({f.path})"
            if f.status == "mismatch":
                out.append(f"{what}: SHA-256 MISMATCH, expected {f.expected_sha256}, now {f.actual_sha256}")
            elif f.status == "missing":
                out.append(f"{what}: file MISSING")
            else:
                out.append(f"{what}: file unreadable ({f.detail})")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked_utc": self.checked_utc,
            "chain": self.chain.to_dict(),
            "files": [f.to_dict() for f in self.files],
            "rows": self.rows.to_dict(),
            "problems": self.problems(),
        }


def file_status(evidence_id: int, role: str, path: str, expected: str) -> FileStatus:
    """Re-hash one file; a FIFO, device or folder is ``unreadable``, never waited on."""
    p = Path(path)
    if not p.exists():
        return FileStatus(evidence_id, role, path, expected, None, "missing")
    try:
        actual, _ = hash_file(p)
    except EvidenceError as exc:
        return FileStatus(evidence_id, role, path, expected, None, "unreadable", exc.problem)
    return FileStatus(evidence_id, role, path, expected, actual, "ok" if actual == expected else "mismatch")


def item_files(item: EvidenceItem) -> list[FileStatus]:
    """The evidence file of an item and its reference original, each re-hashed now."""
    out = [file_status(item.id, "evidence", item.path, item.sha256)]
    if item.reference_path:
        out.append(file_status(item.id, "reference", item.reference_path, item.reference_sha256 or ""))
    return out
