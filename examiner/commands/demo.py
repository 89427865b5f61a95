"""``examiner demo``: build (on first use) the demo case and print its path."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

    p = subparsers.add_parser(
        "demo",
        help="build the demo case (synthetic street scene + bundled demonstration codec) and print its path",
        description=(
            "Render a synthetic street scene with symbols, code it with the bundled demonstration "
            "codec at its lowest rate and build a case with the decoded image as evidence and the "
            "rendering as its reference. Built once into the user data folder (or --out) and reused."
        ),
    )
    p.add_argument("--out", type=Path, default=None, help="folder for the demo (default: the user data folder)")
    p.add_argument("--rebuild", action="store_true", help="build it again even when it exists")
    add_json_flag(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import json

    from examiner.commands._output import print_json
    from examiner.core.tasks import StderrProgress, TaskContext
    from examiner.demo import STAMP_NAME, ensure_demo_case

    progress = StderrProgress()
    case_path = ensure_demo_case(args.out, TaskContext(on_progress=progress), rebuild=args.rebuild)
    if args.json:
        stamp = json.loads((case_path.parent / STAMP_NAME).read_text(encoding="utf-8"))
        codec = stamp["codec"]
        print_json(
            {
                "case": str(case_path),
                "folder": str(case_path.parent),
                "codec": codec["codec"],
                "quality": codec["quality"],
                "bpp": codec["bpp"],
                "psnr_db": codec.get("psnr_db"),
                "symbols": stamp["symbols"],
            }
        )
    else:
        print(case_path)
    return 0
