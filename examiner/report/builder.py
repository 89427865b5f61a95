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
  ``versions``, ``weights_sha256``, read as typed records (:mod:`examiner.findings`), with every
  stored artefact (reconstruction, bitstream, variability map) listed by name and SHA-256;
* regions (:class:`~examiner.core.regions.Region`); ``comparison`` is ``"reference"`` or
  ``"finding:<id>"``;
* case meta keys ``report.summary`` (text), ``report.conclusion`` (``{"level", "text"}``, level
  from :data:`~examiner.report.model.CONCLUSION_LEVELS`), ``report.reviewer`` and
  ``report.limitations`` (extra limitation texts);
* the audit log and its verification.

Determinism: the model depends only on the case state. Audit entries that merely observe the
case (a successful open or integrity check, a report export; see :func:`~examiner.report.sources.is_observation`) are
left out, so exporting a report, or opening the case, does not change the next report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from examiner.analysis.localisation_text import describe as describe_localisation
from examiner.core import case_changes
from examiner.core.case import Case, Finding
from examiner.core.settings import Settings
from examiner.core.tasks import TaskContext, silent
from examiner.core.text_safety import name_text
from examiner.errors import ExaminerError
from examiner.findings.records import (
    DetectionRecord,
    OtherRecord,
    RecompressionRecord,
    SymbolCheckRecord,
    VariabilityRecord,
)
from examiner.findings.schema import typed
from examiner.report import (
    detection_runs,
    evidence_section,
    regions_section,
    scope_section,
    summary_section,
    tools_section,
)
from examiner.report import figures as figs
from examiner.report import methods as methods_mod
from examiner.report.audit_section import anchor_head, audit_rows, audit_statement
from examiner.report.bibliography import Citations
from examiner.report.model import (
    CONCLUSION_PROPOSITION,
    REPORT_SUBTITLE,
    REPORT_TITLE,
    AuditRow,
    DetectionBlock,
    EarlierRun,
    FeatureTable,
    Figure,
    ManifestRow,
    OtherResultBlock,
    OverviewBlock,
    RecompressionBlock,
    ReportModel,
    derive_report_id,
)
from examiner.report.sources import ReportSources
from examiner.report.values import (
    date_text,
    fmt,
    library_versions,
    parse_time,
    scalar_rows,
)

# Which entries observe the case rather than change it is decided in the core, for verify too.
OBSERVING_ACTIONS = case_changes.OBSERVING_ACTIONS
EXPORT_ACTION = case_changes.EXPORT_ACTION
# Finding kinds with a section of their own; others are listed under "Other analyses".
OWN_SECTIONS = frozenset({"detection", "recompression", "variability"})


AUDIT_DETAIL_CHARS = 1500


@dataclass
class BuildOptions:
    reviewer: str | None = None
    report_id: str | None = None
    amends: str | None = None
    issued: str | None = None  # ISO date or date-time (UTC) overriding the case-derived date
    # The settings in force, as the front end read them: the report states them and finds
    # third-party codec packs through them. None: the report says they were not given.
    settings: Settings | None = None


T = TypeVar("T")


class ModelBuilder:
    """Assembles the report model: reads the case once (:class:`ReportSources`), asks each
    section for its blocks and manifest rows, and numbers the citations in order of appearance."""

    def __init__(self, case: Case, options: BuildOptions, ctx: TaskContext) -> None:
        self.case = case
        self.opt = options
        self.ctx = ctx
        self.cit = Citations()
        self.src = ReportSources(case, options.settings)
        # The builder's own result blocks read the same snapshot.
        self.details, self.items, self.findings = self.src.details, self.src.items, self.src.findings
        self.regions, self.entries, self.labels = self.src.regions, self.src.entries, self.src.labels
        self.chain, self.rows = self.src.chain, self.src.rows
        self.manifest: list[ManifestRow] = []

    # ----------------------------------------------------------------- helpers

    def add_manifest(self, item: str, role: str, sha: str | None) -> None:
        if sha and not any(r.sha256 == sha and r.item == item for r in self.manifest):
            self.manifest.append(ManifestRow(item, role, sha))

    def add_rows(self, rows: list[ManifestRow]) -> None:
        for row in rows:
            self.add_manifest(row.item, row.role, row.sha256)

    def add_figure_manifest(self, fig: Figure | None) -> Figure | None:
        if fig is not None:
            self.add_manifest(fig.name, "figure", fig.sha256)
        return fig

    def section(self, built: tuple[T, list[ManifestRow]]) -> T:
        """A section's blocks, its manifest rows added in the order they come."""
        block, rows = built
        self.add_rows(rows)
        return block

    # ----------------------------------------------------------------- build

    def build(self) -> ReportModel:
        src = self.src
        self.ctx.progress(0, 6, "re-checking evidence files")
        evidence_blocks = []
        for item in self.items:
            self.ctx.check()
            evidence_blocks.append(self.section(evidence_section.evidence_block(src, item)))
        from examiner.report import provenance_section

        provenance_section.attach(src, evidence_blocks)
        intact = all(b.intact for b in evidence_blocks) and all(
            c.problem == "" and c.sha256 is not None for (eid, role), c in src.checks.items() if role == "reference"
        )
        self.ctx.progress(1, 6, "collecting results")
        # The latest run per item and method is the result; earlier ones go to the appendix.
        detections_f, superseded = detection_runs.latest_runs([f for f in self.findings if f.kind == "detection"])
        recomp_f = [f for f in self.findings if f.kind in ("recompression", "variability")]

        # Citation numbers follow the order of appearance: summary, tools, methods, results,
        # regions, taxonomy. Blocks are therefore built in that order.
        summary = summary_section.summary_placeholder(src)
        if self.regions:
            self.cit.cite("hofer2024taxonomy")  # the summary's sentence on regions cites it
        codecs = self.section(tools_section.codec_uses(src, recomp_f))
        for use in codecs:
            self.cit.cite(*use.cites)
        methods = tools_section.method_blocks(src, detections_f, recomp_f)
        for method in methods:
            self.cit.cite(*method.cites)
        detections = [self.detection_block(f) for f in detections_f]
        earlier = [self.earlier_run(f, latest) for f, latest in superseded]
        feature_tables = [self.feature_table(f) for f in detections_f]
        legend = detection_runs.feature_legend([name for t in feature_tables for name, _ in t.rows])
        self.ctx.progress(2, 6, "re-compression thumbnails")
        recompressions = [self.recompression_block(f) for f in recomp_f]
        others = [self.other_block(f) for f in self.findings if f.kind not in OWN_SECTIONS]
        for f in self.findings:
            # Every stored artefact of every finding is named with its hash, whichever section
            # shows the finding (a detection's tile map, say, is not drawn but is stored).
            for name, sha in sorted(f.artefacts.items()):
                if not any(m.sha256 == sha and m.item.startswith(f"F{f.id} ") for m in self.manifest):
                    self.add_manifest(f"F{f.id} {name}", "stored artefact", sha)
        self.ctx.progress(3, 6, "region crops")
        region_blocks = []
        overviews: list[OverviewBlock] = []
        for i, r in enumerate(self.regions):
            self.ctx.progress(3 + i / max(1, len(self.regions)), 6, f"region {i + 1} of {len(self.regions)}")
            if not overviews or overviews[-1].evidence_label != self.labels.get(r.evidence_id):
                ov = self.section(regions_section.overview(src, r.evidence_id))
                if ov is not None:
                    overviews.append(ov)
            self.ctx.check()
            region_blocks.append(self.section(regions_section.region_block(src, r)))
        self.cit.cite("hofer2024taxonomy")  # the taxonomy section always cites it
        self.cit.cite("enfsi2015guideline")  # the conclusion's scale is the guideline's
        self.ctx.progress(5, 6, "audit log")
        level, text, basis = scope_section.conclusion(src)
        summary.extend(summary_section.summary(src, evidence_blocks, intact, detections, recompressions, region_blocks, level))
        issued_dt = self.issued_time()
        reviewer = self.opt.reviewer if self.opt.reviewer is not None else str(src.reviewer or "")
        model = ReportModel(
            report_id="",
            title=REPORT_TITLE,
            subtitle=REPORT_SUBTITLE,
            lab=self.details.lab,
            case_id=self.details.case_id,
            case_title=self.details.title,
            requester=self.details.requester,
            examiner=name_text(self.details.examiner),
            reviewer=name_text(reviewer),
            received=self.received(),
            examined=self.examined(),
            issued=issued_dt.strftime("%Y-%m-%d %H:%M UTC"),
            issued_epoch=int(issued_dt.timestamp()),
            amends=self.opt.amends or "",
            summary=summary,
            integrity_statement=summary_section.integrity_statement(src, evidence_blocks, intact),
            integrity_ok=intact and self.chain.ok and self.rows.ok,
            evidence=evidence_blocks,
            tools=library_versions() + tools_section.recorded_versions(self.findings),
            device=tools_section.devices(recomp_f),
            codecs=codecs,
            settings=tools_section.settings_rows(self.findings, self.opt.settings),
            methods=methods,
            detections=detections,
            earlier_detections=earlier,
            feature_tables=[t for t in feature_tables if t.rows],
            feature_legend=legend,
            recompressions=recompressions,
            other_results=others,
            overviews=overviews,
            regions=region_blocks,
            taxonomy=scope_section.taxonomy(src),
            limitations=scope_section.limitations(src, detections, recompressions, region_blocks),
            conclusion_proposition=CONCLUSION_PROPOSITION,
            conclusion_level=level,
            conclusion_text=text,
            conclusion_basis=basis,
            bibliography=self.cit.entries(),
            audit=self.audit_rows(),
            audit_verification=self.audit_statement(),
            audit_ok=self.chain.ok and self.rows.ok,
            audit_head=self.head_text(),
            audit_note=(
                "Entries that only record opening the case, successful integrity checks and report "
                "exports are not listed, so that the same case content always gives the same report; "
                "they remain in the case file's log and are covered by the chain verification. Failed "
                "checks are always listed, and so is every entry that records changed table rows, "
                "whatever its action."
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
        times = [t for t in (parse_time(i.added_utc) for i in self.items) if t]
        return f"{date_text(min(times))} (intake into the case)" if times else ""

    def examined(self) -> str:
        stamps: list[str] = [i.added_utc for i in self.items]
        stamps += [f.created_utc for f in self.findings]
        stamps += [r.created_utc for r in self.regions]
        times = sorted(t for t in (parse_time(s) for s in stamps) if t)
        if not times:
            return ""
        first, last = date_text(times[0]), date_text(times[-1])
        return first if first == last else f"{first} to {last}"

    def issued_time(self) -> datetime:
        if self.opt.issued:
            dt = parse_time(self.opt.issued)
            if dt is None:
                raise ExaminerError(f"issue date {self.opt.issued!r} is not an ISO date such as 2026-11-24")
            return dt
        # The time of the last change to the case: the report describes that state.
        times = [t for t in (parse_time(e.time_utc) for e in self.entries) if t]
        return max(times) if times else datetime(2000, 1, 1, tzinfo=UTC)

    # ----------------------------------------------------------------- summary


    # ----------------------------------------------------------------- methods


    # ----------------------------------------------------------------- results

    def detection_block(self, f: Finding) -> DetectionBlock:
        tf = typed(f)
        rec = tf.record
        if not isinstance(rec, DetectionRecord):
            raise ExaminerError(f"finding F{f.id} ({f.kind}) is not a detection")
        label = self.labels.get(f.evidence_id, f"item {f.evidence_id}")
        candidates = []
        for c in rec.candidates or []:
            if isinstance(c, dict):
                name = f"{c.get('codec', c.get('id', '?'))} q{c.get('quality', '?')}"
                rest = {k: v for k, v in c.items() if k not in ("codec", "id", "quality") and not isinstance(v, (dict, list))}
                candidates.append((name, fmt(rest)))
        if rec.identification and rec.identification.get("summary"):
            candidates.insert(0, ("Summary", str(rec.identification["summary"])))
        described = {k: v for k, v in rec.error_rates.items() if k in ("set", "measured_on", "composition", "description", "dataset")}
        set_text = "; ".join(fmt(v) for v in described.values()) or str(rec.extra.get("error_rate_set", "") or "")
        # "figures" repeats the sentences' numbers for programs reading the JSON, not for the reader.
        rate_rows = scalar_rows({k: v for k, v in rec.error_rates.items() if k not in described and k != "figures"},
                                limit=16)
        spectrum = None
        for name, sha in sorted(tf.artefacts.items()):
            if "spectrum" in name.lower():
                try:
                    img = self.src.artefact_image(sha, name)
                except ExaminerError:
                    continue
                spectrum = self.add_figure_manifest(figs.figure(
                    f"F{f.id} {name}", img,
                    "Averaged power spectrum of the noise residual (luma, DC centred, log scale). Periodic "
                    "peaks on the grid of periods 2, 4, 8 and 16 pixels are typical of learned up-sampling.",
                ))
                self.add_manifest(f"F{f.id} {name}", "stored artefact", sha)
                break
        m = methods_mod.method_for_finding(f.kind, f.data)
        if m:
            self.cit.cite(*m.citations)
        likelihood = _likelihood_sentence(rec)
        if likelihood:
            self.cit.cite("enfsi2015guideline")
        return DetectionBlock(
            evidence_label=label,
            verdict=rec.verdict,
            score=rec.score,
            explanation=rec.explanation,
            features=[],  # measured features are listed, with a legend, in the appendix
            candidates=candidates,
            spectrum=spectrum,
            error_rates=rate_rows,
            error_rate_set=set_text,
            cites=tuple(m.citations) if m else (),
            likelihood=likelihood,
            inconclusive_reason=rec.inconclusive_reason or "",
            localisation=describe_localisation(rec.localisation),
            finding=f"F{f.id}",
            created=f.created_utc.replace("T", " ")[:16] + " UTC",
            model=detection_runs.model_text(f.data),
        )

    def feature_table(self, f: Finding) -> FeatureTable:
        rec = typed(f).record
        assert isinstance(rec, DetectionRecord)
        rows = scalar_rows(rec.spectral, limit=12) + scalar_rows(
            {k: v for k, v in rec.jpeg.items() if k not in ("summary", "luma_table")}, prefix="JPEG ", limit=8)
        return FeatureTable(f"F{f.id}", self.labels.get(f.evidence_id, f"item {f.evidence_id}"), rows)

    def earlier_run(self, f: Finding, latest: Finding) -> EarlierRun:
        return EarlierRun(
            finding=f"F{f.id}",
            evidence_label=self.labels.get(f.evidence_id, f"item {f.evidence_id}"),
            created=f.created_utc.replace("T", " ")[:16] + " UTC",
            model=detection_runs.model_text(f.data),
            verdict=str(f.data.get("verdict", "")),
            likelihood_ratio=detection_runs.lr_text(f.data),
            superseded_by=f"F{latest.id}",
        )

    def recompression_block(self, f: Finding) -> RecompressionBlock:
        """A re-compression or seed-variability run: its figures and every artefact it stored."""
        tf = typed(f)
        rec = tf.record
        if not isinstance(rec, RecompressionRecord | VariabilityRecord):
            raise ExaminerError(f"finding F{f.id} ({f.kind}) is not a codec run")
        cid = rec.codec
        info = self.src.codec_info(cid)
        thumb = None
        image = tf.image_artefact()
        if image is not None:
            try:
                img = self.src.artefact_image(image[1], self.src.finding_label(f))
                thumb = self.add_figure_manifest(figs.thumbnail(f"F{f.id} {image[0]} thumbnail", img))
            except ExaminerError:
                thumb = None
        stored = sorted(tf.artefacts.items())
        for name, sha in stored:
            self.add_manifest(f"F{f.id} {name} ({cid} q{rec.quality})", "stored artefact", sha)
        if info:
            self.cit.cite(*info.citations)
        if isinstance(rec, RecompressionRecord):
            bpp, psnr = rec.bpp, (None if rec.identical else rec.psnr)
            psnr_text = "identical" if rec.identical else (f"{psnr:.2f}" if psnr is not None else "–")
        else:
            bpp, psnr_text = None, "–"
        return RecompressionBlock(
            evidence_label=self.labels.get(f.evidence_id, f"item {f.evidence_id}"),
            codec_name=(info.name if info else cid) + (" (seed variability)" if f.kind == "variability" else ""),
            codec_id=cid,
            demonstration=self.src.is_demonstration(f),
            quality=fmt(rec.quality),
            bpp=f"{bpp:.3f}" if isinstance(bpp, (int, float)) else fmt(bpp),
            psnr=psnr_text,
            device=fmt(rec.device or None),
            artefacts=[(name, sha) for name, sha in stored],
            finding=f"F{f.id}",
            thumbnail=thumb,
            cites=tuple(info.citations) if info else (),
        )

    def other_block(self, f: Finding) -> OtherResultBlock:
        """A finding of a kind without its own section: the symbol checks with their proposals,
        and any other kind by its recorded figures."""
        rec = typed(f).record
        label = self.labels.get(f.evidence_id, f"item {f.evidence_id}")
        m = methods_mod.method_for_finding(f.kind, f.data)
        if m:
            self.cit.cite(*m.citations)
        rows: list[tuple[str, str]] = []
        figures = {k: v for k, v in rec.to_payload().items() if k != "schema"}
        if isinstance(rec, SymbolCheckRecord):
            ran = "yes" if rec.available else "no"
            rows.append(("Could run", ran + (f" \u2013 {rec.message}" if rec.message else "")))
            rows.append(("Proposals", str(len(rec.proposals))))
            for p in rec.proposals[:12]:
                if isinstance(p, dict):
                    box = p.get("box") or []
                    reading = f"\u201c{p.get('evidence_reading', '')}\u201d vs \u201c{p.get('comparison_reading', '')}\u201d"
                    rows.append((f"  at {', '.join(str(v) for v in box)}", f"{p.get('category', '')}: {reading}"))
            figures = {k: v for k, v in figures.items()
                       if k not in {"method", "method_module", "proposals", "available", "message"}}
        elif isinstance(rec, OtherRecord):
            figures = dict(rec.extra)
        figures.pop("versions", None)
        rows += scalar_rows(figures, limit=12)
        title = (m.name if m else f.kind.replace("_", " ").capitalize()) + f" (F{f.id})"
        return OtherResultBlock(title=title, evidence_label=label, rows=rows, cites=tuple(m.citations) if m else ())

    # ----------------------------------------------------------------- closing sections


    def head_text(self) -> str:
        return anchor_head(self.entries, self.chain)

    def audit_rows(self) -> list[AuditRow]:
        return audit_rows(self.entries, AUDIT_DETAIL_CHARS, self.labels)

    def audit_statement(self) -> str:
        return audit_statement(self.chain, self.rows)


def build_report_model(case: Case, options: BuildOptions | None = None, ctx: TaskContext | None = None) -> ReportModel:
    """Everything the report will say about the case in its current state (no PDF yet)."""
    return ModelBuilder(case, options or BuildOptions(), ctx or silent()).build()


def _likelihood_sentence(rec: DetectionRecord) -> str:
    """"LR 240 (90 % interval 150-380): moderately strong support for ...", or "" when the
    result carries no likelihood ratio (recorded by an older model)."""
    if rec.lr is None:
        return ""
    text = f"Likelihood ratio {rec.lr:.3g}"
    iv = rec.lr_interval_90
    if isinstance(iv, (list, tuple)) and len(iv) == 2 and all(isinstance(v, (int, float)) for v in iv):
        if iv[0] == iv[1] == rec.lr:
            # Every bootstrap refit hits the same ceiling: the calibration data cannot support more.
            text += (" (the largest likelihood ratio the calibration data can support, so its 90% bootstrap "
                     "interval is that value too)")
        else:
            text += f" (90% bootstrap interval {iv[0]:.3g} to {iv[1]:.3g})"
    return text + (f": {rec.verbal_scale}" if rec.verbal_scale else "") + "."
