"""``examiner annotate IMAGE --out COPY --codec ID [...]``: write a statement that a codec made an
image onto a copy of it, for labs that archive neural-compressed material. The original is never
touched; the copy's pixels are bit-identical to the original's (checked after writing)."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

from examiner.errors import ExaminerError


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

    p = subparsers.add_parser(
        "annotate",
        help="write an XMP statement of the codec that made an image onto a copy of it",
        description=(
            "Copy IMAGE (JPEG or PNG) to COPY with an XMP packet stating which codec made its pixels: "
            "the IPTC digital source type (trainedAlgorithmicMedia for a learned codec), the codec id, "
            "quality, bits per pixel, weight-file and source SHA-256 and this tool's version. The image "
            "data is copied byte for byte; IMAGE itself is never written."
        ),
    )
    p.add_argument("image", help="the image to annotate (never modified)")
    p.add_argument("--out", required=True, metavar="COPY", help="the annotated copy (must not exist)")
    p.add_argument("--codec", required=True, metavar="ID", help="the codec that made the pixels")
    p.add_argument("--learned", choices=("yes", "no"), default=None,
                   help="whether the codec is a learned one (default: from the installed codec packs)")
    p.add_argument("--quality", type=int, default=None, help="the codec's quality level")
    p.add_argument("--bpp", type=float, default=None, help="bits per pixel of the bitstream")
    p.add_argument("--weights-sha256", action="append", default=[], metavar="HEX",
                   help="SHA-256 of a weight file the codec used (repeatable)")
    p.add_argument("--source-sha256", default=None, metavar="HEX",
                   help="SHA-256 of the image the codec was given")
    add_json_flag(p)
    p.set_defaults(func=run)


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _check_hex(value: str, what: str) -> str:
    v = value.strip().lower()
    if not _HEX64.fullmatch(v):
        raise ExaminerError(f"{what} must be 64 hexadecimal digits, got {value!r}")
    return v


def _learned(args: argparse.Namespace) -> bool:
    if args.learned is not None:
        return args.learned == "yes"
    from examiner.training.derived_xmp import learned_codec

    known = learned_codec(args.codec)
    if known is None:
        raise ExaminerError(f"codec {args.codec!r} is not installed here; say whether it is learned with --learned yes|no")
    return known


def run(args: argparse.Namespace) -> int:
    from examiner.commands._output import print_json
    from examiner.core.atomic import write_atomically
    from examiner.core.evidence import decode_bytes, open_evidence_with_bytes
    from examiner.core.provenance_write import AnnotateError, MakingStatement, build_packet, embed
    from examiner.core.xmp import read_xmp

    src, out = Path(args.image), Path(args.out)
    if out.resolve() == src.resolve() or (out.exists() and src.exists() and os.path.samefile(out, src)):
        raise ExaminerError(f"{out}: refusing to write over the input image; annotate writes a copy")
    if out.exists() or out.is_symlink():
        raise ExaminerError(f"{out}: already exists; choose a new file name")
    if not out.resolve().parent.is_dir():
        raise ExaminerError(f"{out}: its folder does not exist")
    ev, data = open_evidence_with_bytes(src)
    statement = MakingStatement(
        kind="annotation",
        source_sha256=_check_hex(args.source_sha256, "--source-sha256") if args.source_sha256 else None,
        codec_id=args.codec, learned=_learned(args), quality=args.quality, bpp=args.bpp,
        weights_sha256={f"weights-{n}": _check_hex(h, "--weights-sha256") for n, h in enumerate(args.weights_sha256, 1)},
    )  # fmt: skip
    try:
        annotated = embed(data, ev.facts.format, build_packet(statement))
    except AnnotateError as exc:
        raise ExaminerError(f"{src}: {exc}") from None
    import numpy as np

    if not np.array_equal(decode_bytes(annotated, str(out)), ev.pixels):
        raise ExaminerError(f"{src}: the annotated copy would not decode to the same pixels; nothing written")
    write_atomically(out, annotated)
    from examiner.core.hashes import artefact_sha256

    read_back = read_xmp(annotated, ev.facts.format) or {}
    result: dict[str, Any] = {
        "input": str(src),
        "input_sha256": ev.sha256,
        "output": str(out),
        "output_sha256": artefact_sha256(annotated),
        "pixels_identical": True,
        "statement": statement.sentence(),
        "read_back": read_back.get("statements", []),
    }
    if args.json:
        print_json(result)
        return 0
    print(f"wrote {out} (sha256 {result['output_sha256']}); {src} unchanged (sha256 {ev.sha256})")
    print(f"statement: {statement.sentence()}")
    for line in result["read_back"]:
        print(f"read back: {line}")
    return 0
