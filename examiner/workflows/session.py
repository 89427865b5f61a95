"""The open case as a front end sees it (the window's one examination session): a thin adapter over :class:`examiner.core.case.Case`.

It adds only what a screen needs on top of the case: decoded pixels kept in memory, the list of
comparison images available for an evidence item (its reference original and the re-compressions
recorded as findings), and the region store used by the undo commands. Every write goes straight
to the case, where it is one transaction with its audit entry; that is the autosave: killing the
program loses at most the edit that was being written.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from examiner.core.actors import default_actor
from examiner.core.audit import AuditEntry
from examiner.core.case import Case, EvidenceItem, Finding
from examiner.core.evidence import decode_bytes
from examiner.core.regions import Region
from examiner.core.settings import Settings
from examiner.errors import CaseError, ExaminerError
from examiner.findings import artefacts as names
from examiner.findings.schema import typed

ACTOR_GUI = "gui"


@dataclass
class ComparisonSource:
    key: str  # "reference" or "finding:<id>"
    label: str
    kind: str  # reference | recompression | variability
    finding_id: int | None = None


class CaseSession:
    """One open case plus what the screen caches for it, under the window's settings.

    Who acts: the person named for this window (``acting_as``: ``examiner gui --actor`` or
    Edit > Acting person), else the case's examiner, as on the command line. The settings'
    examiner name only fills in the examiner of a case the window makes, so opening someone
    else's case never credits their case to whoever's settings are loaded.
    """

    def __init__(self, case: Case, path: Path, settings: Settings, acting_as: str | None = None) -> None:
        self.case = case
        self.path = Path(path)
        self.settings = settings
        self.acting_as: str | None = None
        if acting_as:
            self.act_as(acting_as)
        self._pixels: dict[int, np.ndarray] = {}
        self._comparisons: dict[tuple[int, str], np.ndarray] = {}

    # -- life cycle ----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, settings: Settings, acting_as: str | None = None) -> CaseSession:
        """Open a case; ``acting_as`` names who acts (the opening itself included), else the
        case's examiner does."""
        p = Path(path)
        name = (acting_as or "").strip() or None
        return cls(Case.open(p, actor=name, max_pixels=settings.max_pixels), p, settings, name)

    def act_as(self, person: str | None) -> None:
        """From now on credit the case's work to ``person``; empty: to the case's examiner."""
        self.acting_as = (person or "").strip() or None
        examiner = ""
        with contextlib.suppress(ExaminerError, sqlite3.DatabaseError):  # a damaged case still names the login
            examiner = self.case.details.examiner.strip()
        self.case.actor = self.acting_as or examiner or default_actor()

    @classmethod
    def create(
        cls, path: str | Path, case_id: str, examiner: str, settings: Settings, **details: str
    ) -> CaseSession:
        """A new case (``details``: requester, lab and the other case details Case.create takes)."""
        p = Path(path)
        if p.exists():
            raise CaseError(f"{p}: a file of that name exists; choose another name for the new case")
        case = Case.create(
            p, case_id=case_id, examiner=examiner, actor=examiner, max_pixels=settings.max_pixels, **details
        )
        return cls(case, p, settings)

    def apply_settings(self, settings: Settings) -> None:
        """New settings from the dialog: later intake and decodes use the new pixel limit."""
        self.settings = settings
        self.case.max_pixels = settings.max_pixels

    def close(self) -> None:
        self.case.close()

    def save_as(self, new_path: str | Path) -> None:
        """Copy the case to a new file and continue there (the old file stays as it was)."""
        target = Path(new_path)
        if target.resolve() == self.path.resolve():
            return
        self.case.close()
        try:
            shutil.copyfile(self.path, target)
        finally:
            self.case = Case.open(
                target if target.exists() else self.path, actor=self.acting_as, max_pixels=self.settings.max_pixels
            )
        self.path = target

    # -- evidence ------------------------------------------------------------------------------
    def evidence(self) -> list[EvidenceItem]:
        return list(self.case.evidence())

    def evidence_pixels(self, evidence_id: int) -> np.ndarray:
        px = self._pixels.get(evidence_id)
        if px is None:
            # Hash-checked: evidence whose bytes changed since intake is refused with a message.
            px = self.case.load_evidence(evidence_id).pixels
            self._pixels = {evidence_id: px}  # keep one image: evidence can be 100 megapixels
        return px

    def has_pixels(self, evidence_id: int) -> bool:
        return evidence_id in self._pixels

    def keep_pixels(self, evidence_id: int, pixels: np.ndarray) -> None:
        """Cache pixels decoded elsewhere (a worker), replacing any other item's."""
        self._pixels = {evidence_id: pixels}

    def add_evidence(self, path: str | Path, reference: str | Path | None = None) -> EvidenceItem:
        return self.case.add_evidence(path, reference=reference)

    def set_reference(self, evidence_id: int, path: str | Path) -> None:
        self.case.set_reference(evidence_id, path)
        self._comparisons.pop((evidence_id, "reference"), None)

    # -- comparisons -----------------------------------------------------------------------------
    def comparison_sources(self, evidence_id: int) -> list[ComparisonSource]:
        out: list[ComparisonSource] = []
        item = self.case.evidence_item(evidence_id)
        if item.reference_path:
            out.append(ComparisonSource("reference", f"Reference original: {Path(item.reference_path).name}", "reference"))
        for f in self.case.findings(evidence_id=evidence_id):
            if f.kind == "recompression" and f.artefacts.get(names.RECONSTRUCTION):
                d = f.data
                bpp = d.get("bpp")
                bpp_s = f", {bpp:.3f} bpp" if isinstance(bpp, (int, float)) else ""
                out.append(ComparisonSource(f"finding:{f.id}", f"F{f.id} {d.get('codec')} q{d.get('quality')}{bpp_s}", "recompression", f.id))
        return out

    def has_comparison(self, evidence_id: int, key: str) -> bool:
        return (evidence_id, key) in self._comparisons

    def keep_comparison(self, evidence_id: int, key: str, pixels: np.ndarray) -> None:
        self._comparisons = {k: v for k, v in self._comparisons.items() if k[0] == evidence_id}
        self._comparisons[(evidence_id, key)] = pixels

    def load_comparison(self, evidence_id: int, key: str) -> np.ndarray:
        """Decode a comparison image (hash-checked reference, or a stored artefact); no caching,
        so a worker thread may call it."""
        if key == "reference":
            ref = self.case.load_reference(evidence_id)
            if ref is None:
                raise CaseError(f"evidence {evidence_id} has no reference original")
            return ref
        if key.startswith("finding:"):
            fid = int(key.split(":", 1)[1])
            found = [f for f in self.case.findings(evidence_id=evidence_id) if f.id == fid]
            if not found:
                raise CaseError(f"{self.path}: finding {fid} is not in this case")
            image = typed(found[0]).image_artefact()
            sha = image[1] if image else None
            if not sha:
                raise CaseError(f"{self.path}: finding {fid} has no image to compare with")
            return decode_bytes(self.case.get_artefact(sha), name=f"artefact {sha[:12]}")
        raise CaseError(f"unknown comparison {key!r}")

    def comparison_pixels(self, evidence_id: int, key: str) -> np.ndarray:
        cached = self._comparisons.get((evidence_id, key))
        if cached is None:
            cached = self.load_comparison(evidence_id, key)
            self.keep_comparison(evidence_id, key, cached)
        return cached

    # -- findings ------------------------------------------------------------------------------
    # Findings are recorded by the workflows (examiner.workflows), on the window's writer thread;
    # the session only reads back what a screen shows.
    def detection_images(self, finding: Finding) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The spectrum image and per-tile map stored with a detection finding."""
        from examiner.workflows.detect import stored_tile_map

        spectrum = tiles = None
        if finding.artefacts.get(names.SPECTRUM):
            spectrum = decode_bytes(self.case.get_artefact(finding.artefacts[names.SPECTRUM]), name="spectrum artefact")
        if finding.artefacts.get(names.TILE_MAP):
            tiles = stored_tile_map(self.case.get_artefact(finding.artefacts[names.TILE_MAP]))
        return spectrum, tiles

    def variability_map(self, finding: Finding) -> np.ndarray | None:
        sha = finding.artefacts.get(names.VARIABILITY_MAP)
        if not sha:
            return None
        return decode_bytes(self.case.get_artefact(sha), name="variability map artefact")

    def findings(self, evidence_id: int | None = None, kind: str | None = None) -> list[Finding]:
        return list(self.case.findings(evidence_id=evidence_id, kind=kind))

    # -- regions (the RegionStore the undo commands use) -----------------------------------------
    def regions(self, evidence_id: int | None = None) -> list[Region]:
        return list(self.case.regions(evidence_id=evidence_id))

    def region(self, region_id: int) -> Region:
        return self.case.region(region_id)

    def add_region(self, region: Region) -> Region:
        return self.case.add_region(region)

    def update_region(self, region: Region) -> None:
        self.case.update_region(region)

    def delete_region(self, region_id: int) -> None:
        self.case.delete_region(region_id)

    def set_region_locked(self, region_id: int, locked: bool, reason: str = "") -> None:
        self.case.set_region_locked(region_id, locked, reason)

    # -- audit -----------------------------------------------------------------------------------
    def audit_entries(self, since: int = 0) -> list[AuditEntry]:
        return list(self.case.audit.entries(since=since))
