"""Loading findings: the (kind, schema version) registry and the migrations between versions.

A finding written before records carried a schema version is version 1. Reading migrates a
record step by step to the current version of its kind; nothing is written back, so the case
file (and its audit log, which hashes the stored data) stays exactly as recorded. A record from a
newer version of the program is refused by name rather than misread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from examiner.core.case import Case, Finding
from examiner.errors import CaseError
from examiner.findings.artefacts import IMAGE_ARTEFACTS
from examiner.findings.records import RECORD_TYPES, SCHEMA_KEY, FindingRecord, OtherRecord

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _recompression_1_to_2(d: dict[str, Any]) -> dict[str, Any]:
    # Version 1 records from the window called the hash of the raw decoded pixels
    # "output_sha256"; the name now says what it hashes. "output_artefact" was never written.
    out = {k: v for k, v in d.items() if k not in ("output_sha256", "output_artefact")}
    if "output_sha256" in d and "pixels_sha256" not in d:
        out["pixels_sha256"] = d["output_sha256"]
    if "quality" not in out:
        out["quality"] = 0
    return out


def _detection_1_to_2(d: dict[str, Any]) -> dict[str, Any]:
    # Version 1 records could hold the explanation as a list of sentences, and records made by
    # other tools may lack the verdict or score; they are read as "not recorded".
    out = dict(d)
    explanation = out.get("explanation", "")
    if isinstance(explanation, list | tuple):
        explanation = " ".join(str(x) for x in explanation)
    out["explanation"] = str(explanation)
    out.setdefault("verdict", "not recorded")
    score = out.get("score")
    out["score"] = float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None
    return out


def _unchanged(d: dict[str, Any]) -> dict[str, Any]:
    return dict(d)


# (kind, version) -> the function that turns that version into the next one.
MIGRATIONS: dict[tuple[str, int], Migration] = {
    ("detection", 1): _detection_1_to_2,
    ("recompression", 1): _recompression_1_to_2,
    ("variability", 1): _unchanged,
    ("symbols", 1): _unchanged,
    ("screening", 1): _unchanged,
}


def load_record(kind: str, data: dict[str, Any], where: str = "") -> FindingRecord:
    """The typed record of a finding's stored data, migrated to the current schema."""
    cls = RECORD_TYPES.get(kind)
    if cls is None:
        return OtherRecord(kind=kind, extra=dict(data))
    version = data.get(SCHEMA_KEY, 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CaseError(f"{where or kind + ' finding'}: schema version {version!r} is not a positive integer")
    if version > cls.SCHEMA:
        raise CaseError(
            f"{where or kind + ' finding'}: written with schema {version}, newer than this build reads "
            f"({cls.SCHEMA}); open the case with a newer version of the program"
        )
    payload = {k: v for k, v in data.items() if k != SCHEMA_KEY}
    while version < cls.SCHEMA:
        step = MIGRATIONS.get((kind, version))
        if step is None:
            raise CaseError(f"{where or kind + ' finding'}: no migration from schema {version} of {kind!r}")
        payload = step(payload)
        version += 1
    return cls.from_payload(payload, where)


@dataclass(frozen=True)
class TypedFinding:
    """A stored finding with its typed record; ``artefacts`` maps names to artefact SHA-256."""

    id: int
    evidence_id: int
    kind: str
    record: FindingRecord
    artefacts: dict[str, str]
    created_utc: str
    actor: str

    @property
    def label(self) -> str:
        return f"F{self.id}"

    def artefact_sha256(self, name: str) -> str | None:
        return self.artefacts.get(name) or None

    def image_artefact(self) -> tuple[str, str] | None:
        """(name, artefact SHA-256) of the finding's image (reconstruction or map), if stored."""
        for name in IMAGE_ARTEFACTS:
            if self.artefacts.get(name):
                return name, self.artefacts[name]
        return None


def typed(finding: Finding) -> TypedFinding:
    record = load_record(finding.kind, finding.data, where=f"finding F{finding.id} ({finding.kind})")
    return TypedFinding(
        finding.id, finding.evidence_id, finding.kind, record, dict(finding.artefacts), finding.created_utc,
        finding.actor,
    )


def typed_findings(case: Case, evidence_id: int | None = None, kind: str | None = None) -> list[TypedFinding]:
    return [typed(f) for f in case.findings(evidence_id=evidence_id, kind=kind)]


def add_record(
    case: Case, evidence_id: int, record: FindingRecord, artefacts: dict[str, bytes] | None = None
) -> TypedFinding:
    """Store a typed record as a finding (one transaction with its audit entry)."""
    if isinstance(record, OtherRecord):
        raise CaseError("an untyped record cannot be written; give the finding a record type")
    return typed(case.add_finding(evidence_id, record.KIND, record.to_payload(), artefacts))
