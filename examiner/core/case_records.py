"""The plain records a case hands out (details, evidence items, findings, artefact facts) and
how they are built from stored rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from examiner.core.regions import Region
from examiner.errors import CaseError


@dataclass
class CaseDetails:
    case_id: str
    examiner: str
    requester: str = ""
    lab: str = ""
    created_utc: str = ""
    received_date: str = ""
    title: str = ""
    agency_reference: str = ""
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


EDITABLE_DETAILS = tuple(f.name for f in fields(CaseDetails) if f.name != "created_utc")


@dataclass
class EvidenceItem:
    """One evidence file as taken in: path, hashes at intake, intake facts, optional reference."""

    id: int
    path: str
    sha256: str
    md5: str
    size: int
    facts: dict[str, Any]
    reference_path: str | None
    reference_sha256: str | None
    reference_md5: str | None
    added_utc: str
    added_by: str = ""

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def reference(self) -> dict[str, str] | None:
        if not self.reference_path:
            return None
        return {"path": self.reference_path, "sha256": self.reference_sha256 or "", "md5": self.reference_md5 or ""}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["reference"] = self.reference
        return d


@dataclass
class Finding:
    """A result attached to an evidence item. ``artefacts`` maps a name to the SHA-256 of a blob
    stored in the case (fetch it with :meth:`Case.get_artefact`)."""

    id: int
    evidence_id: int
    kind: str
    data: dict[str, Any]
    artefacts: dict[str, str]
    created_utc: str
    actor: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ArtefactInfo:
    sha256: str
    media_type: str
    name: str
    size: int
    created_utc: str


EVIDENCE_COLUMNS = "id, path, sha256, md5, size, facts, reference_path, reference_sha256, reference_md5, added_utc, added_by"


def evidence_from_row(r: tuple[Any, ...]) -> EvidenceItem:
    # Paths and hashes of another type (a BLOB put there with sqlite3) would reach the file
    # system calls; refused here, and named by the row check.
    for i, name in ((1, "path"), (2, "sha256"), (3, "md5")):
        if not isinstance(r[i], str):
            raise TypeError(f"its {name} is not text")
    for i, name in ((6, "reference path"), (7, "reference SHA-256")):
        if r[i] is not None and not isinstance(r[i], str):
            raise TypeError(f"its {name} is not text")
    return EvidenceItem(
        id=int(r[0]), path=r[1], sha256=r[2], md5=r[3], size=int(r[4]), facts=json.loads(r[5]),
        reference_path=r[6], reference_sha256=r[7], reference_md5=r[8], added_utc=r[9], added_by=r[10],
    )  # fmt: skip



def region_from_json(text: str) -> Region:
    return Region.from_dict(json.loads(text))


def finding_from_row(r: tuple[Any, ...]) -> Finding:
    return Finding(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4]), r[5], r[6])


T = TypeVar("T")
P = ParamSpec("P")


def from_row(path: Path, what: str, build: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """A value parsed from a stored row; a row the program did not write (malformed, nested too
    deeply, impossible values) is a clear CaseError instead of a crash."""
    try:
        return build(*args, **kwargs)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError) as exc:
        raise CaseError(f"{path}: {what} in the case file is unreadable ({str(exc)[:200]}); "
                        "run 'examiner case verify'") from None  # fmt: skip
