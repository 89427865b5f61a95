"""``examiner variability IMAGE --codec cdc-x --seeds 8 --out MAP.png``: seed-variability map."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from examiner.errors import ExaminerError


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.cli import add_json_flag

    p = subparsers.add_parser(
        "variability",
        help="map where a stochastic decoder invents detail (decode one bitstream with N seeds)",
        description=(
            "Encode IMAGE (read-only) once with a stochastic codec, decode the same bitstream with N "
            "noise seeds and write the per-pixel standard deviation across the decodes as a grey PNG "
            "(white = the largest spread). Stable regions are fixed by the bitstream; bright regions "
            "are synthesised by the decoder."
        ),
    )
    p.add_argument("image", help="input image (never modified)")
    p.add_argument("--codec", required=True, metavar="ID", help="a stochastic codec, e.g. cdc-x or cdc-eps")
    p.add_argument("--quality", type=int, metavar="Q", help="default: the codec's first quality")
    p.add_argument("--weights", metavar="CHECKPOINT", help="run this checkpoint (its SHA-256 is recorded)")
    p.add_argument("--seeds", type=int, default=8, metavar="N", help="number of seeds (default 8)")
    p.add_argument("--first-seed", type=int, default=0, metavar="S", help="seeds are S, S+1, ... (default 0)")
    p.add_argument("--steps", type=int, metavar="K", help="sampling steps (default: the codec's)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None)
    p.add_argument("--threshold", type=float, default=None, metavar="LEVELS",
                   help="std (8-bit levels) above which a pixel counts as invented (default 2)")
    p.add_argument("--out", required=True, metavar="MAP.png", help="variability map, written as PNG")
    p.add_argument("--progress", action="store_true", help="show progress on stderr even when it is not a terminal")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from examiner.analysis.variability import INVENTED_THRESHOLD, seed_variability
    from examiner.cli import print_json
    from examiner.codecs.api import RunOptions
    from examiner.codecs.registry import get_codec
    from examiner.commands.recompress import _guard_outputs, png_bytes, write_atomically
    from examiner.core.evidence import open_evidence
    from examiner.core.settings import Settings
    from examiner.core.tasks import StderrProgress, TaskContext

    image_path, out = Path(args.image), Path(args.out)
    _guard_outputs(image_path, [out])
    settings = Settings.load()
    codec = get_codec(args.codec, settings)
    quality = args.quality if args.quality is not None else codec.info.qualities[0]
    if quality not in codec.info.qualities:
        raise ExaminerError(f"codec {codec.info.id!r} has no quality {quality}")
    if args.weights is None:
        ok, why = codec.available()
        if not ok:
            raise ExaminerError(f"codec {codec.info.id!r} cannot run here: {why}")
    evidence = open_evidence(image_path, max_pixels=settings.max_pixels)
    params: dict[str, Any] = {k: v for k, v in codec.info.extra.get("params", {}).items()}
    options = RunOptions(
        device=args.device or settings.device, seed=args.first_seed, steps=args.steps, weights=args.weights,
        params=params,
    )
    ctx = TaskContext(on_progress=StderrProgress(force=args.progress))
    threshold = INVENTED_THRESHOLD if args.threshold is None else args.threshold
    result = seed_variability(codec, evidence.pixels, quality, options, args.seeds, ctx, threshold)
    png = png_bytes(result.map_uint8())
    write_atomically(out, png)
    summary = result.summary()
    record = {
        "input": str(image_path),
        "input_sha256": evidence.sha256,
        "output": str(out),
        "map_full_scale_levels": max(summary["std_max"], threshold),
        **summary,
    }
    if args.json:
        print_json(record)
        return 0
    print(
        f"{codec.info.id}: {len(result.seeds)} seeds, {result.steps} steps; std max {summary['std_max']:.2f}, "
        f"mean {summary['std_mean']:.2f} levels; invented {100 * summary['invented_fraction']:.1f} % of pixels "
        f"(std > {threshold} levels)"
    )
    print(f"wrote {out}")
    return 0
