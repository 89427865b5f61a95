"""``examiner report``: export a case's court report as PDF, headless."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag
    from examiner.commands._settings import add_actor_flag

    p = subparsers.add_parser(
        "report",
        help="export the case report as a PDF",
        description=(
            "Re-check every evidence file's hashes, then write the case report as PDF and record its "
            "SHA-256 in the case's audit log. The same case state always gives a byte-identical PDF."
        ),
    )
    p.add_argument("case", metavar="CASE.mcase", help="the case file")
    p.add_argument("--out", metavar="REPORT.pdf",
                   help="where to write the PDF (without it, only the summary, conclusion and limitations given are recorded)")  # fmt: skip
    p.add_argument("--reviewer", help="name of the reviewer for the signature block")
    p.add_argument("--report-id", help="report id to print (default: derived from the case state)")
    p.add_argument("--amends", metavar="REPORT_ID", help="id of an earlier report this one amends and supersedes")
    p.add_argument("--issued", metavar="DATE", help="issue date (ISO, UTC); default: the time of the case's last change")
    add_text_options(p)
    p.add_argument("--list-levels", action="store_true", help="print the conclusion scale and exit")
    p.add_argument(
        "--pdfa",
        action="store_true",
        help="post-process towards PDF/A-3b and attach the report's data as JSON (not validated; see the user guide, Write the report)",
    )
    p.add_argument("--preview", metavar="FOLDER", help="also write PNG previews of the first pages into FOLDER")
    p.add_argument("--sign-key", metavar="PRIVATE_KEY",
                   help="sign the chain head the report prints with this examiner key (see 'examiner case key-generate')")  # fmt: skip
    add_actor_flag(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def _preview_targets(args: argparse.Namespace, protected: list[Path], recent: list[str]) -> list[Path]:
    from examiner.core.output_paths import guard_output

    if not args.preview:
        return []
    targets = [Path(args.preview) / f"{Path(args.out).stem}-page{i}.png" for i in range(1, 4)]
    for t in targets:
        guard_output(t, protected, recent_cases=recent, what="preview")
    return targets


def add_text_options(p: argparse.ArgumentParser) -> None:
    """The examiner's own words for the report, shared by ``report`` and ``case set``."""
    p.add_argument(
        "--conclusion",
        metavar="LEVEL",
        help="record the conclusion level on the ENFSI scale (e.g. 'Moderate support for the proposition'; "
             "an empty LEVEL clears it; see 'examiner report --list-levels')",
    )
    p.add_argument("--conclusion-text", metavar="TEXT",
                   help="record the conclusion's wording (kept with the recorded level, or with --conclusion)")  # fmt: skip
    p.add_argument("--summary", metavar="TEXT", help="record the examiner's summary, printed first in the report (empty clears it)")
    p.add_argument("--limitations", metavar="TEXT", action="append",
                   help="record an extra limitation of this examination (repeatable; replaces the earlier ones; one empty TEXT clears them)")  # fmt: skip


def gives_text(args: argparse.Namespace) -> bool:
    return any(v is not None for v in (args.summary, args.conclusion, args.conclusion_text, args.limitations))


def record_text(case: object, args: argparse.Namespace) -> list[str]:
    """Record the texts given on the command line (through the one function the window uses too)."""
    from examiner.report.report_text import set_report_text

    limitations = None if args.limitations is None else [t for t in args.limitations if t.strip()]
    return set_report_text(case, summary=args.summary, conclusion_level=args.conclusion,  # type: ignore[arg-type]
                           conclusion_text=args.conclusion_text, limitations=limitations)  # fmt: skip


def print_text_result(case: object, changed: list[str], as_json: bool, hint: str) -> None:
    from examiner.commands._output import print_json
    from examiner.report.report_text import report_text

    if as_json:
        print_json({"changed": changed, **report_text(case).to_dict()})  # type: ignore[arg-type]
    else:
        print(f"recorded: {', '.join(changed) or 'nothing new'}{hint}")


def run(args: argparse.Namespace) -> int:
    from examiner.commands._output import print_json
    from examiner.commands._settings import open_case, user_settings
    from examiner.core.output_paths import case_files, guard_output
    from examiner.core.tasks import StderrProgress, TaskContext
    from examiner.errors import ExaminerError
    from examiner.report.export import (
        ReportOptions,
        export_report,
        recent_cases,
        refuse_damaged,
        render_preview_pages,
    )
    from examiner.report.model import CONCLUSION_ALTERNATIVE, CONCLUSION_PROPOSITION, CONCLUSION_SCALE
    from examiner.report.report_text import conclusion_level

    if args.list_levels:
        print(f"Proposition: {CONCLUSION_PROPOSITION}.")
        print(f"Alternative: {CONCLUSION_ALTERNATIVE}.")
        for level, definition in CONCLUSION_SCALE:
            print(f"  {level}: {definition}")
        return 0
    sets_text = gives_text(args)
    if not args.out and not sets_text:
        raise ExaminerError("give the report's file name with --out REPORT.pdf")
    if args.conclusion:
        conclusion_level(args.conclusion)  # an unknown level is refused before the case is opened
    case_path = Path(args.case)
    progress = StderrProgress()
    ctx = TaskContext(on_progress=progress)
    settings = user_settings()
    with open_case(case_path, settings, actor=args.actor) as case:
        if args.out:
            refuse_damaged(case.path, case.integrity)
            # Every path this command may write is checked before anything is written or recorded.
            recent = recent_cases(settings)
            guard_output(args.out, case_files(case), [case.path], recent_cases=recent, what="report")
            protected = [*case_files(case), Path(args.out)]
            preview_targets = _preview_targets(args, protected, recent)
        if sets_text:
            changed = record_text(case, args)
            if not args.out:
                print_text_result(case, changed, args.json, "; write the PDF with --out REPORT.pdf")
                return 0
        options = ReportOptions(
            reviewer=args.reviewer, report_id=args.report_id, amends=args.amends, issued=args.issued, pdfa=args.pdfa,
            sign_key=args.sign_key, settings=settings,
        )
        result = export_report(case, args.out, options, ctx)
    previews: list[str] = []
    if args.preview:
        Path(args.preview).mkdir(parents=True, exist_ok=True)
        pages = render_preview_pages(args.out, len(preview_targets))
        for target, png in zip(preview_targets, pages, strict=False):
            guard_output(target, protected, recent_cases=recent, what="preview")  # again: the folder may have changed meanwhile
            target.write_bytes(png)
            previews.append(str(target))
    if args.json:
        data = result.to_dict()
        data["previews"] = previews
        print_json(data)
    else:
        print(f"{result.path}: {result.pages} pages, report {result.report_id}")
        print(f"SHA-256 {result.sha256}")
        if result.audit_head:
            print(f"chain head {result.audit_head} (check the case later with: examiner case verify CASE --expect-head {result.audit_head})")
        for p in previews:
            print(f"preview {p}")
    if not result.integrity_ok:
        for problem in result.problems:
            print(f"examiner: warning: {problem}", file=sys.stderr)
        print("examiner: the report was written and states the integrity problems above", file=sys.stderr)
        return 3
    return 0
