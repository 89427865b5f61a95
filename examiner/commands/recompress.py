"""``examiner recompress IMAGE --codec ID --quality Q --out OUT.png``: re-run a codec locally."""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from examiner.errors import ExaminerError


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.cli import add_json_flag
    from examiner.commands._codec_args import add_run_arguments

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
    p.add_argument("--out", required=True, metavar="OUT.png", help="decoded image, written as PNG")
    p.add_argument("--bitstream", metavar="OUT.bin", help="also write the bitstream bytes here")
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


def write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.resolve().parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def png_bytes(pixels: Any) -> bytes:
    import cv2
    import numpy as np

    arr = pixels if pixels.ndim == 2 else np.ascontiguousarray(pixels[:, :, ::-1])
    ok, buf = cv2.imencode(".png", arr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise ExaminerError("could not encode the output PNG")
    return buf.tobytes()


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else x


def _quality(args: argparse.Namespace, info: Any) -> int:
    if args.quality is not None:
        return int(args.quality)
    # With an explicit weight file the file, not the level, defines the model, so any listed
    # level is a faithful label; without one, guessing among several levels would hide a choice.
    if len(info.qualities) == 1 or (args.weights and info.qualities):
        return int(min(info.qualities))
    raise ExaminerError(f"codec {info.id!r} offers several quality levels; choose one with --quality")


def run(args: argparse.Namespace) -> int:
    from examiner.cli import print_json
    from examiner.codecs import engine
    from examiner.codecs.registry import get_codec
    from examiner.commands._codec_args import progress_context, run_options
    from examiner.core.evidence import open_evidence
    from examiner.core.settings import Settings

    image_path = Path(args.image)
    out = Path(args.out)
    bit_out = Path(args.bitstream) if args.bitstream else None
    _guard_outputs(image_path, [out] + ([bit_out] if bit_out else []))
    settings = Settings.load()
    codec = get_codec(args.codec, settings)
    evidence = open_evidence(image_path, max_pixels=settings.max_pixels)
    quality = _quality(args, codec.info)
    ctx = progress_context(args)
    rec = engine.run(codec, evidence.pixels, quality, run_options(args, settings), ctx, settings)
    reference, _ = engine.convert_for_codec(evidence.pixels, engine.accepted_forms(codec.info))
    psnr = engine.psnr(reference, rec.pixels)
    ms_ssim = engine.ms_ssim(reference, rec.pixels)
    png = png_bytes(rec.pixels)
    write_atomically(out, png)
    if bit_out is not None and rec.bitstream is not None:
        write_atomically(bit_out, rec.bitstream)
    result: dict[str, Any] = {
        "codec": rec.codec_id,
        "quality": rec.quality,
        "bpp": rec.bpp,
        "psnr": _finite(psnr),
        "ms_ssim": ms_ssim,
        "device": rec.device,
        "encode_s": round(rec.encode_s, 4),
        "decode_s": round(rec.decode_s, 4),
        "output_sha256": hashlib.sha256(png).hexdigest(),
        "tiled": rec.tiled,
        "input": str(image_path),
        "input_sha256": evidence.sha256,
        "output": str(out),
        "pixels_sha256": rec.pixels_sha256(),
        "bitstream": str(bit_out) if bit_out is not None and rec.bitstream is not None else None,
        "identical": math.isinf(psnr),
        "record": rec.to_record(),
    }
    if args.json:
        print_json(result)
        return 0
    print(f"{rec.codec_id} q{rec.quality} on {rec.device}: {rec.bpp:.4f} bpp" if rec.bpp is not None else rec.codec_id)
    psnr_s = "identical" if math.isinf(psnr) else f"{psnr:.2f} dB"
    ms_s = f"{ms_ssim:.4f}" if ms_ssim is not None else "n/a (image too small)"
    print(f"PSNR {psnr_s}, MS-SSIM {ms_s}; encode {rec.encode_s:.3f} s, decode {rec.decode_s:.3f} s")
    print(f"wrote {out} (sha256 {result['output_sha256']})")
    if result["bitstream"]:
        print(f"wrote {bit_out} ({len(rec.bitstream or b'')} bytes, sha256 {rec.bitstream_sha256})")
    if rec.tiled and rec.tiles:
        print(f"tiled: {rec.tiles['count']} tiles, {rec.tiles['overlap']} px overlap")
    for note in rec.notes:
        print(f"note: {note}")
    return 0
