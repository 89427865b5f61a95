"""``examiner inspect IMAGE``: hashes, intake facts, metadata and JPEG structure of one image."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

    p = subparsers.add_parser(
        "inspect",
        help="hash an image and show its facts, metadata and JPEG structure",
        description=(
            "Read an image once (read-only), hash it (SHA-256, MD5), identify the format from its "
            "bytes, decode it under the decode policy and show EXIF/GPS/maker tags, XMP and, for "
            "JPEG, markers, quantization tables, estimated IJG quality and chroma subsampling."
        ),
    )
    p.add_argument("image", help="the image file (never modified)")
    p.add_argument("--max-pixels", type=int, default=None, help="pixel limit (default: from the settings)")
    p.add_argument("--markers", action="store_true", help="list every JPEG marker (text output)")
    p.add_argument(
        "--lenient",
        action="store_true",
        help="exit with status 0 even when the extension does not match the content or the metadata is "
        "malformed or hostile (by default both give status 4; the report is printed either way)",
    )
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from examiner.commands._output import print_json
    from examiner.commands._settings import user_settings
    from examiner.core.inspection import inspect_image

    limit = args.max_pixels if args.max_pixels is not None else user_settings().max_pixels
    report = inspect_image(args.image, max_pixels=limit)
    if args.json:
        print_json(report)
    else:
        print(format_report(report, show_markers=args.markers))
    # The pixels of such files are intact and stay examinable, so the full (escaped) report is
    # printed; the exit status still tells scripts that the file is not what it claims to be.
    problems = report["metadata_errors"] + report["metadata_notices"]
    complaint = ""
    if report["extension_mismatch"]:
        complaint = (
            f"extension {report['extension'] or '(none)'} does not match the content "
            f"({report['format'].upper()})"
        )
    elif problems:
        complaint = f"suspicious metadata ({len(problems)} finding(s)); first: {problems[0]}"
    if complaint and not args.lenient:
        import sys

        print(f"examiner: error: {args.image}: {complaint}", file=sys.stderr)
        return SUSPICIOUS_EXIT
    return 0


SUSPICIOUS_EXIT = 4


def format_report(r: dict[str, Any], show_markers: bool = False) -> str:
    lines = [
        f"File:        {r['path']}",
        f"SHA-256:     {r['sha256']}",
        f"MD5:         {r['md5']}",
        f"Size:        {r['size']} bytes, modified {r['mtime_utc']}",
        f"Format:      {r['format'].upper()}"
        + (f"  (extension {r['extension'] or '(none)'} does not match: MISMATCH)" if r["extension_mismatch"] else ""),
        f"Dimensions:  {r['width']} x {r['height']}, mode {r['mode']}, {r['bit_depth']}-bit, {r['channels']} channel(s)",
        f"Pixels:      {r['pixel_dtype']} {tuple(r['pixel_shape'])}",
        f"ICC profile: {'yes' if r['icc_profile'] else 'no'}",
        f"Orientation: {r['exif_orientation'] if r['exif_orientation'] is not None else 'not set'} (recorded, not applied)",
    ]
    ff = r.get("format_facts") or {}
    if ff.get("container") == "HEIF":
        lines.append(
            f"HEIF:        brand {ff.get('major_brand')} ({', '.join(ff.get('compatible_brands') or [])}); "
            f"{ff.get('image_count')} image(s), primary index {ff.get('primary_index')} ({ff.get('primary_item_type')}); "
            f"{ff.get('thumbnails')} thumbnail(s), {ff.get('depth_images')} depth image(s), "
            f"{ff.get('auxiliary_images')} auxiliary image(s): recorded, not decoded"
        )
    elif ff.get("container") == "JPEG XL":
        boxes = " ".join(ff.get("boxes") or []) or "bare codestream"
        lines.append(f"JPEG XL:     {boxes}; orientation {ff.get('orientation')} in the header"
                     + ("; JPEG reconstruction data present" if ff.get("jpeg_reconstruction") else ""))  # fmt: skip
    if r.get("frames", 1) > 1 and ff.get("container") != "HEIF":
        lines.append(f"Frames:      {r['frames']} (first decoded)")
    for c in r["conversions"]:
        lines.append(f"Conversion:  {c}")
    for w in r["warnings"]:
        lines.append(f"Warning:     {w}")
    if r["trailing_bytes"]:
        lines.append(f"Trailing:    {r['trailing_bytes']} bytes after the end of the image stream")
    if r.get("software"):
        lines.append(f"Software:    {r['software']}")
    if r.get("camera"):
        lines.append(f"Camera:      {r['camera']}")
    if r.get("thumbnail"):
        t = r["thumbnail"]
        lines.append(f"Thumbnail:   {t['kind']}, {t['length']} bytes, SHA-256 {t['sha256']}")
    if r.get("xmp"):
        lines.append(f"XMP:         {r['xmp']['length']} bytes")
    j = r.get("jpeg")
    if j:
        lines.append(f"JPEG:        {j['process'] or 'unknown process'}; subsampling {j['subsampling']}")
        lines.append(
            f"             quality estimate {j['quality_estimate']} ({j['quality_fit']}); "
            f"restart interval {j['restart_interval']} ({j['restart_markers']} RST markers); {j['scans']} scan(s)"
        )
        for t in j["quant_tables"]:
            lines.append(
                f"  DQT {t['id']}:   {t['precision_bits']}-bit, IJG quality {t['quality_estimate']} vs "
                f"{t['basis']} table, mean abs error {t['mean_abs_error']} ({t['fit']})"
            )
            for row in range(8):
                lines.append("             " + " ".join(f"{v:3d}" for v in t["values"][row * 8 : row * 8 + 8]))
        if j["comment_count"]:
            lines.append(f"  Comments:  {j['comment_count']} COM segment(s)")
        if show_markers:
            for m in j["markers"]:
                lines.append(f"  {m['offset']:>10}  {m['marker']:<6} {m['length']}")
        else:
            lines.append("  Markers:   " + " ".join(m["marker"] for m in j["markers"][:40])
                         + (" ..." if len(j["markers"]) > 40 else ""))  # fmt: skip
    if r["exif"]:
        lines.append(f"EXIF:        {len(r['exif'])} tag(s)")
        for k, v in r["exif"].items():
            lines.append(f"  {k}: {v[:160]}")
    for k, v in r.get("text_chunks", {}).items():
        lines.append(f"Text chunk:  {k}: {v[:160]}")
    lines.extend(provenance_lines(r.get("provenance")))
    for e in r["metadata_errors"]:
        lines.append(f"Metadata problem: {e}")
    for e in r.get("metadata_notices", []):
        lines.append(f"Metadata notice:  {e}")
    lines.append(f"Policy:      {r['decode_policy']}")
    return "\n".join(lines)


def provenance_lines(prov: dict[str, Any] | None) -> list[str]:
    """What the file states about its making (recorded claims, beside any detector verdict)."""
    if not prov:
        return []
    lines = []
    cred = prov.get("c2pa")
    if cred:
        lines.append(f"C2PA:        Content Credential present; validation status: {cred.get('status')}")
        signer = cred.get("signer") or {}
        if signer.get("common_name"):
            lines.append(f"             signer {signer['common_name']} (issuer {signer.get('issuer')}); "
                         f"{len(cred.get('certificate_chain') or [])} certificate(s) in the chain")  # fmt: skip
        if cred.get("trust"):
            lines.append(f"             {cred['trust']}")
    lines += [f"Provenance:  {s}" for s in prov.get("statements", [])]
    if lines:
        lines.append("             (recorded statements made by the file, not findings of this tool)")
    return lines
