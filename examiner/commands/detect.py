"""``examiner detect``: neural-compression traces, JPEG evidence and (optionally) codec
identification for one or more images or folders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from examiner.errors import ExaminerError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".avif", ".tif", ".tiff", ".bmp", ".jxl", ".ppm", ".pgm", ".gif"}


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.cli import add_json_flag

    p = subparsers.add_parser(
        "detect",
        help="look for neural-compression traces in images",
        description="Score each image for traces of a learned (neural) image decoder, give the "
        "calibrated likelihood ratio with its ENFSI verbal equivalent, report JPEG "
        "evidence and, with --codecs, rank candidate codecs by re-compression. Folders are searched "
        "recursively. A file that cannot be read gives an error entry and the run goes on.",
    )
    p.add_argument("images", nargs="+", help="image files or folders")
    p.add_argument("--codecs", default="none",
                   help="identification by re-compression: none (default), auto (every available codec) "
                   "or a comma-separated list of codec ids")
    p.add_argument("--model", default=None, help="a detector model JSON (default: the shipped one)")
    add_json_flag(p)
    p.set_defaults(func=run)


def expand(inputs: list[str]) -> list[Path]:
    out: list[Path] = []
    for s in inputs:
        p = Path(s)
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES))
        else:
            out.append(p)
    return out


def _codecs_arg(value: str) -> str | list[str]:
    v = value.strip()
    if v in ("none", "auto"):
        return v
    ids = [c.strip() for c in v.split(",") if c.strip()]
    if not ids:
        raise ExaminerError("--codecs needs none, auto or a comma-separated list of codec ids")
    return ids


def run(args: argparse.Namespace) -> int:
    from examiner.analysis.detector import detect_file, load_model
    from examiner.cli import print_json
    from examiner.core.tasks import StderrProgress, TaskContext

    codecs = _codecs_arg(args.codecs)
    model = load_model(args.model)
    files = expand(args.images)
    if not files:
        raise ExaminerError("no images found in " + ", ".join(args.images))
    bar = StderrProgress(force=len(files) > 1)
    ctx = TaskContext(on_progress=bar)
    results: list[dict[str, Any]] = []
    failures = 0
    for i, path in enumerate(files):
        ctx.progress(i, len(files), path.name)
        try:
            det = detect_file(path, model=model, codecs=codecs)
            results.append(det.to_dict())
        except ExaminerError as exc:
            failures += 1
            results.append({"path": str(path), "error": str(exc)})
        except (ValueError, OSError) as exc:
            failures += 1
            results.append({"path": str(path), "error": f"{path}: {exc}"})
    ctx.progress(len(files), len(files), "done")
    if args.json:
        print_json(results)
    else:
        for r in results:
            if "error" in r:
                print(f"{r['path']}: ERROR {r['error']}")
                continue
            lr = f", LR {r['lr']:.3g}: {r['verbal_scale']}" if r.get("lr") is not None else ""
            print(f"{r['path']}: {r['verdict']} (score {r['score']:.2f}{lr})")
            if r.get("inconclusive_reason"):
                print(f"  inconclusive: {r['inconclusive_reason']}")
            print(f"  {r['explanation']}")
            if "candidates" in r:
                for c in r["candidates"]["candidates"][:5]:
                    print(f"  candidate {c['codec']} q{c['quality']}: gain {c['fixed_point_gain_db']:.1f} dB, "
                          f"PSNR {c['psnr_db']:.1f} dB")
    if failures:
        print(f"examiner detect: {failures} of {len(files)} file(s) could not be analysed", file=sys.stderr)
    return 1 if failures == len(files) else 0
