"""What a report is built from: one snapshot of the case, the evidence and reference files read
again (read-only), the images decoded from them and from stored artefacts, and the codec
manifests. The section builders read these and return what they render; none of them writes
into the report being assembled (that is :class:`~examiner.report.builder.ModelBuilder`'s job).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from examiner.core.audit import AuditEntry
from examiner.core.case import Case, Finding
from examiner.core.case_changes import changes_case
from examiner.core.evidence import decode_bytes
from examiner.core.regions import Region
from examiner.core.settings import Settings
from examiner.errors import ExaminerError
from examiner.findings.schema import typed
from examiner.report.evidence_section import FileCheck, read_file
from examiner.report.model import META_CONCLUSION, META_LIMITATIONS, META_REVIEWER, META_SUMMARY

if TYPE_CHECKING:
    from examiner.codecs.api import CodecInfo


def is_observation(entry: AuditEntry) -> bool:
    """True for entries left out of the report's state: exports, signatures and successful
    opens/checks, unless they carry row hashes (then they changed the case, whatever their name)."""
    return not changes_case(entry)


class ReportSources:
    def __init__(self, case: Case, settings: Settings | None) -> None:
        self._case = case
        self._settings = settings
        # One snapshot: the report describes one committed state even while another process writes.
        with case.snapshot():
            self.details = case.details
            self.items = case.evidence()
            self.findings = case.findings()
            self.regions = sorted(case.regions(), key=lambda r: (r.evidence_id, r.id or 0))
            self.entries = [e for e in case.audit.entries() if not is_observation(e)]
            self.chain, self.rows = case.check_tables()
            # The examiner's words, stored as case values (JSON: their type is checked where used).
            self.summary_text: Any = case.get_meta(META_SUMMARY, "")
            self.conclusion: Any = case.get_meta(META_CONCLUSION, None)
            self.extra_limitations: Any = case.get_meta(META_LIMITATIONS, []) or []
            self.reviewer: Any = case.get_meta(META_REVIEWER, "")
        self.labels = {item.id: f"E{n}" for n, item in enumerate(self.items, start=1)}
        self.checks: dict[tuple[int, str], FileCheck] = {}
        self._pixels: dict[int, np.ndarray] = {}
        self._comparisons: dict[tuple[int, str], tuple[np.ndarray | None, str]] = {}
        self._artefact_pixels: dict[str, np.ndarray] = {}
        self._codec_infos: dict[str, CodecInfo | None] = {}

    @property
    def case_ok(self) -> bool:
        """The audit chain and the table rows verify."""
        return self.chain.ok and self.rows.ok

    # -- files and images ------------------------------------------------------------------------
    def check(self, evidence_id: int, role: str, path: str) -> FileCheck:
        """The file read again and hashed, once per report (``role``: evidence or reference)."""
        key = (evidence_id, role)
        if key not in self.checks:
            self.checks[key] = read_file(path)
        return self.checks[key]

    def evidence_pixels(self, evidence_id: int) -> np.ndarray:
        if evidence_id not in self._pixels:
            item = next(i for i in self.items if i.id == evidence_id)
            chk = self.check(item.id, "evidence", item.path)
            if chk.data is None or chk.sha256 != item.sha256:
                raise ExaminerError(f"{item.path}: the evidence file does not match its intake hash or cannot be read")
            self._pixels = {evidence_id: decode_bytes(chk.data, name=item.path, max_pixels=self._case.max_pixels)}  # one image at a time
        return self._pixels[evidence_id]

    def comparison_pixels(self, region: Region) -> tuple[np.ndarray | None, str]:
        key = region.comparison
        if not key:
            return None, "none recorded"
        cache_key = (region.evidence_id, key)
        if cache_key not in self._comparisons:
            # Regions are sorted by evidence item, so keeping only the last few decodes is enough.
            if len(self._comparisons) >= 3:
                self._comparisons.pop(next(iter(self._comparisons)))
            self._comparisons[cache_key] = self._decode_comparison(region)
        return self._comparisons[cache_key]

    def _decode_comparison(self, region: Region) -> tuple[np.ndarray | None, str]:
        key = region.comparison
        item = next(i for i in self.items if i.id == region.evidence_id)
        if key == "reference":
            if not item.reference_path:
                raise ExaminerError("the region is compared with the reference original, but the item has none")
            chk = self.check(item.id, "reference", item.reference_path)
            if chk.data is None or chk.sha256 != item.reference_sha256:
                raise ExaminerError(f"{item.reference_path}: the reference does not match its intake hash or cannot be read")
            pixels = decode_bytes(chk.data, name=item.reference_path, max_pixels=self._case.max_pixels)
            return pixels, f"reference original {Path(item.reference_path).name}"
        if key.startswith("finding:"):
            try:
                fid = int(key.split(":", 1)[1])
            except ValueError:
                raise ExaminerError(f"unknown comparison {key!r}") from None
            f = next((f for f in self.findings if f.id == fid), None)
            if f is None:
                raise ExaminerError(f"the comparison finding {fid} is not in the case")
            image = typed(f).image_artefact()
            if image is None:
                raise ExaminerError(f"finding {fid} has no stored output image")
            sha = image[1]
            label = self.finding_label(f) + (" (demonstration codec)" if self.is_demonstration(f) else "")
            return self.artefact_image(str(sha), label), label
        raise ExaminerError(f"unknown comparison {key!r}")

    def artefact_image(self, sha: str, what: str) -> np.ndarray:
        # A re-compression's output is both a thumbnail and a region comparison: decode it once.
        if sha not in self._artefact_pixels:
            if len(self._artefact_pixels) >= 2:
                self._artefact_pixels.pop(next(iter(self._artefact_pixels)))
            self._artefact_pixels[sha] = decode_bytes(
                self._case.get_artefact(sha), name=f"{what} (artefact {sha[:12]})", max_pixels=self._case.max_pixels
            )
        return self._artefact_pixels[sha]

    # -- findings and codecs ---------------------------------------------------------------------
    def finding_label(self, f: Finding) -> str:
        d = f.data
        if f.kind == "recompression":
            return f"F{f.id} {d.get('codec', '?')} q{d.get('quality', '?')}"
        return f"F{f.id} {f.kind}"

    def codec_info(self, codec_id: str) -> CodecInfo | None:
        if codec_id not in self._codec_infos:
            try:
                from examiner.codecs.registry import get_info

                self._codec_infos[codec_id] = get_info(codec_id, self._settings)[0]
            except (ExaminerError, ImportError):
                self._codec_infos[codec_id] = None
        return self._codec_infos[codec_id]

    def is_demonstration(self, f: Finding) -> bool:
        info = self.codec_info(str(f.data.get("codec", "")))
        return bool(f.data.get("demonstration")) or bool(info is not None and info.demonstration)
