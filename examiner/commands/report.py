"""``examiner report``: export a case's court report as PDF, headless."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

    p = subparsers.add_parser(
        "report",
        help="export the case report as a PDF",
        description=(
            "Re-check every evidence file's hashes, then write the case report as PDF and record its "
            "SHA-256 in the case's audit log. The same case state always gives a byte-identical PDF."
        ),
    )
    p.add_argument("case", metavar="CASE.mcase", help="the case file")
    p.add_argument("--out", metavar="REPORT.pdf", help="where to write the PDF (required)")
    p.add_argument("--reviewer", help="name of the reviewer for the signature block")
    p.add_argument("--report-id", help="report id to print (default: derived from the case state)")
    p.add_argument("--amends", metavar="REPORT_ID", help="id of an earlier report this one amends and supersedes")
    p.add_argument("--issued", metavar="DATE", help="issue date (ISO, UTC); default: the time of the case's last change")
    p.add_argument(
        "--conclusion",
        metavar="LEVEL",
        help="record the conclusion level in the case first (e.g. 'Moderate support'; see --list-levels)",
    )
    p.add_argument("--conclusion-text", metavar="TEXT", help="record the conclusion's wording (with --conclusion)")
    p.add_argument("--list-levels", action="store_true", help="print the conclusion scale and exit")
    p.add_argument(
        "--pdfa",
        action="store_true",
        help="post-process towards PDF/A-3b and attach the report's data as JSON (not validated; see the user guide, Write the report)",
    )
    p.add_argument("--preview", metavar="FOLDER", help="also write PNG previews of the first pages into FOLDER")
    p.add_argument("--sign-key", metavar="PRIVATE_KEY",
                   help="sign the chain head the report prints with this examiner key (see 'examiner case key-generate')")  # fmt: skip
    add_json_flag(p)
    p.set_defaults(func=run)


def _level(name: str) -> str:
    from examiner.errors import ExaminerError
    from examiner.report.model import CONCLUSION_LEVELS

    for level in CONCLUSION_LEVELS:
        if level.lower() == name.strip().lower():
            return level
    raise ExaminerError(f"unknown conclusion level {name!r}; use one of: {', '.join(CONCLUSION_LEVELS)}")


def _preview_targets(args: argparse.Namespace, protected: list[Path]) -> list[Path]:
    from examiner.core.output_paths import refuse_protected

    if not args.preview:
        return []
    targets = [Path(args.preview) / f"{Path(args.out).stem}-page{i}.png" for i in range(1, 4)]
    for t in targets:
        refuse_protected(t, protected, "preview")
    return targets


def run(args: argparse.Namespace) -> int:
    from examiner.commands._output import print_json
    from examiner.commands._settings import open_case, user_settings
    from examiner.core.output_paths import case_files, refuse_protected
    from examiner.core.tasks import StderrProgress, TaskContext
    from examiner.errors import ExaminerError
    from examiner.report.export import ReportOptions, export_report, render_preview_pages
    from examiner.report.model import CONCLUSION_PROPOSITION, CONCLUSION_SCALE, META_CONCLUSION

    if args.list_levels:
        print(f"Proposition: {CONCLUSION_PROPOSITION}.")
        for level, definition in CONCLUSION_SCALE:
            print(f"  {level}: {definition}")
        return 0
    if not args.out:
        raise ExaminerError("give the report's file name with --out REPORT.pdf")
    if args.conclusion_text and not args.conclusion:
        raise ExaminerError("--conclusion-text needs --conclusion LEVEL")
    level = _level(args.conclusion) if args.conclusion else None
    case_path = Path(args.case)
    progress = StderrProgress()
    ctx = TaskContext(on_progress=progress)
    settings = user_settings()
    with open_case(case_path, settings) as case:
        if level is not None:
            wanted = {"level": level, "text": args.conclusion_text or "", "by": case.actor}
            # Recording the same conclusion again would change the case state, and so the report.
            if case.get_meta(META_CONCLUSION, None) != wanted:
                case.set_meta(META_CONCLUSION, wanted)
        options = ReportOptions(
            reviewer=args.reviewer, report_id=args.report_id, amends=args.amends, issued=args.issued, pdfa=args.pdfa,
            sign_key=args.sign_key, settings=settings,
        )
        # Every path this command may write is checked before anything is written.
        protected = [*case_files(case), Path(args.out)]
        preview_targets = _preview_targets(args, protected)
        result = export_report(case, args.out, options, ctx)
    previews: list[str] = []
    if args.preview:
        Path(args.preview).mkdir(parents=True, exist_ok=True)
        pages = render_preview_pages(args.out, len(preview_targets))
        for target, png in zip(preview_targets, pages, strict=False):
            refuse_protected(target, protected, "preview")  # again: the folder may have changed meanwhile
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
