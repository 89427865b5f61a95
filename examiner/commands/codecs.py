"""``examiner codecs list|import``: the available codecs, and offline weight import."""

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
    ip.add_argument("files", nargs="+", metavar="FILE")
    add_json_flag(ip)
    ip.set_defaults(func=run_import)
    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])


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
