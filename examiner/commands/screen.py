"""``examiner screen``: screen a whole seizure on a Dask cluster, resumably, with a custody log.

    examiner screen SOURCE... --out RESULTS [--workers N | --scheduler tcp://HOST:PORT] ...
    examiner screen --resume RESULTS [--workers N | --scheduler ...]
    examiner screen --verify RESULTS [--rehash] [--expect-head N:HASH] [--public-key KEY]
    examiner screen --sign-head RESULTS --key PRIVATE_KEY
    examiner screen --open RESULTS ID [--case CASE.mcase]
    examiner screen --report RESULTS [--html REPORT.html] [--top N]

``--open`` and ``--report`` verify the results file first and refuse one that does not verify.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from examiner.commands._settings import acting_person, user_settings
from examiner.errors import ExaminerError, IntegrityError


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

    p = subparsers.add_parser(
        "screen",
        help="screen a whole seizure: hash, detect and rank every file (resumable, on Dask)",
        description="Walk the sources (recursively, never following links out of them), take every file in "
        "read-only with its SHA-256, run the trace detection on each distinct image, and rank them. Every file "
        "ends as one row of the results file: a result, a refusal or an error, with the reason. Runs on a "
        "local Dask cluster (--workers) or an existing one (--scheduler); a killed run continues with --resume.",
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="folders or files to screen (never modified)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--out", metavar="RESULTS", help="the new results file (must not exist)")
    mode.add_argument("--resume", metavar="RESULTS", help="continue a results file after a crash or kill")
    mode.add_argument("--verify", metavar="RESULTS", help="check the results file's log chain and its rows")
    mode.add_argument("--open", nargs=2, metavar=("RESULTS", "ID"), help="make a case (.mcase) of the image in row ID")
    mode.add_argument("--report", metavar="RESULTS", help="write the HTML report again")
    mode.add_argument("--sign-head", metavar="RESULTS",
                      help="sign the log's current head with an examiner key (after a clean verification)")  # fmt: skip
    eng = p.add_argument_group("engine")
    eng.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per CPU core)")
    eng.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                     help="use an existing Dask cluster instead (its address, or its scheduler file)")  # fmt: skip
    eng.add_argument("--memory-limit", default="auto", help="per local worker, e.g. 4GiB (default: Dask's auto)")
    an = p.add_argument_group("analysis")
    an.add_argument("--model", default=None, help="a detector model JSON (default: the shipped one)")
    an.add_argument("--max-pixels", type=int, default=None, help="intake pixel limit (default: the settings)")
    an.add_argument("--top", type=int, default=50, help="images in the HTML report (default 50)")
    an.add_argument("--identify-top", type=int, default=0, metavar="N",
                    help="run codec identification on the N top-ranked images")  # fmt: skip
    an.add_argument("--codecs", default="auto", help="for --identify-top: auto or a comma-separated list of codec ids")
    an.add_argument("--variability-top", type=int, default=0, metavar="N",
                    help="seed-variability map of the N top-ranked images (needs --variability-codec)")  # fmt: skip
    an.add_argument("--variability-codec", metavar="ID", help="a stochastic codec, e.g. cdc-x")
    an.add_argument("--seeds", type=int, default=8, metavar="N", help="with --variability-top: seeds per image (default 8)")
    out = p.add_argument_group("output")
    out.add_argument("--html", metavar="REPORT.html", help="report file (default: beside the results file)")
    out.add_argument("--rehash", action="store_true", help="with --verify: read every input again and compare hashes")
    out.add_argument("--expect-head", default=None, metavar="N:HASH",
                     help="with --verify, --open or --report: a log head from an earlier summary, report or receipt; "
                     "entry N must still have this hash")  # fmt: skip
    out.add_argument("--public-key", action="append", default=[], metavar="KEY",
                     help="with --verify, --open or --report: a trusted examiner public key (64 hex digits or a .pub "
                     "file); repeatable")  # fmt: skip
    out.add_argument("--key", metavar="PRIVATE_KEY", help="with --sign-head: key file made by 'examiner case key-generate'")
    out.add_argument("--case", metavar="CASE.mcase", help="with --open: the case file to create")
    out.add_argument("--case-id", default=None, help="with --open: the case id")
    out.add_argument("--examiner", default=None, help="with --open: the examiner's name")
    out.add_argument("--actor", default=None, help="who is acting (default: examiner name from the settings, else login)")
    out.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    add_json_flag(p)
    p.set_defaults(func=run)


def _emit_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def report_path(results: Path, html: str | None) -> Path:
    if html:
        return Path(html)
    return results.with_suffix(".html") if results.suffix else results.with_name(results.name + ".html")


def run(args: argparse.Namespace) -> int:
    if args.verify:
        return _verify(args)
    if args.open:
        return _open(args)
    if args.report:
        return _report(args)
    if args.sign_head:
        return _sign_head(args)
    if args.resume:
        if args.sources:
            raise ExaminerError("--resume takes the sources from the results file; do not name them again")
        return _screen(args, Path(args.resume), resume=True)
    if not args.out:
        raise ExaminerError("name the results file with --out RESULTS (or use --resume, --verify, --open or --report)")
    return _screen(args, Path(args.out), resume=False)


def _options(args: argparse.Namespace) -> Any:
    from examiner.screening.engine import ScreenOptions

    if args.variability_top and not args.variability_codec:
        raise ExaminerError("--variability-top needs --variability-codec ID (a stochastic codec)")
    codecs: Any = args.codecs.strip()
    if codecs != "auto":
        codecs = [c.strip() for c in codecs.split(",") if c.strip()]
    for name in ("top", "identify_top", "variability_top"):
        if getattr(args, name) < 0:
            raise ExaminerError(f"--{name.replace('_', '-')} cannot be negative")
    settings = user_settings()
    limit = args.max_pixels if args.max_pixels is not None else settings.max_pixels
    return ScreenOptions(model_path=args.model, max_pixels=limit, top=args.top, identify_top=args.identify_top,
                         codecs=codecs, variability_top=args.variability_top,
                         variability_codec=args.variability_codec, seeds=args.seeds,
                         extra_codec_dirs=list(settings.extra_codec_dirs))  # fmt: skip


def _screen(args: argparse.Namespace, results: Path, resume: bool) -> int:
    from examiner.core.actors import default_actor
    from examiner.screening import html_report
    from examiner.screening import run as screening
    from examiner.screening.cluster import dask_client
    from examiner.screening.progress import ScreenProgress
    from examiner.screening.store import ResultsFile

    if args.scheduler and args.workers:
        raise ExaminerError("--workers sets up local workers; with --scheduler the cluster has its own")
    actor = acting_person(args.actor) or default_actor()
    if resume:
        rf = ResultsFile.open(results, actor=actor)
        screening.check_resumable(rf)
    else:
        rf = screening.create(results, list(args.sources), _options(args), actor)
    html = report_path(results, args.html)
    bar = ScreenProgress(enabled=not args.no_progress)

    def on_event(event: dict[str, Any]) -> None:
        bar(event)
        if event["event"] == "warning":
            print(f"examiner screen: warning: {event['message']}", file=sys.stderr)
        if args.json and event["event"] in ("file", "warning"):
            _emit_json(event)

    try:
        screening.check_outputs_outside(rf.meta()["sources"], [html])
        with dask_client(args.workers, args.scheduler, args.memory_limit) as (client, engine):
            try:
                summary = screening.screen(rf, client, on_event, engine, rows_wanted=args.json)
            except KeyboardInterrupt:
                bar.close()
                print(f"examiner screen: interrupted; continue with: examiner screen --resume {results}", file=sys.stderr)
                raise
            finally:
                bar.close()  # the error message, if any, starts on a line of its own
        report = html_report.write(rf, html, screening.options_of(rf).top)
        head = rf.head()
    finally:
        rf.close()
    summary["log_head"] = head
    summary["results"] = str(results.resolve())
    summary["report"] = report
    if args.json:
        _emit_json({"event": "summary", **summary})
    else:
        print(summary_text(summary))
    return 0


def summary_text(s: dict[str, Any]) -> str:
    o = s["outcomes"]
    lines = [
        f"screened {s['files']} files in {s['seconds']:.1f} s: {s['distinct_images_analysed']} distinct images analysed, "
        f"{s['duplicates']} duplicates by SHA-256",
        "verdicts: " + (", ".join(f"{k} {n}" for k, n in sorted(s["verdicts"].items())) or "none"),
        f"refused: {o.get('refused', 0)}, errors: {o.get('error', 0)}, pending: {o.get('pending', 0)}",
        f"results: {s['results']}",
        f"report:  {s['report']['path']} (SHA-256 {s['report']['sha256']})",
        f"log head: {s.get('log_head')} (keep it; check later with: examiner screen --verify RESULTS --expect-head N:HASH)",
    ]
    return "\n".join(lines)


def _public_keys(args: argparse.Namespace) -> list[bytes]:
    from examiner.core.signing import load_public_key

    return [load_public_key(k) for k in args.public_key]


def _verify(args: argparse.Namespace) -> int:
    from examiner.screening.custody import verify
    from examiner.screening.store import ResultsFile

    keys = _public_keys(args)
    with ResultsFile.open(args.verify, read_only=True) as rf:
        report = verify(rf, rehash=args.rehash, expect_head=args.expect_head, public_keys=keys)
    if args.json:
        _emit_json(report.to_dict())
    else:
        print(f"{args.verify}: {'OK' if report.ok else 'PROBLEM'}: {report.summary()}")
        for note in report.anchor.notes:
            print(f"note: {note}")
        if report.head:
            print(f"log head: {report.head} (keep it; check later with --expect-head)")
    if not report.ok:
        raise IntegrityError(f"{args.verify}: the results file failed verification")
    return 0


def _sign_head(args: argparse.Namespace) -> int:
    from examiner.core.actors import default_actor
    from examiner.core.anchor import head_of
    from examiner.core.signing import SIGN_ACTION, SIGNATURE_PARAM, load_private_key, sign_head
    from examiner.screening.custody import require_verified
    from examiner.screening.store import ResultsFile

    if not args.key:
        raise ExaminerError("--sign-head needs --key PRIVATE_KEY (made by 'examiner case key-generate')")
    key = load_private_key(args.key)
    with ResultsFile.open(args.sign_head, actor=acting_person(args.actor) or default_actor()) as rf:
        require_verified(rf, "signature")
        head = head_of(rf.log.entries())
        assert head is not None  # the creation entry
        record = sign_head(key, head)
        rf.log_action(SIGN_ACTION, {SIGNATURE_PARAM: record})
    if args.json:
        _emit_json(record)
    else:
        print(f"signed head {head.text()} with key {record['fingerprint']}\nsignature {record['signature']}")
    return 0


def _open(args: argparse.Namespace) -> int:
    from examiner.screening.open_case import make_case

    results, ident = args.open
    try:
        file_id = int(ident)
    except ValueError:
        raise ExaminerError(f"row id must be a number, not {ident!r}") from None
    info = make_case(results, file_id, args.case, args.case_id, args.examiner, acting_person(args.actor),
                     user_settings().max_pixels, expect_head=args.expect_head, public_keys=_public_keys(args))  # fmt: skip
    if args.json:
        _emit_json(info)
    else:
        print(f"created {info['case']} (case {info['case_id']}) with {info['path']} (SHA-256 {info['sha256']})")
    return 0


def _report(args: argparse.Namespace) -> int:
    from examiner.core.actors import default_actor
    from examiner.screening import html_report
    from examiner.screening.custody import require_verified
    from examiner.screening.run import check_outputs_outside
    from examiner.screening.store import ResultsFile

    results = Path(args.report)
    html = report_path(results, args.html)
    keys = _public_keys(args)
    with ResultsFile.open(results, actor=acting_person(args.actor) or default_actor()) as rf:
        checked = require_verified(rf, "report", args.expect_head, keys)
        check_outputs_outside(rf.meta()["sources"], [html])
        info = html_report.write(rf, html, args.top, checked)
    if args.json:
        _emit_json(info)
    else:
        print(f"wrote {info['path']} (SHA-256 {info['sha256']})")
    return 0
