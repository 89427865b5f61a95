"""Build the :class:`~examiner.report.model.ReportModel` from an open case.

What is read, and from where (other parts of the program fill these in):

* case details (:class:`~examiner.core.case.CaseDetails`), evidence items with intake hashes and
  facts; every evidence and reference file is read again (read-only) to re-check SHA-256 and
  MD5 and to read metadata and JPEG structure from the same bytes;
* findings of kind ``detection``: ``verdict``, ``score``, ``explanation``, ``spectral`` (key
  features), ``jpeg`` (block-grid evidence), ``candidates`` (list of dicts with ``codec`` and
  ``quality``), ``error_rates`` (figures; the keys ``set``/``measured_on``/``composition``
  describe the set they were measured on); an artefact whose name contains ``spectrum``;
* findings of kind ``recompression``: ``codec``, ``quality``, ``bpp``, ``psnr``, ``device``,
  ``versions``, ``weights_sha256`` and ``output_artefact`` (the SHA-256 of the output image);
* regions (:class:`~examiner.core.regions.Region`); ``comparison`` is ``"reference"`` or
  ``"finding:<id>"``;
* case meta keys ``report.summary`` (text), ``report.conclusion`` (``{"level", "text"}``, level
  from :data:`~examiner.report.model.CONCLUSION_LEVELS`), ``report.reviewer`` and
  ``report.limitations`` (extra limitation texts);
* the audit log and its verification.

Determinism: the model depends only on the case state. Audit entries that merely observe the
case (a successful open or integrity check, a report export; see :func:`is_observation`) are
left out, so exporting a report, or opening the case, does not change the next report.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

from examiner import __version__
from examiner.core.audit import AuditEntry, canonical_json
from examiner.core.case import Case, EvidenceItem, Finding
from examiner.core.evidence import decode_bytes, hash_bytes, read_evidence_bytes
from examiner.core.regions import CATEGORY_DEFINITIONS, CORE_CATEGORIES, SYMBOL_DEFINITION, Category, Region
from examiner.core.tasks import TaskContext, silent
from examiner.errors import ExaminerError
from examiner.report import figures as figs
from examiner.report import methods as methods_mod
from examiner.report.bibliography import Citations
from examiner.report.model import (
    CONCLUSION_LEVELS,
    CONCLUSION_PROPOSITION,
    REPORT_SUBTITLE,
    REPORT_TITLE,
    AuditRow,
    CodecUse,
    DetectionBlock,
    EvidenceBlock,
    Figure,
    HashCheck,
    ManifestRow,
    MethodBlock,
    OtherResultBlock,
    OverviewBlock,
    Para,
    RecompressionBlock,
    RegionBlock,
    ReportModel,
    derive_report_id,
)

# Audit actions that observe the case without changing it; successful ones are not part of the
# state a report describes (failed checks are).
OBSERVING_ACTIONS = frozenset({"case.opened", "case.integrity_checked", "report.integrity_checked"})
EXPORT_ACTION = "report.exported"
# Finding kinds with a section of their own; others are listed under "Other analyses".
OWN_SECTIONS = frozenset({"detection", "recompression", "variability"})

META_SUMMARY = "report.summary"
META_CONCLUSION = "report.conclusion"
META_REVIEWER = "report.reviewer"
META_LIMITATIONS = "report.limitations"

LIBRARIES: tuple[tuple[str, str], ...] = (
    ("numpy", "numpy"),
    ("SciPy", "scipy"),
    ("Pillow", "Pillow"),
    ("OpenCV", "opencv-python-headless"),
    ("PyTorch", "torch"),
    ("torchvision", "torchvision"),
    ("CompressAI", "compressai"),
    ("constriction", "constriction"),
    ("safetensors", "safetensors"),
    ("exifread", "exifread"),
    ("pytesseract", "pytesseract"),
    ("ReportLab", "reportlab"),
    ("pikepdf", "pikepdf"),
)

AUDIT_DETAIL_CHARS = 1500


@dataclass
class BuildOptions:
    reviewer: str | None = None
    report_id: str | None = None
    amends: str | None = None
    issued: str | None = None  # ISO date or date-time (UTC) overriding the case-derived date


def is_observation(entry: AuditEntry) -> bool:
    """True for entries left out of the report's state: exports, and successful opens/checks."""
    if entry.action == EXPORT_ACTION:
        return True
    return entry.action in OBSERVING_ACTIONS and entry.params.get("ok") is True


@dataclass
class _FileCheck:
    path: str
    sha256: str | None
    md5: str | None
    data: bytes | None
    problem: str = ""


def _read_file(path: str) -> _FileCheck:
    try:
        data, _ = read_evidence_bytes(path)
    except ExaminerError as exc:
        return _FileCheck(path, None, None, None, exc.message)
    sha, md5 = hash_bytes(data)
    return _FileCheck(path, sha, md5, data)


def _parse_time(text: str) -> datetime | None:
    if not text:
        return None
    t = text.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _when(text: str) -> str:
    dt = _parse_time(text)
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if dt else text


def _date(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d")


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "\u2013"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not np.isfinite(value):
            return "\u221e" if value > 0 else str(value)
        return f"{value:.{digits}g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt(v, digits) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{_label(str(k))} {_fmt(v, digits)}" for k, v in value.items())
    return str(value)


# Readable names for the figures analyses commonly record.
LABELS: dict[str, str] = {
    "roc_auc": "ROC AUC",
    "tpr_at_fpr_1pct": "true-positive rate at 1 % false positives",
    "tpr_at_fpr_5pct": "true-positive rate at 5 % false positives",
    "false_positive_rate": "false-positive rate (shipped thresholds)",
    "true_positive_rate": "true-positive rate (shipped thresholds)",
    "n_positives": "positives in the set",
    "n_negatives": "negatives in the set",
    "model_version": "model version",
    "psnr_db": "PSNR dB",
    "psnr_reference_db": "PSNR of the reference dB",
    "fixed_point_gain_db": "fixed-point gain dB",
    "fpr": "false-positive rate",
}


def _label(key: str) -> str:
    return LABELS.get(key, key.replace("_", " "))


def _scalar_rows(d: Any, prefix: str = "", limit: int = 14) -> list[tuple[str, str]]:
    """Readable (name, value) rows from a flat-ish dict; long arrays are skipped."""
    rows: list[tuple[str, str]] = []
    if not isinstance(d, dict):
        return rows
    for k, v in d.items():
        if len(rows) >= limit:
            break
        name = f"{prefix}{_label(str(k))}"
        if isinstance(v, dict):
            rows.extend(_scalar_rows(v, prefix=f"{name}: ", limit=limit - len(rows)))
        elif isinstance(v, (list, tuple)):
            if len(v) <= 6 and all(not isinstance(x, (list, dict)) for x in v):
                rows.append((name, _fmt(v)))
        else:
            rows.append((name, _fmt(v)))
    return rows


def _library_versions() -> list[tuple[str, str]]:
    rows = [("Miscompression Examiner", __version__), ("Python", platform.python_version())]
    for label, dist in LIBRARIES:
        try:
            rows.append((label, importlib_metadata.version(dist)))
        except importlib_metadata.PackageNotFoundError:
            continue
    rows.append(("Operating system", f"{platform.system()} {platform.machine()}"))
    return rows


class _ModelBuilder:
    def __init__(self, case: Case, options: BuildOptions, ctx: TaskContext) -> None:
        self.case = case
        self.opt = options
        self.ctx = ctx
        self.cit = Citations()
        self.details = case.details
        self.items = case.evidence()
        self.labels = {item.id: f"E{n}" for n, item in enumerate(self.items, start=1)}
        self.findings = case.findings()
        self.regions = sorted(case.regions(), key=lambda r: (r.evidence_id, r.id or 0))
        self.entries = [e for e in case.audit.entries() if not is_observation(e)]
        self.chain = case.audit.verify()
        self.checks: dict[tuple[int, str], _FileCheck] = {}
        self.pixels: dict[int, np.ndarray] = {}
        self.comparisons: dict[tuple[int, str], tuple[np.ndarray | None, str]] = {}
        self.artefact_pixels: dict[str, np.ndarray] = {}
        self.meta_cache: dict[int, dict[str, Any]] = {}
        self.manifest: list[ManifestRow] = []
        self.codec_infos: dict[str, Any] = {}

    # ----------------------------------------------------------------- helpers

    def finding_label(self, f: Finding) -> str:
        d = f.data
        if f.kind == "recompression":
            return f"F{f.id} {d.get('codec', '?')} q{d.get('quality', '?')}"
        return f"F{f.id} {f.kind}"

    def codec_info(self, codec_id: str) -> Any:
        if codec_id not in self.codec_infos:
            try:
                from examiner.codecs.registry import get_info

                self.codec_infos[codec_id] = get_info(codec_id)[0]
            except (ExaminerError, ImportError):
                self.codec_infos[codec_id] = None
        return self.codec_infos[codec_id]

    def is_demonstration(self, f: Finding) -> bool:
        info = self.codec_info(str(f.data.get("codec", "")))
        return bool(f.data.get("demonstration")) or bool(info is not None and info.demonstration)

    def artefact_image(self, sha: str, what: str) -> np.ndarray:
        # A re-compression's output is both a thumbnail and a region comparison: decode it once.
        if sha not in self.artefact_pixels:
            if len(self.artefact_pixels) >= 2:
                self.artefact_pixels.pop(next(iter(self.artefact_pixels)))
            self.artefact_pixels[sha] = decode_bytes(self.case.get_artefact(sha), name=f"{what} (artefact {sha[:12]})")
        return self.artefact_pixels[sha]

    def add_manifest(self, item: str, role: str, sha: str | None) -> None:
        if sha and not any(r.sha256 == sha and r.item == item for r in self.manifest):
            self.manifest.append(ManifestRow(item, role, sha))

    def add_figure_manifest(self, fig: Figure | None) -> Figure | None:
        if fig is not None:
            self.add_manifest(fig.name, "figure", fig.sha256)
        return fig

    # ----------------------------------------------------------------- build

    def build(self) -> ReportModel:
        self.ctx.progress(0, 6, "re-checking evidence files")
        evidence_blocks = [self.evidence_block(item) for item in self.items]
        intact = all(b.intact for b in evidence_blocks) and all(
            c.problem == "" and c.sha256 is not None for (eid, role), c in self.checks.items() if role == "reference"
        )
        self.ctx.progress(1, 6, "collecting results")
        detections_f = [f for f in self.findings if f.kind == "detection"]
        recomp_f = [f for f in self.findings if f.kind in ("recompression", "variability")]

        # Citation numbers follow the order of appearance: summary, tools, methods, results,
        # regions, taxonomy. Blocks are therefore built in that order.
        summary = self.summary_placeholder()
        if self.regions:
            self.cit.cite("hofer2024taxonomy")  # the summary's sentence on regions cites it
        codecs = self.codec_uses(recomp_f)
        methods = self.method_blocks(detections_f, recomp_f)
        detections = [self.detection_block(f) for f in detections_f]
        self.ctx.progress(2, 6, "re-compression thumbnails")
        recompressions = [self.recompression_block(f) for f in recomp_f]
        others = [self.other_block(f) for f in self.findings if f.kind not in OWN_SECTIONS]
        self.ctx.progress(3, 6, "region crops")
        region_blocks = []
        overviews: list[OverviewBlock] = []
        for i, r in enumerate(self.regions):
            self.ctx.progress(3 + i / max(1, len(self.regions)), 6, f"region {i + 1} of {len(self.regions)}")
            if not overviews or overviews[-1].evidence_label != self.labels.get(r.evidence_id):
                ov = self.overview(r.evidence_id)
                if ov is not None:
                    overviews.append(ov)
            region_blocks.append(self.region_block(r))
        self.cit.cite("hofer2024taxonomy")  # the taxonomy section always cites it
        self.ctx.progress(5, 6, "audit log")
        level, text, basis = self.conclusion()
        summary.extend(self.summary(evidence_blocks, intact, detections, recompressions, region_blocks, level))
        issued_dt = self.issued_time()
        reviewer = self.opt.reviewer if self.opt.reviewer is not None else str(self.case.get_meta(META_REVIEWER, "") or "")
        model = ReportModel(
            report_id="",
            title=REPORT_TITLE,
            subtitle=REPORT_SUBTITLE,
            lab=self.details.lab,
            case_id=self.details.case_id,
            case_title=self.details.title,
            requester=self.details.requester,
            examiner=self.details.examiner,
            reviewer=reviewer,
            received=self.received(),
            examined=self.examined(),
            issued=issued_dt.strftime("%Y-%m-%d %H:%M UTC"),
            issued_epoch=int(issued_dt.timestamp()),
            amends=self.opt.amends or "",
            summary=summary,
            integrity_statement=self.integrity_statement(evidence_blocks, intact),
            integrity_ok=intact,
            evidence=evidence_blocks,
            tools=_library_versions() + self.recorded_versions(),
            device=self.devices(recomp_f),
            codecs=codecs,
            settings=self.settings_rows(),
            methods=methods,
            detections=detections,
            recompressions=recompressions,
            other_results=others,
            overviews=overviews,
            regions=region_blocks,
            taxonomy=self.taxonomy(),
            limitations=self.limitations(detections, recompressions, region_blocks),
            conclusion_proposition=CONCLUSION_PROPOSITION,
            conclusion_level=level,
            conclusion_text=text,
            conclusion_basis=basis,
            bibliography=self.cit.entries(),
            audit=self.audit_rows(),
            audit_verification=self.audit_statement(),
            audit_ok=self.chain.ok,
            audit_note=(
                "Entries that only record opening the case, successful integrity checks and report "
                "exports are not listed, so that the same case content always gives the same report; "
                "they remain in the case file's log and are covered by the chain verification. Failed "
                "checks are always listed."
            ),
            manifest=self.manifest,
        )
        model.report_id = self.opt.report_id or derive_report_id(model)
        self.ctx.progress(6, 6, "report model ready")
        return model

    # ----------------------------------------------------------------- title data

    def received(self) -> str:
        if self.details.received_date:
            return self.details.received_date
        times = [t for t in (_parse_time(i.added_utc) for i in self.items) if t]
        return f"{_date(min(times))} (intake into the case)" if times else ""

    def examined(self) -> str:
        stamps: list[str] = [i.added_utc for i in self.items]
        stamps += [f.created_utc for f in self.findings]
        stamps += [r.created_utc for r in self.regions]
        times = sorted(t for t in (_parse_time(s) for s in stamps) if t)
        if not times:
            return ""
        first, last = _date(times[0]), _date(times[-1])
        return first if first == last else f"{first} to {last}"

    def issued_time(self) -> datetime:
        if self.opt.issued:
            dt = _parse_time(self.opt.issued)
            if dt is None:
                raise ExaminerError(f"issue date {self.opt.issued!r} is not an ISO date such as 2026-11-24")
            return dt
        # The time of the last change to the case: the report describes that state.
        times = [t for t in (_parse_time(e.time_utc) for e in self.entries) if t]
        return max(times) if times else datetime(2000, 1, 1, tzinfo=UTC)

    # ----------------------------------------------------------------- evidence

    def check(self, evidence_id: int, role: str, path: str) -> _FileCheck:
        key = (evidence_id, role)
        if key not in self.checks:
            self.checks[key] = _read_file(path)
        return self.checks[key]

    def evidence_block(self, item: EvidenceItem) -> EvidenceBlock:
        self.ctx.check()
        label = self.labels[item.id]
        facts = item.facts
        chk = self.check(item.id, "evidence", item.path)
        hashes = [HashCheck("SHA-256", item.sha256, chk.sha256), HashCheck("MD5", item.md5, chk.md5)]
        if chk.sha256 is None:
            status = f"MISSING OR UNREADABLE: {chk.problem}"
        elif chk.sha256 != item.sha256:
            status = "MISMATCH"
        else:
            status = "match"
        self.add_manifest(f"{label} {item.name}", "evidence file", item.sha256)
        fmt = str(facts.get("format", "")).upper()
        if facts.get("extension_mismatch"):
            fmt += f" (file name extension {facts.get('extension') or 'none'} does not match the content)"
        depth = f"{facts.get('bit_depth', '?')} bit"
        dims = f"{facts.get('width', '?')} \u00d7 {facts.get('height', '?')} pixels, {facts.get('mode', '?')}, {depth}"
        rows: list[tuple[str, str]] = [
            ("Taken in", f"{_when(item.added_utc)}" + (f" by {item.added_by}" if item.added_by else "")),
            ("File modification time", str(facts.get("mtime_utc", "")) or "not recorded"),
            ("ICC profile", "present" if facts.get("icc_profile") else "none"),
            ("EXIF orientation", "not set" if facts.get("exif_orientation") is None else f"{facts.get('exif_orientation')} (recorded, not applied)"),
        ]
        if facts.get("frames", 1) != 1:
            rows.append(("Frames", f"{facts.get('frames')} (first frame examined)"))
        if facts.get("conversions"):
            rows.append(("Conversions on decoding", "; ".join(map(str, facts["conversions"]))))
        if facts.get("trailing_bytes"):
            rows.append(("Data after the end of the image", f"{facts['trailing_bytes']} bytes"))
        if facts.get("warnings"):
            rows.append(("Intake warnings", "; ".join(map(str, facts["warnings"]))))
        metadata_rows, jpeg_rows = self.metadata_rows(item, chk)
        reference_rows: list[tuple[str, str]] = []
        if item.reference_path:
            rchk = self.check(item.id, "reference", item.reference_path)
            rstatus = (
                "match" if rchk.sha256 == item.reference_sha256
                else ("MISSING OR UNREADABLE: " + rchk.problem) if rchk.sha256 is None else "MISMATCH"
            )  # fmt: skip
            reference_rows = [
                ("File", item.reference_path),
                ("SHA-256 at intake", item.reference_sha256 or ""),
                ("SHA-256 now", rchk.sha256 or "could not be computed"),
                ("MD5 at intake", item.reference_md5 or ""),
                ("MD5 now", rchk.md5 or "could not be computed"),
                ("Result", rstatus),
            ]
            self.add_manifest(f"{label} reference {Path(item.reference_path).name}", "reference original", item.reference_sha256)
        return EvidenceBlock(
            label=label,
            evidence_id=item.id,
            file_name=item.name,
            path=item.path,
            size_bytes=item.size,
            format=fmt,
            dimensions=dims,
            hashes=hashes,
            status=status,
            decode_policy=str(facts.get("decode_policy", "")),
            facts=rows,
            metadata=metadata_rows,
            jpeg=jpeg_rows,
            reference=reference_rows,
        )

    def metadata_rows(self, item: EvidenceItem, chk: _FileCheck) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        if chk.data is None or chk.sha256 != item.sha256:
            return [("Metadata", "not read: the file does not match its intake hash or cannot be read")], []
        from examiner.core.metadata import read_metadata

        meta = read_metadata(chk.data, str(item.facts.get("format", "")))
        self.meta_cache[item.id] = meta
        exif: dict[str, str] = meta.get("exif") or {}
        wanted = (
            "Image Make", "Image Model", "Image Software", "Image DateTime", "EXIF DateTimeOriginal",
            "EXIF DateTimeDigitized", "EXIF LensModel", "EXIF ExifImageWidth", "EXIF ExifImageLength",
            "Image Artist", "Image Copyright", "EXIF UserComment", "Image ImageDescription",
        )  # fmt: skip
        rows = [(k, exif[k]) for k in wanted if k in exif]
        gps = meta.get("gps") or {}
        if gps:
            rows.append(("GPS tags", "; ".join(f"{k[4:]}: {v}" for k, v in list(gps.items())[:8])))
        if meta.get("maker_note_tags"):
            rows.append(("Maker-note tags", str(meta["maker_note_tags"])))
        rows.append(("EXIF tags in total", str(len(exif))))
        thumb = meta.get("thumbnail")
        if thumb:
            rows.append(("Embedded thumbnail", f"{thumb.get('kind')} {thumb.get('length')} bytes, SHA-256 {thumb.get('sha256')}"))
        xmp = meta.get("xmp")
        if xmp:
            rows.append(("XMP packet", f"{xmp.get('length')} bytes"))
        for k, v in list((meta.get("text_chunks") or {}).items())[:8]:
            rows.append((f"Text chunk {k}", v))
        for e in meta.get("errors") or []:
            rows.append(("Metadata problem", e))
        jpeg_rows: list[tuple[str, str]] = []
        jpeg = meta.get("jpeg")
        if isinstance(jpeg, dict):
            q = jpeg.get("quality_estimate")
            fit = jpeg.get("quality_fit")
            jpeg_rows = [
                ("Process", _fmt(jpeg.get("process"))),
                ("Progressive", _fmt(jpeg.get("progressive"))),
                ("Chroma subsampling", _fmt(jpeg.get("subsampling"))),
                ("Estimated IJG quality (luma)", f"{_fmt(q)}" + (f" (fit: {_fmt(fit)})" if fit is not None else "")),
                ("Quantization tables", ", ".join(
                    f"#{t.get('id')}: q\u2248{_fmt(t.get('quality_estimate'))}" for t in jpeg.get("quant_tables") or []
                ) or "none"),
                ("Restart interval / markers", f"{_fmt(jpeg.get('restart_interval'))} / {_fmt(jpeg.get('restart_markers'))}"),
                ("Scans", _fmt(jpeg.get("scans"))),
                ("Marker sequence", " ".join(str(m.get("marker")) for m in (jpeg.get("markers") or [])[:40])
                 + (" \u2026" if len(jpeg.get("markers") or []) > 40 else "")),
                ("APP segments", ", ".join(f"{a.get('marker')} {a.get('identifier')}" for a in jpeg.get("app_segments") or []) or "none"),
                ("Comments", str(jpeg.get("comment_count", 0))),
                ("Bytes after EOI", _fmt(jpeg.get("trailing_bytes"))),
            ]
        return rows, jpeg_rows

    def evidence_pixels(self, evidence_id: int) -> np.ndarray:
        if evidence_id not in self.pixels:
            item = next(i for i in self.items if i.id == evidence_id)
            chk = self.check(item.id, "evidence", item.path)
            if chk.data is None or chk.sha256 != item.sha256:
                raise ExaminerError(f"{item.path}: the evidence file does not match its intake hash or cannot be read")
            self.pixels = {evidence_id: decode_bytes(chk.data, name=item.path)}  # one image at a time
        return self.pixels[evidence_id]

    def comparison_pixels(self, region: Region) -> tuple[np.ndarray | None, str]:
        key = region.comparison
        if not key:
            return None, "none recorded"
        cache_key = (region.evidence_id, key)
        if cache_key not in self.comparisons:
            # Regions are sorted by evidence item, so keeping only the last few decodes is enough.
            if len(self.comparisons) >= 3:
                self.comparisons.pop(next(iter(self.comparisons)))
            self.comparisons[cache_key] = self._decode_comparison(region)
        return self.comparisons[cache_key]

    def _decode_comparison(self, region: Region) -> tuple[np.ndarray | None, str]:
        key = region.comparison
        item = next(i for i in self.items if i.id == region.evidence_id)
        if key == "reference":
            if not item.reference_path:
                raise ExaminerError("the region is compared with the reference original, but the item has none")
            chk = self.check(item.id, "reference", item.reference_path)
            if chk.data is None or chk.sha256 != item.reference_sha256:
                raise ExaminerError(f"{item.reference_path}: the reference does not match its intake hash or cannot be read")
            return decode_bytes(chk.data, name=item.reference_path), f"reference original {Path(item.reference_path).name}"
        if key.startswith("finding:"):
            try:
                fid = int(key.split(":", 1)[1])
            except ValueError:
                raise ExaminerError(f"unknown comparison {key!r}") from None
            f = next((f for f in self.findings if f.id == fid), None)
            if f is None:
                raise ExaminerError(f"the comparison finding {fid} is not in the case")
            sha = f.data.get("output_artefact") or f.artefacts.get("reconstruction.png")
            if not sha:
                raise ExaminerError(f"finding {fid} has no stored output image")
            label = self.finding_label(f) + (" (demonstration codec)" if self.is_demonstration(f) else "")
            return self.artefact_image(str(sha), label), label
        raise ExaminerError(f"unknown comparison {key!r}")

    # ----------------------------------------------------------------- summary

    def summary_placeholder(self) -> list[Para]:
        text = self.case.get_meta(META_SUMMARY, "")
        return [Para("Examiner's summary: " + str(text))] if text else []

    def summary(
        self,
        evidence: list[EvidenceBlock],
        intact: bool,
        detections: list[DetectionBlock],
        recompressions: list[RecompressionBlock],
        regions: list[RegionBlock],
        level: str,
    ) -> list[Para]:
        out: list[Para] = []
        n = len(evidence)
        if n == 0:
            out.append(Para("The case holds no evidence item; nothing was examined."))
        else:
            names = "; ".join(f"{b.label} {b.file_name}" for b in evidence)
            out.append(Para(f"{n} evidence item{'s were' if n != 1 else ' was'} examined: {names}."))
            if intact:
                out.append(Para(
                    "When this report was generated every evidence file was hashed again: all SHA-256 and MD5 "
                    "values match those taken at intake, so the files examined are the files received."
                ))
            else:
                out.append(Para(
                    "WARNING: when this report was generated at least one evidence or reference file did not "
                    "match its intake hash or could not be read (see Evidence and integrity). Results concerning "
                    "that file must not be relied on."
                ))
        for d in detections:
            score = "" if d.score is None else f" (score {d.score:.2f} on a scale from 0 to 1)"
            meaning = {
                "neural": "the image shows traces typical of a neural (learned) image codec",
                "not-neural": "no traces of a neural image codec were found",
                "inconclusive": "the traces neither clearly indicate nor exclude a neural image codec",
            }.get(d.verdict, f"the verdict is \u201c{d.verdict}\u201d")
            out.append(Para(f"Trace detection on {d.evidence_label}: {meaning}{score}."))
        if recompressions:
            by_item: dict[str, list[str]] = {}
            for r in recompressions:
                name = f"{r.codec_name} at quality {r.quality}" + (" (a demonstration codec)" if r.demonstration else "")
                by_item.setdefault(r.evidence_label, []).append(name)
            for label, names in by_item.items():
                out.append(Para(f"{label} was re-compressed locally for comparison with: {', '.join(names)}."))
        if regions:
            counts = {c: sum(1 for r in regions if c.value in r.categories) for c in CORE_CATEGORIES}
            parts = [f"{v} {c.value.capitalize()}" for c, v in counts.items() if v]
            symbols = sum(1 for r in regions if r.symbol)
            out.append(Para(
                f"{len(regions)} region{'s were' if len(regions) != 1 else ' was'} marked where the evidence may "
                f"show something other than the scene: {', '.join(parts) or 'no category assigned'}"
                f"{'' if not parts else ' (a region can carry several categories)'}; {symbols} concern"
                f"{'s' if symbols == 1 else ''} a symbol such as a letter, digit or sign.",
                cites=("hofer2024taxonomy",),
            ))
        else:
            out.append(Para("No region was marked."))
        if level:
            out.append(Para(f"Conclusion: {level} for the proposition that {CONCLUSION_PROPOSITION}."))
        else:
            out.append(Para("The examiner has not stated a conclusion on the scale of this report."))
        return out

    def integrity_statement(self, blocks: list[EvidenceBlock], intact: bool) -> str:
        if not blocks:
            return "No evidence file is recorded in the case."
        if intact:
            return (
                f"All {len(blocks)} evidence file(s) and their reference originals were hashed again for this "
                "report. Every SHA-256 and MD5 value matches the value taken at intake."
            )
        bad = [f"{b.label} ({b.status})" for b in blocks if not b.intact]
        refs = [self.labels[eid] for (eid, role), c in self.checks.items() if role == "reference" and c.sha256 is None]
        return (
            "INTEGRITY PROBLEM: the following files do not match their intake hashes or could not be read: "
            + ", ".join(bad + [f"{r} reference" for r in refs])
            + ". Results concerning them must not be relied on."
        )

    # ----------------------------------------------------------------- tools

    def recorded_versions(self) -> list[tuple[str, str]]:
        seen: dict[tuple[str, str], list[str]] = {}
        for f in self.findings:
            versions = f.data.get("versions")
            if isinstance(versions, dict):
                for lib, ver in versions.items():
                    seen.setdefault((str(lib), str(ver)), []).append(f"F{f.id}")
        rows = []
        for (lib, ver), ids in sorted(seen.items()):
            more = " \u2026" if len(ids) > 6 else ""
            rows.append((f"{lib} (recorded with {', '.join(ids[:6])}{more})", ver))
        return rows

    def devices(self, recomp: list[Finding]) -> str:
        devices = sorted({str(f.data.get("device")) for f in recomp if f.data.get("device")})
        if not devices:
            return "CPU (no codec run recorded a device)"
        return ", ".join(devices) + " (as recorded with the codec runs)"

    def settings_rows(self) -> list[tuple[str, str]]:
        """Parameters recorded with each run (what reproduces it), then the current settings."""
        rows: list[tuple[str, str]] = []
        for f in self.findings:
            if f.kind not in ("recompression", "variability"):
                continue
            d = f.data
            parts = [f"quality {d.get('quality', '?')}", f"device {d.get('device', '?')}"]
            params = d.get("params")
            if isinstance(params, dict) and params:
                parts.append("parameters " + _fmt(params))
            if d.get("tiled"):
                parts.append("tiled " + _fmt(d.get("tiles") or {}))
            rows.append((f"F{f.id} {d.get('codec', '?')} run", "; ".join(parts)))
        from examiner.core.settings import Settings

        try:
            s = Settings.load()
        except ExaminerError:
            return rows + [("Settings", "the settings file could not be read")]
        return rows + [
            ("Pixel limit at intake (now)", f"{s.max_pixels:,} pixels"),
            ("Tiling above (now)", f"{s.tile_budget_pixels:,} pixels, overlap {s.tile_overlap} pixels"),
            ("Preferred device (now)", s.device),
        ]

    def codec_uses(self, recomp: list[Finding]) -> list[CodecUse]:
        out: dict[str, CodecUse] = {}
        for f in recomp:
            cid = str(f.data.get("codec", ""))
            if not cid:
                continue
            info = self.codec_info(cid)
            use = out.get(cid)
            if use is None:
                use = CodecUse(
                    codec_id=cid,
                    name=info.name if info else str(f.data.get("codec_name") or cid),
                    family=str(info.family) if info else str(f.data.get("family", "")),
                    demonstration=self.is_demonstration(f),
                    cites=tuple(info.citations) if info else tuple(f.data.get("citations") or ()),
                )
                out[cid] = use
            weights = f.data.get("weights_sha256") or {}
            if isinstance(weights, dict):
                for name, digest in weights.items():
                    if (str(name), str(digest)) not in use.weights:
                        use.weights.append((str(name), str(digest)))
                        self.add_manifest(f"weights {name}", f"codec {cid}", str(digest))
        for use in out.values():
            self.cit.cite(*use.cites)
        return list(out.values())

    # ----------------------------------------------------------------- methods

    def method_blocks(self, detections: list[Finding], recomp: list[Finding]) -> list[MethodBlock]:
        infos: list[methods_mod.MethodInfo] = []
        intake = methods_mod.registered("intake")
        if intake:
            infos.append(intake)
        for f in detections:
            m = methods_mod.method_for_finding(f.kind, f.data)
            if m:
                infos.append(m)
        for f in recomp:
            cid = str(f.data.get("codec", ""))
            info = self.codec_info(cid)
            if info is not None:
                infos.append(methods_mod.method_for_codec(info, {}))
            elif cid:
                infos.append(methods_mod.MethodInfo(
                    id=f"codec:{cid}", name=f"Codec: {cid}",
                    description="The codec's manifest is not installed here; the run's own record is reported under Results.",
                ))
        for kind in sorted({f.kind for f in self.findings} - {"detection", "recompression", "variability", "note"}):
            for f in self.findings:
                if f.kind == kind:
                    m = methods_mod.method_for_finding(kind, f.data)
                    if m:
                        infos.append(m)
        if self.regions:
            regions_m = methods_mod.registered("regions")
            if regions_m:
                infos.append(regions_m)
            for prov in sorted({r.provenance for r in self.regions}):
                module = methods_mod.PROVENANCE_MODULES.get(prov)
                m = methods_mod.method_of_module(module) if module else None
                if m:
                    infos.append(m)
        audit_m = methods_mod.registered("audit")
        if audit_m:
            infos.append(audit_m)
        blocks = []
        for m in methods_mod.describe(infos):
            self.cit.cite(*m.citations)
            blocks.append(MethodBlock(
                name=m.name, description=m.description, parameters=list(m.parameters),
                limitations=list(m.limitations), cites=tuple(m.citations), labels=list(m.labels), version=m.version,
            ))
        return blocks

    # ----------------------------------------------------------------- results

    def detection_block(self, f: Finding) -> DetectionBlock:
        d = f.data
        label = self.labels.get(f.evidence_id, f"item {f.evidence_id}")
        explanation = d.get("explanation", "")
        if isinstance(explanation, (list, tuple)):
            explanation = " ".join(str(x) for x in explanation)
        features = _scalar_rows(d.get("spectral"), limit=12) + _scalar_rows(d.get("jpeg"), prefix="JPEG ", limit=6)
        candidates = []
        for c in d.get("candidates") or []:
            if isinstance(c, dict):
                name = f"{c.get('codec', c.get('id', '?'))} q{c.get('quality', '?')}"
                rest = {k: v for k, v in c.items() if k not in ("codec", "id", "quality") and not isinstance(v, (dict, list))}
                candidates.append((name, _fmt(rest)))
        ident = d.get("identification")
        if isinstance(ident, dict) and ident.get("summary"):
            candidates.insert(0, ("Summary", str(ident["summary"])))
        rates = d.get("error_rates") or {}
        set_text = ""
        rate_rows: list[tuple[str, str]] = []
        if isinstance(rates, dict):
            described = {k: v for k, v in rates.items() if k in ("set", "measured_on", "composition", "description", "dataset")}
            set_text = "; ".join(_fmt(v) for v in described.values())
            rate_rows = _scalar_rows({k: v for k, v in rates.items() if k not in described}, limit=16)
        set_text = set_text or str(d.get("error_rate_set", "") or "")
        spectrum = None
        for name, sha in sorted(f.artefacts.items()):
            if "spectrum" in name.lower():
                try:
                    img = self.artefact_image(sha, name)
                except ExaminerError:
                    continue
                spectrum = self.add_figure_manifest(figs.figure(
                    f"F{f.id} {name}", img,
                    "Averaged power spectrum of the noise residual (luma, DC centred, log scale). Periodic "
                    "peaks on the grid of periods 2, 4, 8 and 16 pixels are typical of learned up-sampling.",
                ))
                self.add_manifest(f"F{f.id} {name}", "stored artefact", sha)
                break
        m = methods_mod.method_for_finding(f.kind, d)
        if m:
            self.cit.cite(*m.citations)
        score = d.get("score")
        likelihood = _likelihood_sentence(d)
        if likelihood:
            self.cit.cite("enfsi2015guideline")
        return DetectionBlock(
            evidence_label=label,
            verdict=str(d.get("verdict", "not recorded")),
            score=float(score) if isinstance(score, (int, float)) else None,
            explanation=str(explanation),
            features=features,
            candidates=candidates,
            spectrum=spectrum,
            error_rates=rate_rows,
            error_rate_set=set_text,
            cites=tuple(m.citations) if m else (),
            likelihood=likelihood,
            inconclusive_reason=str(d.get("inconclusive_reason") or ""),
        )

    def recompression_block(self, f: Finding) -> RecompressionBlock:
        d = f.data
        cid = str(d.get("codec", ""))
        info = self.codec_info(cid)
        sha = d.get("output_artefact") or f.artefacts.get("reconstruction.png") or ""
        thumb = None
        if sha:
            try:
                img = self.artefact_image(str(sha), self.finding_label(f))
                thumb = self.add_figure_manifest(figs.thumbnail(f"F{f.id} output thumbnail", img))
            except ExaminerError:
                thumb = None
            self.add_manifest(f"F{f.id} output of {cid} q{d.get('quality', '?')}", "stored artefact", str(sha))
        if info:
            self.cit.cite(*info.citations)
        psnr = d.get("psnr")
        bpp = d.get("bpp")
        return RecompressionBlock(
            evidence_label=self.labels.get(f.evidence_id, f"item {f.evidence_id}"),
            codec_name=(info.name if info else cid) + (" (seed variability)" if f.kind == "variability" else ""),
            codec_id=cid,
            demonstration=self.is_demonstration(f),
            quality=_fmt(d.get("quality")),
            bpp=f"{bpp:.3f}" if isinstance(bpp, (int, float)) else _fmt(bpp),
            psnr=f"{psnr:.2f}" if isinstance(psnr, (int, float)) and np.isfinite(psnr) else _fmt(psnr),
            device=_fmt(d.get("device")),
            output_sha256=str(sha) or "not stored",
            thumbnail=thumb,
            cites=tuple(info.citations) if info else (),
        )

    def other_block(self, f: Finding) -> OtherResultBlock:
        d = f.data
        label = self.labels.get(f.evidence_id, f"item {f.evidence_id}")
        m = methods_mod.method_for_finding(f.kind, d)
        if m:
            self.cit.cite(*m.citations)
        rows: list[tuple[str, str]] = []
        if "available" in d:
            ran = "yes" if d.get("available") else "no"
            rows.append(("Could run", ran + (f" \u2013 {d['message']}" if d.get("message") else "")))
        proposals = d.get("proposals")
        if isinstance(proposals, list):
            rows.append(("Proposals", str(len(proposals))))
            for p in proposals[:12]:
                if isinstance(p, dict):
                    box = p.get("box") or []
                    reading = f"\u201c{p.get('evidence_reading', '')}\u201d vs \u201c{p.get('comparison_reading', '')}\u201d"
                    rows.append((f"  at {', '.join(str(v) for v in box)}", f"{p.get('category', '')}: {reading}"))
        skip = {"method", "method_module", "proposals", "available", "message", "versions"}
        rows += _scalar_rows({k: v for k, v in d.items() if k not in skip}, limit=12)
        title = (m.name if m else f.kind.replace("_", " ").capitalize()) + f" (F{f.id})"
        return OtherResultBlock(title=title, evidence_label=label, rows=rows, cites=tuple(m.citations) if m else ())

    def overview(self, evidence_id: int) -> OverviewBlock | None:
        try:
            ev = self.evidence_pixels(evidence_id)
        except ExaminerError:
            return None
        label = self.labels.get(evidence_id, f"item {evidence_id}")
        k = max(1, int(np.ceil(max(ev.shape[:2]) / figs.OVERVIEW_PX)))
        fig = self.add_figure_manifest(figs.thumbnail(f"{label} overview (reduced 1/{k})", ev, figs.OVERVIEW_PX))
        assert fig is not None
        boxes = [(int(r.id or 0), r.bbox()) for r in self.regions if r.evidence_id == evidence_id]
        return OverviewBlock(label, fig, k, boxes)

    def region_block(self, r: Region) -> RegionBlock:
        self.ctx.check()
        label = self.labels.get(r.evidence_id, f"item {r.evidence_id}")
        number = int(r.id or 0)
        box = r.bbox()
        problems: list[str] = []
        crops = None
        comparison_label = r.comparison or "none recorded"
        share = 0.0
        try:
            ev = self.evidence_pixels(r.evidence_id)
            h, w = ev.shape[:2]
            share = _area_share(r, h, w)
            try:
                cmp_px, comparison_label = self.comparison_pixels(r)
            except ExaminerError as exc:
                cmp_px = None
                problems.append(f"comparison image unavailable: {exc.message}")
            crops = figs.region_crops(r, ev, cmp_px, number)
            if cmp_px is None and not problems:
                problems.append("no comparison image is recorded for this region; only the evidence crop is shown")
        except (ExaminerError, ValueError) as exc:
            problems.append(str(exc))
        figures_ = crops.figures if crops else []
        for fig in figures_:
            self.add_figure_manifest(fig)
        return RegionBlock(
            number=number,
            evidence_label=label,
            shape=r.kind.value,
            box=box,
            share_percent=share,
            categories=[Category(c).value for c in r.categories],
            symbol=r.symbol,
            evidence_says=r.evidence_says,
            comparison_says=r.comparison_says,
            confidence=r.confidence,
            notes=r.notes,
            provenance=r.provenance + ("; locked" if r.locked else ""),
            author=r.author,
            created=_when(r.created_utc),
            comparison_label=comparison_label,
            crops=figures_,
            crop_origin=crops.origin if crops else (0, 0),
            zoom=crops.zoom if crops else 1,
            difference_gain=crops.gain if crops else figs.DIFFERENCE_GAIN,
            outline=crops.outline if crops else [],
            outline_closed=crops.closed if crops else True,
            ellipse=crops.ellipse if crops else False,
            problems=problems,
        )

    # ----------------------------------------------------------------- closing sections

    def taxonomy(self) -> list[tuple[str, str]]:
        rows = [(c.value.capitalize(), CATEGORY_DEFINITIONS[c]) for c in CORE_CATEGORIES]
        if any(Category.TEXTURE.value in [Category(c).value for c in r.categories] for r in self.regions):
            rows.append(("Texture", CATEGORY_DEFINITIONS[Category.TEXTURE]))
        rows.append(("Symbol (flag)", SYMBOL_DEFINITION))
        return rows

    def limitations(
        self, detections: list[DetectionBlock], recomp: list[RecompressionBlock], regions: list[RegionBlock]
    ) -> list[str]:
        out = [
            "Metadata (EXIF, XMP, file names, dates) is reported as found in the files. It can be edited "
            "without trace and is not evidence of an image's origin on its own.",
        ]
        if detections:
            out.append(
                "Trace detection has measured error rates (stated with each result) on a stated set of images. "
                "Its performance on codecs, image content or processing outside that set is not known. A result "
                "of \u201cnot-neural\u201d does not exclude that a neural codec was used, in particular after "
                "strong re-compression, resizing or cropping."
            )
        if recomp:
            out.append(
                "A re-compression shows what a codec does to the evidence image now. It does not show what "
                "happened to the image before it was received; a close match with a codec is an indication, "
                "not proof, that the codec produced the image."
            )
        if any(r.demonstration for r in recomp):
            out.append(
                "Some re-compressions used a demonstration codec trained by the makers of this software. Such "
                "a codec shows the kind of change neural compression can make, not what a particular published "
                "codec would have made."
            )
        if regions:
            out.append(
                "Marked regions and their categories are the examiner's judgement. Without the original "
                "scene or an uncompressed original, what the scene showed cannot be established from the "
                "evidence image alone."
            )
        if any(r.problems for r in regions):
            out.append("For some regions crops could not be shown; the reasons are given with each region.")
        extra = self.case.get_meta(META_LIMITATIONS, []) or []
        if isinstance(extra, str):
            extra = [extra]
        out.extend(str(e) for e in extra)
        return out

    def conclusion(self) -> tuple[str, str, str]:
        raw = self.case.get_meta(META_CONCLUSION, None)
        if not raw:
            return "", "", (
                "The examiner has not recorded a conclusion level for this case; the level is therefore "
                "stated as \u201cnot stated\u201d."
            )
        if isinstance(raw, str):
            raw = {"level": raw}
        level = str(raw.get("level", ""))
        if level not in CONCLUSION_LEVELS:
            raise ExaminerError(
                f"the conclusion level {level!r} recorded in the case is not on the report's scale; "
                f"use one of: {', '.join(CONCLUSION_LEVELS)}"
            )
        basis = "Level stated by the examiner."
        if raw.get("by"):
            basis = f"Level stated by {raw['by']}."
        return level, str(raw.get("text", "")), basis

    def audit_rows(self) -> list[AuditRow]:
        rows = []
        for e in self.entries:
            details = canonical_json(e.params)
            if len(details) > AUDIT_DETAIL_CHARS:
                details = details[:AUDIT_DETAIL_CHARS] + f" \u2026 [{len(details):,} characters; the entry hash covers all of them]"
            rows.append(AuditRow(e.seq, e.time_utc.replace("T", " "), e.actor, e.action, details, e.entry_hash))
        return rows

    def audit_statement(self) -> str:
        if self.chain.ok:
            return (
                "Audit chain verified when this report was generated: intact. Every entry's hash was recomputed "
                "from its content and the previous entry's hash, and the end of the log matches its stored head."
            )
        where = f"entry {self.chain.first_bad}" if self.chain.first_bad is not None else "the log"
        return f"AUDIT CHAIN BROKEN at {where}: {self.chain.problem}. Entries from that point on cannot be trusted."


def _area_share(region: Region, height: int, width: int) -> float:
    """Share of the image covered, computed on the region's box only (same pixel-centre rule)."""
    x, y, w, h = region.bbox()
    if height * width == 0 or w == 0 or h == 0:
        return 0.0
    local = Region.from_dict(region.to_dict())
    local.points = [(px - x, py - y) for px, py in region.points]
    mask = local.mask(h, w)
    # Clip to the image: pixels of the box outside the image do not count.
    x0, y0 = max(0, -x), max(0, -y)
    x1, y1 = min(w, width - x), min(h, height - y)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    return 100.0 * float(mask[y0:y1, x0:x1].sum()) / float(height * width)


def build_report_model(case: Case, options: BuildOptions | None = None, ctx: TaskContext | None = None) -> ReportModel:
    """Everything the report will say about the case in its current state (no PDF yet)."""
    return _ModelBuilder(case, options or BuildOptions(), ctx or silent()).build()


def _likelihood_sentence(d: dict[str, Any]) -> str:
    """"LR 240 (90 % interval 150-380): moderately strong support for ...", or "" when the
    result carries no likelihood ratio (recorded by an older model)."""
    lr = d.get("lr")
    if not isinstance(lr, (int, float)):
        return ""
    text = f"Likelihood ratio {lr:.3g}"
    iv = d.get("lr_interval_90")
    if isinstance(iv, (list, tuple)) and len(iv) == 2 and all(isinstance(v, (int, float)) for v in iv):
        text += f" (90% bootstrap interval {iv[0]:.3g} to {iv[1]:.3g})"
    words = d.get("verbal_scale")
    return text + (f": {words}" if words else "") + "."
