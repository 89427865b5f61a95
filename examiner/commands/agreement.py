"""``examiner agreement``: inter-rater agreement between several examiners' cases on one evidence."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from examiner.errors import ExaminerError


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

    p = subparsers.add_parser(
        "agreement",
        help="agreement between examiners' regions on the same evidence (kappa, alpha)",
        description="Match the regions that several examiners marked on the same evidence (one case "
        "file each) by intersection over union, and measure agreement on region presence, each "
        "category and the Symbol flag: Cohen's kappa (two raters) or Fleiss' kappa (more), and "
        "Krippendorff's alpha, with bootstrap 95% intervals where there are enough regions. The "
        "case files are opened read-only.",
    )
    p.add_argument("cases", nargs="+", metavar="CASE", help="two or more .mcase files")
    p.add_argument("--evidence", required=True, metavar="SHA256",
                   help="the evidence's SHA-256 (a unique prefix of at least 8 hex digits will do)")
    p.add_argument("--iou", type=float, default=None, help="IoU threshold for matching regions (default 0.5)")
    add_json_flag(p)
    p.set_defaults(func=run)


def _load(path: Path, sha: str) -> tuple[str, list]:
    from examiner.core.case import Case

    if not path.is_file():
        raise ExaminerError(f"{path}: no such case file")
    with Case.open(path, read_only=True) as case:
        items = [e for e in case.evidence() if e.sha256.lower().startswith(sha)]
        if not items:
            raise ExaminerError(f"{path}: no evidence with SHA-256 {sha} in this case")
        if len(items) > 1:
            raise ExaminerError(f"{path}: the prefix {sha} matches several evidence items; give more digits")
        name = case.details.examiner or path.stem
        return name, case.regions(items[0].id)


def run(args: argparse.Namespace) -> int:
    from examiner.commands._output import print_json
    from examiner.training.agreement import DEFAULT_IOU, agreement

    if len(args.cases) < 2:
        raise ExaminerError("agreement needs at least two case files")
    sha = args.evidence.strip().lower()
    if len(sha) < 8 or any(c not in "0123456789abcdef" for c in sha):
        raise ExaminerError("--evidence needs a SHA-256 in hex (at least 8 digits)")
    iou = DEFAULT_IOU if args.iou is None else float(args.iou)
    if not 0.0 < iou <= 1.0:
        raise ExaminerError("--iou must lie in (0, 1]")
    names, regions = [], []
    for c in args.cases:
        name, regs = _load(Path(c), sha)
        if name in names:
            name = f"{name} ({Path(c).name})"
        names.append(name)
        regions.append(regs)
    report = agreement(regions, names, iou)
    if args.json:
        print_json(report.to_dict())
        return 0
    out = sys.stdout
    out.write(f"raters: {', '.join(names)}; {len(report.units)} matched places (IoU >= {iou})\n")
    kname = report.questions[0].kappa_name if report.questions else "kappa"
    out.write(f"{'question':<20} {kname:>14} {'95% CI':>17} {'units':>5}   {'alpha':>7} {'95% CI':>17} {'units':>5}\n")

    def fmt(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    def ci(c: tuple[float, float] | None) -> str:
        return "-" if c is None else f"[{c[0]:.2f}, {c[1]:.2f}]"

    for q in report.questions:
        out.write(f"{q.question:<20} {fmt(q.kappa):>14} {ci(q.kappa_ci):>17} {q.kappa_units:>5}   "
                  f"{fmt(q.alpha):>7} {ci(q.alpha_ci):>17} {q.alpha_units:>5}\n")
    if report.disagreements:
        out.write("disagreements:\n")
        for d in report.disagreements:
            x, y, w, h = d["box"]
            says = "; ".join(f"{k}: {v}" for k, v in d["ratings"].items())
            out.write(f"  place {d['unit']} at {x},{y} {w}x{h}: {says}\n")
    else:
        out.write("no disagreements\n")
    return 0
