"""``examiner export-dataset`` and ``examiner import-dataset``: regions as a COCO-style research dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

    ex = subparsers.add_parser(
        "export-dataset",
        help="export all regions of one or many cases as a COCO-style dataset with crops and a prevalence table",
        description="Write annotations.json (COCO layout: images with file name, size and SHA-256; "
        "annotations with bbox, segmentation polygon, area, taxonomy category; attributes with all "
        "categories, the Symbol flag, codec, quality and bpp of the reconstruction compared, and the "
        "descriptions), crops/ (one PNG per region), images/ and references/ (byte-for-byte copies of "
        "the evidence files, hash-checked) and prevalence.csv (regions per category, codec and bpp "
        "band). The cases are opened read-only.",
    )
    ex.add_argument("cases", nargs="+", type=Path, metavar="CASE", help="case files whose regions are exported")
    ex.add_argument("--out", type=Path, required=True, metavar="DIR", help="a new or empty folder")
    ex.add_argument("--no-images", action="store_true",
                    help="do not copy the evidence files (the dataset then cannot be imported back)")
    add_json_flag(ex)
    ex.set_defaults(func=_export)

    im = subparsers.add_parser(
        "import-dataset",
        help="build a case from an exported dataset folder (round trip)",
        description="Take the dataset's copied images in as evidence (with their references) and turn "
        "every annotation back into a region of a new case.",
    )
    im.add_argument("folder", type=Path, metavar="DIR", help="a folder written by export-dataset")
    im.add_argument("--out", type=Path, required=True, metavar="CASE", help="the case file to create (.mcase)")
    im.add_argument("--examiner", default="", help="examiner name for the new case (default: the annotators)")
    add_json_flag(im)
    im.set_defaults(func=_import)


def _export(args: argparse.Namespace) -> int:
    from examiner.commands._output import print_json
    from examiner.core.tasks import StderrProgress, TaskContext
    from examiner.training.dataset_export import export_dataset

    result = export_dataset(args.cases, args.out, copy_images=not args.no_images,
                            ctx=TaskContext(on_progress=StderrProgress()))  # fmt: skip
    if args.json:
        print_json(result.to_dict())
    else:
        print(f"{result.out}: {result.annotations} region(s) on {result.images} image(s) from {result.cases} case(s); "
              f"{result.crops} crop(s); prevalence table with {result.prevalence_rows} row(s)")  # fmt: skip
    for n in result.notes:
        print(f"note: {n}", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
    from examiner.commands._output import print_json
    from examiner.core.case import Case
    from examiner.core.tasks import StderrProgress, TaskContext
    from examiner.training.dataset_export import import_dataset

    path = import_dataset(args.folder, args.out, examiner=args.examiner, ctx=TaskContext(on_progress=StderrProgress()))
    with Case.open(path, read_only=True) as case:
        n_ev, n_reg = len(case.evidence()), len(case.regions())
    if args.json:
        print_json({"case": str(path), "evidence": n_ev, "regions": n_reg})
    else:
        print(f"{path}: {n_reg} region(s) on {n_ev} evidence item(s)")
    return 0
