"""``examiner variability IMAGE --codec cdc-x --seeds 8 [--out MAP.png] [--case CASE]``:
seed-variability map, written and/or recorded in a case as a finding."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from examiner.errors import ExaminerError


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

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
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None, help="where the codec runs (default: the settings' choice)")
    p.add_argument("--threshold", type=float, default=None, metavar="LEVELS",
                   help="std (8-bit levels) above which a pixel counts as invented (default 2)")
    p.add_argument("--out", metavar="MAP.png", help="variability map, written as PNG (needed without --case)")
    p.add_argument("--case", metavar="CASE.mcase",
                   help="record the map as a finding of this case (IMAGE must be evidence in it)")
    p.add_argument("--progress", action="store_true", help="show progress on stderr even when it is not a terminal")
    from examiner.commands._settings import add_actor_flag

    add_actor_flag(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from examiner.codecs.api import RunOptions
    from examiner.commands._codec_args import evidence_source
    from examiner.commands._output import print_json
    from examiner.commands._settings import user_settings
    from examiner.commands.recompress import guard_outputs
    from examiner.core.atomic import write_atomically
    from examiner.core.hashes import artefact_sha256
    from examiner.core.tasks import StderrProgress, TaskContext
    from examiner.findings import artefacts as names
    from examiner.workflows import variability as wf

    if args.out is None and not args.case:
        raise ExaminerError("give --out MAP.png, --case CASE, or both")
    image_path = Path(args.image)
    out = Path(args.out) if args.out else None
    guard_outputs(image_path, [out] if out is not None else [], args.case)
    settings = user_settings()
    options = RunOptions(
        device=args.device or settings.device, seed=args.first_seed, steps=args.steps, weights=args.weights,
    )
    ctx = TaskContext(on_progress=StderrProgress(force=args.progress))
    finding = None
    with evidence_source(args.case, image_path, settings, args.actor) as (case, evidence_id, pixels, input_sha256):
        outcome = wf.compute_variability(
            ctx, pixels, args.codec, args.quality, args.seeds, options, args.threshold, settings
        )
        if case is not None:
            finding = wf.record_variability(case, evidence_id, outcome)
    map_png = outcome.png
    if out is not None:
        from examiner.codecs.registry import get_info
        from examiner.core.provenance_write import MakingStatement, codec_is_learned, png_with_statement

        info, _pack = get_info(args.codec, settings)
        statement = MakingStatement(
            kind="seed-variability map", source_sha256=input_sha256, codec_id=args.codec,
            learned=codec_is_learned(info), quality=getattr(outcome.record, "quality", args.quality), codec_made=False,
            weights_sha256=_weights(outcome.record.params),
        )  # fmt: skip
        map_png = png_with_statement(outcome.png, statement)
        write_atomically(out, map_png)
    rec = outcome.record
    record: dict[str, Any] = {
        "input": str(image_path),
        "input_sha256": input_sha256,
        "output": str(out) if out is not None else None,
        "file_sha256": artefact_sha256(map_png) if out is not None else None,
        "case": str(args.case) if args.case else None,
        "finding_id": finding.id if finding is not None else None,
        "artefact_sha256": finding.artefact_sha256(names.VARIABILITY_MAP) if finding is not None else None,
        **{k: v for k, v in rec.to_payload().items() if k != "schema"},
    }
    if args.json:
        print_json(record)
        return 0
    print(
        f"{rec.codec}: {len(rec.seeds)} seeds, {rec.steps} steps; std max {rec.std_max or 0:.2f}, "
        f"mean {rec.std_mean or 0:.2f} levels; invented {100 * (rec.invented_fraction or 0):.1f} % of pixels "
        f"(std > {rec.threshold_levels} levels)"
    )
    if out is not None:
        print(f"wrote {out}")
    if finding is not None:
        print(f"recorded as finding F{finding.id} in {args.case}")
    return 0


def _weights(params: dict[str, Any]) -> dict[str, str]:
    sha = params.get("weights_sha256")
    if isinstance(sha, dict):
        return {str(k): str(v) for k, v in sha.items()}
    return {str(params.get("weights_file") or "weights"): str(sha)} if sha else {}
