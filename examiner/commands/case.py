"""``examiner case ...``: create and inspect case files, add evidence and regions, verify."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

from examiner.commands._settings import ACTOR_HELP, case_options, lock_wait, user_settings

COMPARISON_HELP = (
    "what the region was compared against: 'reference' (the item's reference original) or "
    "'finding:ID' (the output image of re-compression or seed-variability finding ID on the same item; "
    "'examiner case show' lists them); default: none. Anything else is refused"
)

CATEGORY_CHOICES = ("amplitude", "geometry", "shape", "texture")
CASE_HELP = "the case file (.mcase)"


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

    case = subparsers.add_parser(
        "case",
        help="create, show and verify case files (.mcase)",
        description="Case files hold evidence references, findings, regions and a hash-chained audit log.",
    )
    sub = case.add_subparsers(dest="case_command", metavar="ACTION")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--actor", metavar="NAME", default=None, help=ACTOR_HELP)
        add_json_flag(p)

    p = sub.add_parser("create", help="create a new case file")
    p.add_argument("case", help="the new .mcase file (must not exist)")
    p.add_argument("--case-id", required=True, metavar="ID", help="the case's reference, printed on every report page")
    p.add_argument("--examiner", required=True, metavar="NAME",
                   help="the examiner responsible for the case; all work in it is credited to them unless --actor names someone else")  # fmt: skip
    p.add_argument("--requester", default="", metavar="NAME", help="who requested the examination (court, agency, client)")
    p.add_argument("--lab", default="", metavar="NAME", help="the laboratory, for the report's title page")
    p.add_argument("--received-date", default="", metavar="DATE", help="when the evidence was received (as you want it printed)")
    p.add_argument("--title", default="", metavar="TEXT", help="a short title for the case")
    p.add_argument("--notes", default="", metavar="TEXT", help="free notes kept with the case details")
    p.add_argument("--evidence", action="append", default=[], metavar="IMAGE", help="evidence image (repeatable)")
    p.add_argument("--reference", action="append", default=[], metavar="ORIGINAL",
                   help="reference original for the evidence given at the same position (repeatable)")  # fmt: skip
    common(p)
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("add-evidence", help="take an evidence image into a case")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("image", help="the evidence image (hashed and referenced, never copied or changed)")
    p.add_argument("--reference", default=None, metavar="ORIGINAL", help="a reference original to compare the evidence with")
    common(p)
    p.set_defaults(func=cmd_add_evidence)

    p = sub.add_parser("set-reference", help="attach (or clear) the reference original of an evidence item")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("evidence_id", type=int, help="the evidence item's number (see 'examiner case show')")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("original", nargs="?", default=None, help="the reference original's file")
    group.add_argument("--clear", action="store_true", help="remove the reference original instead")
    common(p)
    p.set_defaults(func=cmd_set_reference)

    p = sub.add_parser("show", help="case details, evidence, regions, findings and integrity")
    p.add_argument("case", help=CASE_HELP)
    common(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("verify", help="verify the audit chain and every table row, re-hash all evidence; non-zero exit on any problem")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("--expect-head", default=None, metavar="N:HASH",
                   help="a chain head from an earlier report or receipt: entry N must still have this hash")  # fmt: skip
    p.add_argument("--public-key", action="append", default=[], metavar="KEY",
                   help="a trusted examiner public key (64 hex digits or a .pub file); repeatable")  # fmt: skip
    common(p)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("sign-head", help="sign the audit chain's current head with an examiner key")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("--key", required=True, metavar="PRIVATE_KEY", help="key file made by 'examiner case key-generate'")
    common(p)
    p.set_defaults(func=cmd_sign_head)

    p = sub.add_parser("key-generate", help="make an Ed25519 examiner key pair for signing chain heads")
    p.add_argument("--out", required=True, metavar="PRIVATE_KEY", help="private key file (the public key goes to FILE.pub)")
    add_json_flag(p)
    p.set_defaults(func=cmd_key_generate)

    p = sub.add_parser("log", help="print the audit log")
    p.add_argument("case", help=CASE_HELP)
    common(p)
    p.set_defaults(func=cmd_log)

    p = sub.add_parser("add-region", help="mark a region on an evidence item")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("--evidence", type=int, required=True, metavar="ID", help="the evidence item the region is on")
    shape = p.add_mutually_exclusive_group(required=True)
    shape.add_argument("--rect", metavar="X,Y,W,H", help="a rectangle: left, top, width, height in evidence pixels")
    shape.add_argument("--ellipse", metavar="X,Y,W,H", help="bounding box of the ellipse")
    shape.add_argument("--polygon", metavar="X1,Y1,X2,Y2,...", help="a polygon: at least three corner points in evidence pixels")
    p.add_argument("--category", action="append", required=True, choices=CATEGORY_CHOICES,
                   help="the kind of change, from the miscompression taxonomy (repeatable)")  # fmt: skip
    p.add_argument("--symbol", action="store_true", help="the object is a symbol (high impact)")
    p.add_argument("--evidence-says", required=True, metavar="TEXT", help="what the evidence shows in the region")
    p.add_argument("--comparison-says", required=True, metavar="TEXT", help="what the comparison image shows there")
    p.add_argument("--comparison", default="", metavar="reference|finding:ID", help=COMPARISON_HELP)
    p.add_argument("--confidence", default="medium", choices=("low", "medium", "high"),
                   help="how sure the examiner is of the difference (default medium)")  # fmt: skip
    p.add_argument("--notes", default="", metavar="TEXT", help="the examiner's notes on the region")
    p.add_argument("--lock", action="store_true", help="lock the region after adding it")
    common(p)
    p.set_defaults(func=cmd_add_region)

    from examiner.commands.report import add_text_options

    p = sub.add_parser(
        "set",
        help="record the report's summary, conclusion and extra limitations",
        description="The examiner's own words for the report, recorded in the case's audit log "
                    "(the same as 'examiner report CASE --summary ...' without --out).",
    )
    p.add_argument("case", help=CASE_HELP)
    add_text_options(p)
    common(p)
    p.set_defaults(func=cmd_set)

    def no_action(args: argparse.Namespace) -> int:
        case.print_help()
        return 2

    case.set_defaults(func=no_action)


# --------------------------------------------------------------------------------------------


def cmd_create(args: argparse.Namespace) -> int:
    from examiner.core.case import Case
    from examiner.errors import ExaminerError

    if len(args.reference) > len(args.evidence):
        raise ExaminerError("more --reference than --evidence options")
    path = Path(args.case)
    case = Case.create(
        path, args.case_id, args.examiner, requester=args.requester, lab=args.lab, actor=args.actor,
        max_pixels=user_settings().max_pixels,
        received_date=args.received_date, title=args.title, notes=args.notes,
    )  # fmt: skip
    try:
        for i, ev in enumerate(args.evidence):
            ref = args.reference[i] if i < len(args.reference) else None
            case.add_evidence(ev, reference=ref)
        summary = case_summary(case)
    except BaseException:
        # The case was created by this command a moment ago; do not leave half of it behind.
        case.close()
        path.unlink(missing_ok=True)
        raise
    case.close()
    _emit(args, summary, lambda: f"created {path} (case {args.case_id}, {len(summary['evidence'])} evidence item(s))")
    return 0


def cmd_add_evidence(args: argparse.Namespace) -> int:
    from examiner.core.case import Case

    with Case.open(args.case, **case_options(args.actor)) as case:
        _refuse_untrusted(case)
        _warn_integrity(case)
        item = case.add_evidence(args.image, reference=args.reference)
        d = _evidence_json(item, case)
    _emit(args, d, lambda: f"added evidence {item.id}: {item.path} (SHA-256 {item.sha256})")
    return 0


def cmd_set_reference(args: argparse.Namespace) -> int:
    from examiner.core.case import Case
    from examiner.errors import ExaminerError

    if not args.clear and not args.original:
        raise ExaminerError("give the reference original's path, or --clear")
    with Case.open(args.case, **case_options(args.actor)) as case:
        _refuse_untrusted(case)
        _warn_integrity(case)
        item = case.set_reference(args.evidence_id, None if args.clear else args.original)
        d = _evidence_json(item, case)
    _emit(args, d, lambda: f"evidence {item.id}: reference {'cleared' if item.reference_path is None else item.reference_path}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from examiner.core.case import Case

    with Case.open(args.case, actor=args.actor, record=False) as case, case.snapshot():
        _warn_integrity(case)
        summary = case_summary(case)
    _emit(args, summary, lambda: format_summary(summary))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from examiner.commands._output import print_json
    from examiner.commands.case_anchor import anchor_report
    from examiner.core.anchor import head_of
    from examiner.core.case import Case
    from examiner.errors import IntegrityError

    with Case.open(args.case, actor=args.actor, lock_wait=lock_wait()) as case:
        report = case.integrity
        n_files = len(report.files)
        with case.snapshot():
            entries = case.audit.entries()
        anchor = anchor_report(entries, report.chain.ok, args.expect_head, args.public_key)
    head = head_of(entries)
    problems = report.problems() + anchor.problems
    if args.json:
        print_json({**report.to_dict(), "ok": not problems, "problems": problems, "anchor": anchor.to_dict(),
                    "head": head.text() if head else None})  # fmt: skip
        return 0 if not problems else IntegrityError.exit_code
    print(report.chain.summary())
    print(report.rows.summary())
    for note in report.rows.notes + anchor.notes:
        print(f"note: {note}")
    for f in report.files:
        print(f"{f.role} {f.evidence_id}: {f.status.upper():<10} {f.path}")
    if head is not None:
        print(f"chain head: {head.text()} (keep it; check later with --expect-head)")
    if not problems:
        print(f"case verified: audit chain intact, every table row matches the log, {n_files} file(s) match their intake hashes")
        return 0
    for line in problems:
        print(f"PROBLEM: {line}")
    raise IntegrityError(f"{args.case}: verification FAILED ({len(problems)} problem(s)): {problems[0]}")


def cmd_sign_head(args: argparse.Namespace) -> int:
    from examiner.core.anchor import head_of
    from examiner.core.case import Case
    from examiner.core.signing import SIGN_ACTION, SIGNATURE_PARAM, load_private_key, sign_head
    from examiner.errors import IntegrityError

    key = load_private_key(args.key)
    with Case.open(args.case, actor=args.actor) as case:
        _refuse_untrusted(case)
        if not case.integrity.ok:
            raise IntegrityError(f"{case.path}: the case does not verify; a head is signed only after a clean check")
        with case.snapshot():
            head = head_of(case.audit.entries())
        assert head is not None  # the open itself was recorded
        record = sign_head(key, head)
        case.log_action(SIGN_ACTION, {SIGNATURE_PARAM: record})
    _emit(args, record, lambda: f"signed head {head.text()} with key {record['fingerprint']}\nsignature {record['signature']}")
    return 0


def cmd_key_generate(args: argparse.Namespace) -> int:
    from examiner.core.signing import generate_key

    priv, pub, fp = generate_key(args.out)
    data = {"private_key": str(priv), "public_key_file": str(pub), "public_key": pub.read_text().strip(), "fingerprint": fp}
    _emit(args, data, lambda: (
        f"private key: {priv} (keep it secret; whoever holds it can sign)\n"
        f"public key:  {pub} ({data['public_key']}, fingerprint {fp}); give it to whoever checks your cases"
    ))  # fmt: skip
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    from examiner.commands._output import print_json
    from examiner.core.audit import canonical_json
    from examiner.core.case import Case
    from examiner.core.row_records import ROWS_PARAM
    from examiner.core.text_safety import name_text

    with Case.open(args.case, actor=args.actor, record=False) as case, case.snapshot():
        _warn_integrity(case)
        entries = case.audit.entries()
        chain = case.integrity.chain
    if args.json:
        print_json({"chain": chain.to_dict(), "entries": [e.to_dict() for e in entries]})
        return 0
    for e in entries:
        mark = "  <-- FIRST BAD ENTRY" if chain.first_bad == e.seq else ""
        shown = dict(e.params)
        rows = shown.pop(ROWS_PARAM, None)  # 64 hex digits per row would hide the details
        params = canonical_json(shown)
        if len(params) > 200:
            params = params[:200] + "..."
        if isinstance(rows, dict) and rows:
            params += f" [+{len(rows)} row hash(es)]"
        print(f"{e.seq:>5}  {e.time_utc}  {name_text(e.actor)}  {name_text(e.action)}  {params}{mark}")
    print(chain.summary())
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    from examiner.commands.report import gives_text, print_text_result, record_text
    from examiner.core.case import Case
    from examiner.errors import ExaminerError

    if not gives_text(args):
        raise ExaminerError("give at least one of --summary, --conclusion, --conclusion-text, --limitations")
    with Case.open(args.case, **case_options(args.actor)) as case:
        _refuse_untrusted(case)
        changed = record_text(case, args)
        print_text_result(case, changed, args.json, "")
    return 0


def cmd_add_region(args: argparse.Namespace) -> int:
    from examiner.core.case import Case
    from examiner.core.regions import Category, Region, ShapeKind
    from examiner.errors import ExaminerError
    from examiner.workflows.comparisons import check_comparison

    if "texture" in args.category and not user_settings().texture_category_enabled:
        raise ExaminerError("the provisional 'texture' category is disabled in the settings")
    if args.polygon:
        nums = _numbers(args.polygon, "--polygon")
        if len(nums) % 2 or len(nums) < 6:
            raise ExaminerError("--polygon needs at least three X,Y pairs")
        kind, points = ShapeKind.POLYGON, [(nums[i], nums[i + 1]) for i in range(0, len(nums), 2)]
    else:
        spec, kind = (args.rect, ShapeKind.RECT) if args.rect else (args.ellipse, ShapeKind.ELLIPSE)
        x, y, w, h = _box(spec, "--rect" if args.rect else "--ellipse")
        points = [(x, y), (x + w, y + h)]
    with Case.open(args.case, actor=args.actor) as case:
        _refuse_untrusted(case)
        _warn_integrity(case)
        region = Region(
            evidence_id=args.evidence,
            kind=kind,
            points=points,
            categories=[Category(c) for c in dict.fromkeys(args.category)],
            symbol=args.symbol,
            evidence_says=args.evidence_says,
            comparison_says=args.comparison_says,
            confidence=args.confidence,
            notes=args.notes,
            comparison=check_comparison(case, args.evidence, args.comparison),
        )
        stored = case.add_region(region)
        if args.lock:
            stored = case.set_region_locked(stored.id or 0, True, "locked when added")
    _emit(args, stored.to_dict(), lambda: f"added region {stored.id} on evidence {stored.evidence_id}")
    return 0


# --------------------------------------------------------------------------------------------


def _warn_integrity(case: Any) -> None:
    """Integrity problems found on opening are shown loudly on stderr by every command."""
    import sys

    for problem in case.integrity.problems():
        print(f"examiner: WARNING: {case.path}: {problem}", file=sys.stderr)


def _refuse_untrusted(case: Any) -> None:
    """Adding to a case whose log is broken would bury the problem under new entries."""
    from examiner.errors import IntegrityError

    integ = case.integrity
    if not integ.chain.ok or not integ.rows.ok:
        why = integ.chain.summary() if not integ.chain.ok else integ.rows.summary()
        raise IntegrityError(f"{case.path}: {why}; no changes made (run 'examiner case verify')")


def _numbers(text: str, option: str) -> list[float]:
    from examiner.errors import ExaminerError

    try:
        values = [float(v) for v in text.replace(" ", "").split(",") if v != ""]
    except ValueError:
        raise ExaminerError(f"{option}: expected comma-separated numbers, got {text!r}") from None
    if not all(abs(v) < 1e9 for v in values):
        raise ExaminerError(f"{option}: numbers out of range")
    return values


def _box(text: str, option: str) -> tuple[float, float, float, float]:
    from examiner.errors import ExaminerError

    nums = _numbers(text, option)
    if len(nums) != 4:
        raise ExaminerError(f"{option}: expected X,Y,W,H")
    x, y, w, h = nums
    if w <= 0 or h <= 0:
        raise ExaminerError(f"{option}: width and height must be positive")
    return x, y, w, h


def _emit(args: argparse.Namespace, data: Any, text: Any) -> None:
    from examiner.commands._output import print_json

    if args.json:
        print_json(data)
    else:
        print(text())


def _evidence_json(item: Any, case: Any) -> dict[str, Any]:
    f = item.facts
    return {
        "id": item.id,
        "path": item.path,
        "name": item.name,
        "sha256": item.sha256,
        "md5": item.md5,
        "size": item.size,
        "format": f.get("format"),
        "width": f.get("width"),
        "height": f.get("height"),
        "mode": f.get("mode"),
        "bit_depth": f.get("bit_depth"),
        "reference": item.reference_path,
        "reference_sha256": item.reference_sha256,
        "added_utc": item.added_utc,
        "integrity": case.integrity.evidence_status(item.id),
    }


def case_summary(case: Any) -> dict[str, Any]:
    """What ``case show --json`` prints."""
    d = case.details
    findings = case.findings()
    entries = case.audit.entries()
    return {
        "path": str(Path(case.path).resolve()),
        "case_id": d.case_id,
        "examiner": d.examiner,
        "requester": d.requester,
        "lab": d.lab,
        "details": d.to_dict(),
        "evidence": [_evidence_json(item, case) for item in case.evidence()],
        "regions": [r.to_dict() for r in case.regions()],
        "findings": {
            "count": len(findings),
            "by_kind": dict(Counter(f.kind for f in findings)),
            "items": [
                {"id": f.id, "evidence_id": f.evidence_id, "kind": f.kind, "created_utc": f.created_utc, "artefacts": f.artefacts}
                for f in findings
            ],
        },
        "audit_entries": len(entries),
        "integrity": case.integrity.to_dict(),
    }


def format_summary(s: dict[str, Any]) -> str:
    d = s["details"]
    from examiner.core.text_safety import name_text

    lines = [f"Case {s['case_id']}  ({s['path']})", f"  Examiner:  {name_text(s['examiner'])}"]
    for key in ("requester", "lab", "received_date", "title", "agency_reference"):
        if d.get(key):
            lines.append(f"  {key.replace('_', ' ').capitalize() + ':':<11}{d[key]}")
    lines.append(f"  Created:   {d['created_utc']}")
    lines.append(f"Evidence ({len(s['evidence'])}):")
    for e in s["evidence"]:
        flag = "" if e["integrity"] == "ok" else f"  ** {e['integrity'].upper()} **"
        lines.append(f"  [{e['id']}] {e['path']}  {e['format']} {e['width']}x{e['height']}{flag}")
        lines.append(f"       SHA-256 {e['sha256']}")
        if e["reference"]:
            lines.append(f"       reference {e['reference']} (SHA-256 {e['reference_sha256']})")
    lines.append(f"Regions ({len(s['regions'])}):")
    for r in s["regions"]:
        cats = ", ".join(r["categories"]) + (" + SYMBOL" if r["symbol"] else "")
        lock = " [locked]" if r["locked"] else ""
        lines.append(
            f"  [{r['id']}] evidence {r['evidence_id']} {r['kind']} {cats}{lock}: "
            f"evidence says {r['evidence_says']!r}, comparison says {r['comparison_says']!r}"
        )
    f = s["findings"]
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(f["by_kind"].items())) or "none"
    lines.append(f"Findings: {f['count']} ({kinds})")
    lines.append(f"Audit log: {s['audit_entries']} entries")
    integ = s["integrity"]
    if integ["ok"]:
        lines.append("Integrity: OK (audit chain intact, all files match their intake hashes)")
    else:
        lines.append("Integrity: PROBLEMS")
        for p in integ["problems"]:
            lines.append(f"  !! {p}")
    return "\n".join(lines)
