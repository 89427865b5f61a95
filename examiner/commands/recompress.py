"""``examiner recompress IMAGE --codec ID --quality Q [--out OUT.png] [--case CASE]``: re-run a
codec locally, write the output and/or record it in a case as a finding."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from examiner.errors import ExaminerError


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._codec_args import add_run_arguments
    from examiner.commands._output import add_json_flag

    p = subparsers.add_parser(
        "recompress",
        help="encode and decode an image with a codec; write the result as PNG",
        description=(
            "Read IMAGE read-only through the evidence decoder, encode and decode it with a codec "
            "at a quality, and write the decoded pixels as a lossless PNG (and optionally the "
            "bitstream). Reports bpp from the real bitstream bytes, PSNR and MS-SSIM against the "
            "pixels the codec was given, device and timings."
        ),
    )
    p.add_argument("image", help="input image (never modified)")
    add_run_arguments(p)
    p.add_argument(
        "--quality",
        type=int,
        metavar="Q",
        help="quality level; may be left out when the codec has only one, or when --weights names the "
        "model file (the lowest listed level is then recorded as the label)",
    )
    p.add_argument("--out", metavar="OUT.png", help="decoded image, written as PNG (needed without --case)")
    p.add_argument("--bitstream", metavar="OUT.bin", help="also write the bitstream bytes here")
    p.add_argument("--case", metavar="CASE.mcase",
                   help="record the run as a finding of this case (IMAGE must be evidence in it); the decoded "
                   "image and bitstream are stored in the case as artefacts")
    from examiner.commands._settings import add_actor_flag

    add_actor_flag(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def _guard_outputs(image: Path, outputs: list[Path]) -> None:
    src = image.resolve()
    for out in outputs:
        dst = out.resolve()
        same = dst == src or (dst.exists() and src.exists() and os.path.samefile(dst, src))
        if same:
            raise ExaminerError(f"{out}: refusing to write over the input image {image}")
    if len({o.resolve() for o in outputs}) != len(outputs):
        raise ExaminerError("--out and --bitstream must be different files")
    for out in outputs:
        if out.exists() and out.is_dir():
            raise ExaminerError(f"{out}: is a folder")
        if not out.resolve().parent.is_dir():
            raise ExaminerError(f"{out}: its folder does not exist")


def guard_outputs(image: Path, outputs: list[Path], case_path: str | None) -> None:
    """Refuse outputs that would overwrite the input image, a case file, a journal SQLite keeps
    beside one, or any evidence of a case the program knows."""
    from examiner.commands._settings import user_settings
    from examiner.core.output_paths import guard_output

    _guard_outputs(image, outputs)
    for out in outputs:
        if case_path and out.resolve() == Path(case_path).resolve():
            raise ExaminerError(f"{out}: refusing to write over the case file")
        guard_output(out, [image], [case_path] if case_path else [], user_settings().recent_cases)


def _quality(args: argparse.Namespace, info: Any) -> int:
    if args.quality is not None:
        return int(args.quality)
    # With an explicit weight file the file, not the level, defines the model, so any listed
    # level is a faithful label; without one, guessing among several levels would hide a choice.
    if len(info.qualities) == 1 or (args.weights and info.qualities):
        return int(min(info.qualities))
    raise ExaminerError(f"codec {info.id!r} offers several quality levels; choose one with --quality")


def run(args: argparse.Namespace) -> int:
    from examiner.codecs.registry import get_codec
    from examiner.commands._codec_args import evidence_source, progress_context, run_options
    from examiner.commands._output import print_json
    from examiner.commands._settings import user_settings
    from examiner.core.atomic import write_atomically
    from examiner.core.hashes import artefact_sha256
    from examiner.findings import artefacts as names
    from examiner.workflows import recompress as wf

    image_path = Path(args.image)
    if args.out is None and not args.case:
        raise ExaminerError("give --out OUT.png, --case CASE, or both")
    out = Path(args.out) if args.out else None
    bit_out = Path(args.bitstream) if args.bitstream else None
    guard_outputs(image_path, [o for o in (out, bit_out) if o is not None], args.case)
    settings = user_settings()
    codec = get_codec(args.codec, settings)
    quality = _quality(args, codec.info)
    ctx = progress_context(args)
    options = run_options(args, settings)
    finding = None
    with evidence_source(args.case, image_path, settings, args.actor) as (case, evidence_id, pixels, input_sha256):
        outcome = wf.compute_recompression(ctx, pixels, codec.info.id, quality, None, options, settings)
        if case is not None:
            finding = wf.record_recompression(case, evidence_id, outcome)
    record = outcome.record
    out_png = outcome.png
    if out is not None:
        from examiner.core.provenance_write import MakingStatement, codec_is_learned, png_with_statement

        # The file leaves the case: it carries its own statement of what made it.
        statement = MakingStatement(
            kind="re-compression", source_sha256=input_sha256, codec_id=record.codec,
            learned=codec_is_learned(codec.info), quality=record.quality, bpp=record.bpp,
            weights_sha256={str(k): str(v) for k, v in (record.weights_sha256 or {}).items()},
        )  # fmt: skip
        out_png = png_with_statement(outcome.png, statement)
        write_atomically(out, out_png)
    if bit_out is not None and outcome.bitstream is not None:
        write_atomically(bit_out, outcome.bitstream)
    result: dict[str, Any] = {
        "codec": record.codec,
        "quality": record.quality,
        "bpp": record.bpp,
        "psnr": record.psnr,
        "ms_ssim": record.ms_ssim,
        "device": record.device,
        "encode_s": round(record.encode_s or 0.0, 4),
        "decode_s": round(record.decode_s or 0.0, 4),
        "tiled": record.tiled,
        "input": str(image_path),
        "input_sha256": input_sha256,
        "output": str(out) if out is not None else None,
        "file_sha256": artefact_sha256(out_png) if out is not None else None,
        "pixels_sha256": record.pixels_sha256,
        "bitstream": str(bit_out) if bit_out is not None and outcome.bitstream is not None else None,
        "identical": record.identical,
        "case": str(args.case) if args.case else None,
        "finding_id": finding.id if finding is not None else None,
        "artefact_sha256": finding.artefact_sha256(names.RECONSTRUCTION) if finding is not None else None,
        "record": record.to_payload(),
    }
    if args.json:
        print_json(result)
        return 0
    bpp = f": {record.bpp:.4f} bpp" if record.bpp is not None else ""
    print(f"{record.codec} q{record.quality} on {record.device}{bpp}")
    psnr_s = "identical" if record.identical else (f"{record.psnr:.2f} dB" if record.psnr is not None else "n/a")
    ms_s = f"{record.ms_ssim:.4f}" if record.ms_ssim is not None else "n/a (image too small)"
    print(f"PSNR {psnr_s}, MS-SSIM {ms_s}; encode {record.encode_s or 0:.3f} s, decode {record.decode_s or 0:.3f} s")
    if out is not None:
        print(f"wrote {out} (file sha256 {result['file_sha256']})")
    if result["bitstream"]:
        print(f"wrote {bit_out} ({len(outcome.bitstream or b'')} bytes, sha256 {record.bitstream_sha256})")
    if finding is not None:
        print(f"recorded as finding F{finding.id} in {args.case} (artefact sha256 {result['artefact_sha256']})")
    if record.tiled and record.tiles:
        print(f"tiled: {record.tiles['count']} tiles, {record.tiles['overlap']} px overlap")
    for note in outcome.notes:
        print(f"note: {note}")
    return 0
