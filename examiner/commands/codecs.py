"""``examiner codecs [list|import|fetch|urls]``: the available codecs, and getting their weight
files: imported offline, or fetched from their published addresses on an explicit command."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

    p = subparsers.add_parser(
        "codecs",
        help="list codecs and import model weights",
        description="List the codecs of all packs, or import official weight files into the user codec store.",
    )
    sub = p.add_subparsers(dest="codecs_command", metavar="ACTION")
    lp = sub.add_parser("list", help="list codecs: id, family, qualities, weights installed")
    add_json_flag(lp)
    lp.set_defaults(func=run_list)
    ip = sub.add_parser(
        "import",
        help="check and copy weight files into the user codec store",
        description=(
            "Each file must be named <model>-<quality>-<8 hex>.pth.tar (as CompressAI names its "
            "official files) with a SHA-256 that starts with those 8 hex digits, and must load "
            "with torch.load(weights_only=True). Anything else is refused; nothing is copied "
            "unless every file passes."
        ),
    )
    ip.add_argument("files", nargs="+", metavar="FILE", help="weight files to check and copy into the store")
    add_json_flag(ip)
    ip.set_defaults(func=run_import)
    fp = sub.add_parser(
        "fetch",
        help="download the official CompressAI weight files and import them",
        description=(
            "Download the weight files of the named codecs from the addresses CompressAI publishes "
            "(or the mirror in $EXAMINER_WEIGHTS_BASE_URL), check each exactly as 'codecs import' does "
            "and add it to the user codec store. Nothing is downloaded without this command; a failed "
            "or cut-short download leaves nothing behind."
        ),
    )
    _source_args(fp, "codec ids to fetch (see 'examiner codecs list'); none: every CompressAI codec")
    fp.add_argument("--proxy", metavar="URL", help="HTTP(S) proxy to use, e.g. http://proxy.lab:3128 (default: $https_proxy)")
    fp.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                    help="give up when no data arrives for this long (default 30)")  # fmt: skip
    add_json_flag(fp)
    fp.set_defaults(func=run_fetch)
    up = sub.add_parser(
        "urls",
        help="print the weight files' names, addresses and hash prefixes (for fetching on another machine)",
        description=(
            "For air-gapped labs: the file names, download addresses and SHA-256 prefixes of the published "
            "weight files. Fetch them on a connected machine, check the hashes, carry them over and run "
            "'examiner codecs import FILE...'."
        ),
    )
    _source_args(up, "codec ids (none: every CompressAI codec)")
    add_json_flag(up)
    up.set_defaults(func=run_urls)
    # Without an action: the list, the thing a user typing 'examiner codecs' wants to see.
    p.set_defaults(func=run_list, json=False)


def _source_args(p: argparse.ArgumentParser, models_help: str) -> None:
    p.add_argument("models", nargs="*", metavar="MODEL", help=models_help)
    p.add_argument("--quality", type=int, action="append", metavar="Q",
                   help="only this quality (repeatable; default: every quality the codec has)")  # fmt: skip


def _sources(args: argparse.Namespace) -> tuple[list[Any], list[Any]]:
    from examiner.codecs.fetch import FETCH_RUNNER, weight_sources
    from examiner.codecs.registry import catalogue_with_packs
    from examiner.commands._settings import user_settings

    # Demonstration codecs ship their weights; only the published models are fetched.
    infos = [info for info, pack in catalogue_with_packs(user_settings()) if pack.runner == FETCH_RUNNER and not info.demonstration]
    return weight_sources(infos, args.models, args.quality), infos


def run_urls(args: argparse.Namespace) -> int:
    from examiner.commands._output import print_json

    sources, _ = _sources(args)
    if args.json:
        print_json({"files": [{"codec": s.codec_id, "quality": s.quality, "file": s.file, "url": s.url,
                               "sha256_prefix": s.sha256_prefix, "sha256": s.sha256 or None} for s in sources]})  # fmt: skip
        return 0
    for s in sources:
        print(f"{s.codec_id}  q{s.quality}  {s.file}  {s.url}  sha256 starts with {s.sha256_prefix}")
    print(f"{len(sources)} file(s). Check each with 'sha256sum FILE' (the hash must start with the 8 hex digits "
          "in the file name), then: examiner codecs import FILE...")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from examiner.codecs.fetch import fetch
    from examiner.codecs.weights import store_dir
    from examiner.commands._output import print_json
    from examiner.core.tasks import Progress, StderrProgress

    sources, infos = _sources(args)
    bar = StderrProgress()

    def progress(done: int, expected: int | None, name: str) -> None:
        total = float(expected) if expected else float(max(done, 1)) * 2
        bar(Progress(float(done), total, f"{name} {done / 1e6:.1f} MB"))

    results = fetch(sources, infos, proxy=args.proxy, timeout=args.timeout, progress=progress)
    if args.json:
        print_json({"store": str(store_dir()), "fetched": [
            {"url": r.source, "name": r.name, "sha256": r.sha256, "size": r.size, "already_present": r.already_present,
             "used_by": list(r.used_by)} for r in results]})  # fmt: skip
        return 0
    for r in results:
        state = "already present" if r.already_present else "fetched"
        print(f"{state}: {r.name}  sha256 {r.sha256}  ({', '.join(r.used_by) or 'no codec lists it'})")
    print(f"store: {store_dir()}")
    return 0


def _qualities(q: list[int]) -> str:
    if len(q) > 2 and q == list(range(q[0], q[-1] + 1)):
        return f"{q[0]}-{q[-1]}"
    return ",".join(map(str, q))


def run_list(args: argparse.Namespace) -> int:
    from examiner.codecs.registry import list_codecs
    from examiner.commands._output import print_json
    from examiner.commands._settings import user_settings

    entries, problems = list_codecs(user_settings())
    records: list[dict[str, Any]] = [e.to_record() for e in entries]
    if args.json:
        print_json({"codecs": records, "problems": [str(p) for p in problems]})
    else:
        rows = [("ID", "FAMILY", "QUALITIES", "WEIGHTS", "AVAILABLE", "NOTE")]
        for r in records:
            w = f"{len(r['weights_installed'])}/{len(r['qualities'])}" if r["weights_required"] else "-"
            note = "demonstration" if r["demonstration"] else ""
            if not r["available"]:
                note = (note + "; " if note else "") + r["reason"]
            rows.append((r["id"], r["family"], _qualities(r["qualities"]), w, "yes" if r["available"] else "no", note))
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            print("  ".join(c.ljust(widths[i]) for i, c in enumerate(row[:5])) + "  " + row[5])
    for prob in problems:
        print(f"examiner: warning: unreadable codec pack: {prob}", file=sys.stderr)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from examiner.codecs.registry import codec_infos
    from examiner.codecs.weights import import_weights, store_dir
    from examiner.commands._output import print_json
    from examiner.commands._settings import user_settings

    results = import_weights(args.files, codec_infos(user_settings()))
    if args.json:
        print_json(
            {
                "store": str(store_dir()),
                "imported": [
                    {
                        "source": r.source,
                        "name": r.name,
                        "sha256": r.sha256,
                        "size": r.size,
                        "already_present": r.already_present,
                        "used_by": list(r.used_by),
                    }
                    for r in results
                ],
            }
        )
        return 0
    for r in results:
        state = "already present" if r.already_present else "imported"
        users = ", ".join(r.used_by) if r.used_by else "no codec pack lists this model and quality"
        print(f"{state}: {r.name}  sha256 {r.sha256}  ({users})")
    print(f"store: {store_dir()}")
    return 0
