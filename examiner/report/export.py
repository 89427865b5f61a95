"""Export a case's report: the one entry point the CLI and the GUI share.

:func:`export_report` re-checks the evidence (``Case.integrity_check``, recorded in the audit
log as ``report.integrity_checked``), builds the model, renders the PDF, writes it atomically
and records the export (``report.exported`` with the PDF's SHA-256, page count and report id).
Those two audit entries are observations, not changes: the report model leaves them out, so
exporting the same case state again gives a byte-identical file. :func:`render_preview_pages`
turns the first pages of a PDF into PNG images for a preview.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from examiner.core.atomic import write_atomically
from examiner.core.case import Case
from examiner.core.integrity import IntegrityReport
from examiner.core.output_paths import case_files, guard_output
from examiner.core.settings import Settings
from examiner.core.signing import SIGNATURE_PARAM
from examiner.core.tasks import TaskContext, silent
from examiner.core.text_safety import check_names
from examiner.errors import ExaminerError, IntegrityError, ToolMissingError
from examiner.report.builder import EXPORT_ACTION, BuildOptions, build_report_model
from examiner.report.model import ReportModel


@dataclass
class ReportOptions:
    reviewer: str | None = None  # overrides the case's report.reviewer meta value
    report_id: str | None = None  # default: derived from the case state
    amends: str | None = None  # id of the report this one supersedes
    issued: str | None = None  # ISO date (UTC); default: time of the case's last change
    record: bool = True  # write the export to the audit log (needs a writable case)
    pdfa: bool = False  # post-process towards PDF/A-3b with the report data attached
    sign_key: str | None = None  # examiner private key file: sign the chain head the report prints
    settings: Settings | None = None  # the settings in force, stated in the report


@dataclass
class ReportResult:
    path: str
    sha256: str
    pages: int
    report_id: str
    size: int
    integrity_ok: bool
    audit_ok: bool
    problems: list[str] = field(default_factory=list)
    audit_head: str = ""  # "N:HASH" printed in the report: give it to `case verify --expect-head`

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def refuse_damaged(case_path: str | Path, integrity: IntegrityReport) -> None:
    """A case whose tables are missing or hold values of the wrong type cannot be read as a
    case: the report is refused with the findings instead of failing half-way."""
    if integrity.damaged:
        problems = integrity.problems()
        raise IntegrityError(
            f"{case_path}: the case file's tables are damaged, so no report is made: {problems[0]}"
            + (f" (and {len(problems) - 1} more; see 'examiner case verify')" if len(problems) > 1 else "")
        )


def recent_cases(settings: Settings | None) -> list[str]:
    """The recent cases the settings list: their evidence is kept clear of every output too."""
    return list(settings.recent_cases) if settings is not None else []


def _protected_paths(case: Case) -> set[Path]:
    return {p.resolve() for p in case_files(case)}


def build_model(case: Case, options: ReportOptions | None = None, ctx: TaskContext | None = None) -> ReportModel:
    opts = options or ReportOptions()
    key = None
    if opts.sign_key:
        from examiner.core.signing import load_private_key

        key = load_private_key(opts.sign_key)  # before the work, so a bad key fails at once
    model = build_report_model(
        case,
        BuildOptions(
            reviewer=opts.reviewer, report_id=opts.report_id, amends=opts.amends, issued=opts.issued,
            settings=opts.settings,
        ),
        ctx,
    )
    if key is not None and model.audit_head:
        from examiner.core.anchor import parse_head
        from examiner.core.signing import sign_head

        # Ed25519 signatures are deterministic, so a signed report stays byte-identical.
        model.head_signature = sign_head(key, parse_head(model.audit_head))
    return model


def render_case(case: Case, options: ReportOptions | None = None, ctx: TaskContext | None = None) -> tuple[bytes, int, ReportModel]:
    """PDF bytes, page count and model for the case as it is now, without writing anything."""
    from examiner.report.pdf import render_pdf_with_pages

    ctx = ctx or silent()
    model = build_model(case, options, ctx.sub(0.0, 0.7, 1.0))
    ctx.progress(0.75, 1.0, "laying out the PDF")
    pdf, pages = render_pdf_with_pages(model)
    if options is not None and options.pdfa:
        from examiner.report.pdfa import to_pdfa3b

        ctx.progress(0.95, 1.0, "PDF/A-3b metadata and attachment")
        pdf = to_pdfa3b(pdf, model)
    return pdf, pages, model


def export_report(
    case: Case, out_path: str | Path, options: ReportOptions | None = None, ctx: TaskContext | None = None
) -> ReportResult:
    """Re-check the evidence, render the report to ``out_path`` and record the export."""
    opts = options or ReportOptions()
    ctx = ctx or silent()
    out = Path(out_path)
    if out.is_dir():
        raise ExaminerError(f"{out}: is a folder; give a file name for the report")
    if not out.parent.is_dir():
        raise ExaminerError(f"{out}: folder {out.parent} does not exist")
    if opts.reviewer:
        check_names(reviewer=opts.reviewer)
    guard_output(out, case_files(case), [case.path], recent_cases=recent_cases(opts.settings), what="report")
    ctx.progress(0, 10, "re-hashing evidence files")
    record = opts.record and not case.read_only
    integrity = case.integrity_check(record=record, action="report.integrity_checked")
    refuse_damaged(case.path, integrity)
    pdf, pages, model = render_case(case, opts, ctx.sub(1, 9, 10))
    ctx.progress(9, 10, "writing the PDF")
    write_atomically(out, pdf)
    digest = hashlib.sha256(pdf).hexdigest()
    if record:
        case.log_action(EXPORT_ACTION, {
            "path": str(out.resolve()),
            "sha256": digest,
            "pages": pages,
            "size": len(pdf),
            "report_id": model.report_id,
            "amends": opts.amends or "",
            "reviewer": model.reviewer,
            "integrity_ok": integrity.ok,
            "pdfa": opts.pdfa,
            "audit_head": model.audit_head,
            **({SIGNATURE_PARAM: model.head_signature} if model.head_signature else {}),
        })  # fmt: skip
    ctx.progress(10, 10, "report written")
    return ReportResult(
        path=str(out),
        sha256=digest,
        pages=pages,
        report_id=model.report_id,
        size=len(pdf),
        integrity_ok=model.integrity_ok and integrity.ok,
        audit_ok=model.audit_ok,
        problems=integrity.problems(),
        audit_head=model.audit_head,
    )


def render_preview_pages(pdf_path: str | Path, first_n: int = 3, dpi: int = 60) -> list[bytes]:
    """PNG images of the first ``first_n`` pages, rendered with poppler's ``pdftoppm``."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise ToolMissingError(
            "pdftoppm is not installed, so the report preview cannot be drawn; install poppler-utils "
            "(Debian/Ubuntu: apt-get install poppler-utils). The PDF itself is not affected."
        )
    src = Path(pdf_path)
    if not src.is_file():
        raise ExaminerError(f"{src}: report file not found")
    n = max(1, int(first_n))
    with tempfile.TemporaryDirectory(prefix="examiner-preview-") as tmp:
        prefix = Path(tmp) / "page"
        try:
            proc = subprocess.run(
                [exe, "-png", "-r", str(int(dpi)), "-f", "1", "-l", str(n), str(src), str(prefix)],
                capture_output=True, timeout=120, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise ExaminerError(f"{src}: drawing the preview took too long") from None
        if proc.returncode != 0:
            msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ExaminerError(f"{src}: the preview could not be drawn ({msg[-1] if msg else 'pdftoppm failed'})")
        files = sorted(Path(tmp).glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        return [p.read_bytes() for p in files]
