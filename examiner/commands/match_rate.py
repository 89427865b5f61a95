"""``examiner match-rate IMAGE --codec ID --target-bpp B``: the quality whose bpp is closest."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._codec_args import add_run_arguments
    from examiner.commands._output import add_json_flag

    p = subparsers.add_parser(
        "match-rate",
        help="find the quality of a codec whose bit rate is closest to a target bpp",
        description=(
            "Bisection over the codec's quality levels with real encodes of IMAGE (read-only), then "
            "a direct comparison of the bracketing qualities and their neighbours."
        ),
    )
    p.add_argument("image", help="input image (never modified)")
    add_run_arguments(p)
    p.add_argument("--target-bpp", type=float, required=True, metavar="B", help="the bit rate to match, in bits per pixel")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from examiner.codecs.rate_match import match_rate
    from examiner.codecs.registry import get_codec
    from examiner.commands._codec_args import progress_context, run_options
    from examiner.commands._output import print_json
    from examiner.commands._settings import user_settings
    from examiner.core.evidence import open_evidence

    settings = user_settings()
    codec = get_codec(args.codec, settings)
    evidence = open_evidence(args.image, max_pixels=settings.max_pixels)
    result = match_rate(
        codec, evidence.pixels, args.target_bpp, run_options(args, settings), progress_context(args), settings
    )
    record = result.to_record()
    record["input_sha256"] = evidence.sha256
    if args.json:
        print_json(record)
        return 0
    print(
        f"{result.codec_id}: quality {result.quality} gives {result.bpp:.4f} bpp "
        f"(target {result.target_bpp:.4f}, off by {result.error:.4f}) after {len(result.evaluations)} encodes"
    )
    for q, b in sorted(result.evaluations.items()):
        print(f"  q{q}: {b:.4f} bpp")
    return 0
