"""``examiner suggest``: OCR and object-detection differences between the evidence and a
comparison image, printed as proposals (and optionally stored in a case)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from examiner.errors import ExaminerError

if TYPE_CHECKING:
    from examiner.core.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

    p = subparsers.add_parser(
        "suggest",
        help="propose regions where text or detected objects differ from a comparison image",
        description="Read text (Tesseract OCR) and detect faces, people and licence plates (OpenCV) in "
        "the evidence and in a comparison image of the same size (a reference original or a "
        "re-compression), and propose regions where they differ. Proposals are suggestions for the "
        "examiner, not findings. Without Tesseract the OCR check reports itself unavailable and the "
        "other checks still run.",
    )
    p.add_argument("evidence", help="the evidence image (opened read-only)")
    p.add_argument("--compare", required=True, metavar="OTHER", help="the comparison image")
    p.add_argument("--checks", default="ocr,objects", help="comma-separated: ocr, objects (default: both)")
    p.add_argument("--case", metavar="CASE", help="also store the proposals as a finding in this case "
                   "(the evidence must already be in it)")
    from examiner.commands._settings import add_actor_flag

    add_actor_flag(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from examiner.analysis.symbols import parse_checks, run_checks
    from examiner.commands._output import print_json
    from examiner.commands._settings import user_settings
    from examiner.core.evidence import load_comparison_image, open_evidence
    from examiner.core.tasks import StderrProgress, TaskContext

    settings = user_settings()
    checks = parse_checks(args.checks)
    evidence = open_evidence(args.evidence, settings.max_pixels)
    comparison = load_comparison_image(args.compare, settings.max_pixels)
    progress = StderrProgress()
    results = run_checks(evidence.pixels, comparison, checks, TaskContext(on_progress=progress))
    stored = None
    if args.case:
        stored = _store(Path(args.case), evidence.sha256, results, str(Path(args.compare).resolve()), settings, args.actor)
    proposals = [p for r in results for p in r.proposals]
    if args.json:
        print_json(
            {
                "evidence": evidence.path,
                "evidence_sha256": evidence.sha256,
                "comparison": str(Path(args.compare).resolve()),
                "checks": [
                    {"check": r.check, "available": r.available, "message": r.message, "seconds": round(r.seconds, 3)}
                    for r in results
                ],
                "proposals": [p.to_dict() for p in proposals],
                "finding_ids": stored,
            }
        )
        return 0
    out = sys.stdout
    for r in results:
        state = "ran" if r.available else "UNAVAILABLE"
        out.write(f"{r.check}: {state}: {r.message} ({len(r.proposals)} proposals, {r.seconds:.1f} s)\n")
    if not proposals:
        out.write("no proposals\n")
    for i, p in enumerate(proposals, 1):
        x, y, w, h = p.box
        flag = " Symbol" if p.symbol else ""
        out.write(
            f"{i:3d}. {p.check:7s} box {x},{y} {w}x{h}  {p.category.value}{flag}  confidence {p.confidence:.2f}  "
            f"evidence {p.evidence_reading!r}  comparison {p.comparison_reading!r}  "
            f"({p.details.get('difference', '')})\n"
        )
    if stored is not None:
        out.write(f"stored as finding{'s' if len(stored) > 1 else ''} {', '.join(map(str, stored))} in {args.case}\n")
    return 0


def _store(case_path: Path, sha256: str, results: list, comparison: str, settings: Settings, actor: str | None = None) -> list[int]:
    from examiner.analysis.symbols.workflow import store_proposals
    from examiner.commands._settings import open_case

    with open_case(case_path, settings, actor=actor) as case:
        items = [e for e in case.evidence() if e.sha256 == sha256]
        if not items:
            raise ExaminerError(f"{case_path}: the evidence (SHA-256 {sha256[:16]}...) is not in this case")
        return [f.id for f in store_proposals(case, items[0].id, results, comparison)]
