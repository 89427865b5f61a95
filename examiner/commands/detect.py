"""``examiner detect``: neural-compression traces, JPEG evidence and (optionally) codec
identification for one or more images or folders."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from examiner.core.formats import EVIDENCE_SUFFIXES
from examiner.errors import ExaminerError


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

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
    p.add_argument("--case", metavar="CASE.mcase",
                   help="record each detection as a finding of this case (every image must be evidence in it)")
    from examiner.commands._settings import add_actor_flag

    add_actor_flag(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def expand(inputs: list[str]) -> tuple[list[Path], int]:
    """The files to analyse (folders searched recursively for evidence formats), and how many
    other files the folders held; a file named directly is always analysed (or refused)."""
    out: list[Path] = []
    passed_over = 0
    for s in inputs:
        p = Path(s)
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.is_file())
            out.extend(q for q in found if q.suffix.lower() in EVIDENCE_SUFFIXES)
            passed_over += sum(1 for q in found if q.suffix.lower() not in EVIDENCE_SUFFIXES)
        else:
            out.append(p)
    return out, passed_over


def _detect_into_case(case: Any, path: Path, model: Any, codecs: Any, settings: Any) -> dict[str, Any]:
    """Detect on the case's copy of this evidence (hash-checked) and record the finding."""
    from examiner.core.evidence import hash_file
    from examiner.workflows.common import evidence_by_sha256
    from examiner.workflows.detect import detect

    item = evidence_by_sha256(case, hash_file(path)[0], path)
    finding = detect(case, item.id, model=model, codecs=codecs, settings=settings)
    return {**finding.record.to_payload(), "path": str(path), "evidence_id": item.id, "finding_id": finding.id}


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
    from examiner.commands._output import print_json
    from examiner.commands._settings import open_case, user_settings
    from examiner.core.tasks import StderrProgress, TaskContext

    settings = user_settings()
    codecs = _codecs_arg(args.codecs)
    model = load_model(args.model)
    files, passed_over = expand(args.images)
    if passed_over:
        print(f"examiner detect: {passed_over} file(s) in the folders are not of an evidence format "
              f"({', '.join(sorted(EVIDENCE_SUFFIXES))}) and were not analysed; `examiner screen` "
              "accounts for every file", file=sys.stderr)
    if not files:
        raise ExaminerError("no images found in " + ", ".join(args.images))
    bar = StderrProgress(force=len(files) > 1)
    ctx = TaskContext(on_progress=bar)
    results: list[dict[str, Any]] = []
    failures = 0
    with contextlib.ExitStack() as stack:
        case = None
        if args.case:
            case = stack.enter_context(open_case(Path(args.case), settings, actor=args.actor))
        for i, path in enumerate(files):
            ctx.progress(i, len(files), path.name)
            try:
                if case is not None:
                    results.append(_detect_into_case(case, path, model, codecs, settings))
                else:
                    results.append(detect_file(path, model=model, codecs=codecs, settings=settings).to_dict())
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
            loc = r.get("localisation") or {}
            if loc.get("boxes"):
                boxes = ", ".join(f"{x},{y} {w}x{h}" for x, y, w, h in loc["boxes"][:5])
                print(f"  localisation: {loc['flagged_windows']} of {loc['windows']} windows flagged, at {boxes} "
                      "(x,y width x height; see the user guide, Detector validation, for how often the map is right)")
            elif loc:
                print(f"  localisation: none of {loc['windows']} windows flagged")
            if r.get("finding_id"):
                print(f"  recorded as finding F{r['finding_id']} in {args.case}")
            for c in (r.get("candidates") or [])[:5]:
                if isinstance(c, dict):
                    print(f"  candidate {c['codec']} q{c['quality']}: gain {c['fixed_point_gain_db']:.1f} dB, "
                          f"PSNR {c['psnr_db']:.1f} dB")
    if failures:
        print(f"examiner detect: {failures} of {len(files)} file(s) could not be analysed", file=sys.stderr)
    return 1 if failures == len(files) else 0
