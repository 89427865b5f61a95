"""``examiner training``: exercise packs, training-mode cases, scoring and the starter pack."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from examiner.errors import ExaminerError


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

    p = subparsers.add_parser(
        "training",
        help="training exercises: make a pack from a case, start, score, starter pack",
        description="Exercise packs for training examiners. An instructor turns a case into a pack "
        "(image pairs and the instructor's regions as a hidden answer key, all hashed); a trainee "
        "starts a training-mode case from it (no key inside), marks regions as usual, and the case "
        "is scored against the pack.",
    )
    sub = p.add_subparsers(dest="training_command", metavar="ACTION")

    mk = sub.add_parser("make-pack", help="turn a case into an exercise pack",
                        description="Every evidence item with a reference original becomes an exercise "
                        "(the reference is the original, the evidence the reconstruction); the case's "
                        "regions become the answer key. The case is opened read-only.")  # fmt: skip
    mk.add_argument("case", type=Path, metavar="CASE", help="the finished case the exercise is made from")
    mk.add_argument("--out", type=Path, required=True, metavar="PACK", help="the pack file to write (.mxpack)")
    mk.add_argument("--title", default="", help="the exercise title (default: the case title or id)")
    mk.add_argument("--instructor", default="", help="the instructor's name (default: the case's examiner)")
    add_json_flag(mk)
    mk.set_defaults(func=_make_pack)

    st = sub.add_parser("start", help="start a training-mode case from a pack (answer key hidden)",
                        description="Verify the pack and build a case holding its image pairs (the "
                        "reconstructions as evidence, originals as references) but not the key. The "
                        "images are written to <CASE>-images/ beside the case.")  # fmt: skip
    st.add_argument("pack", type=Path, metavar="PACK", help="the exercise pack (.mxpack)")
    st.add_argument("--trainee", required=True, help="the trainee's name")
    st.add_argument("--out", type=Path, required=True, metavar="CASE", help="the training case file to create (.mcase)")
    add_json_flag(st)
    st.set_defaults(func=_start)

    sc = sub.add_parser("score", help="score a training case against its pack",
                        description="Match the trainee's regions to the key's by IoU (one to one, largest "
                        "total overlap): hits, misses, false alarms, category and Symbol-flag agreement, "
                        "and a score out of 100 with its breakdown. Both files are only read.")  # fmt: skip
    sc.add_argument("pack", type=Path, metavar="PACK", help="the exercise pack (.mxpack) with the answers")
    sc.add_argument("case", type=Path, metavar="CASE", help="the trainee's case to score")
    sc.add_argument("--iou", type=float, default=None, help="IoU a trainee region needs to hit a key region (default 0.3)")
    sc.add_argument("--pdf", type=Path, default=None, metavar="OUT", help="also write a one-page PDF result")
    add_json_flag(sc)
    sc.set_defaults(func=_score)

    sp = sub.add_parser("starter-pack", help="build the bundled starter exercise pack",
                        description="Render street scenes with known planted changes (a digit, brake "
                        "lights, an arrow lamp made round, a clock hand, small print), code them with the "
                        "demonstration codec at its lowest rate and JPEG, and write them as a pack whose key "
                        "is the planted changes (plus the demo case's marked regions).")  # fmt: skip
    sp.add_argument("--out", type=Path, required=True, metavar="PACK", help="the pack file to write (.mxpack)")
    sp.add_argument("--no-demo-case", action="store_true", help="leave the demo case out")
    add_json_flag(sp)
    sp.set_defaults(func=_starter)

    info = sub.add_parser("show", help="verify a pack and show what it holds (not the key)")
    info.add_argument("pack", type=Path, metavar="PACK", help="the exercise pack (.mxpack)")
    add_json_flag(info)
    info.set_defaults(func=_show)

    p.set_defaults(func=lambda a: _missing(p))


def _missing(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


def _ctx() -> Any:
    from examiner.core.tasks import StderrProgress, TaskContext

    return TaskContext(on_progress=StderrProgress())


def _print_pack(pack: Any, notes: list[str], as_json: bool, extra: dict[str, Any] | None = None) -> None:
    from examiner.commands._output import print_json

    summary = pack.summary()
    if as_json:
        print_json({**summary, "notes": notes, **(extra or {})})
        return
    print(f"{pack.path}: {summary['title']} ({len(summary['items'])} exercise(s), {summary['key_regions']} key region(s))")
    print(f"digest {pack.digest}")
    for it in summary["items"]:
        codec = it["codec"] or {}
        rate = f", {codec.get('codec')} q{codec.get('quality')}" if codec.get("codec") else ""
        print(f"  {it['id']}: {it['title']} ({it['width']} x {it['height']}{rate})")
    for n in notes:
        print(f"note: {n}", file=sys.stderr)


def _make_pack(args: argparse.Namespace) -> int:
    from examiner.training.exercise_pack import make_pack

    pack, notes = make_pack(args.case, args.out, args.title, args.instructor, _ctx())
    _print_pack(pack, notes, args.json)
    return 0


def _start(args: argparse.Namespace) -> int:
    from examiner.commands._output import print_json
    from examiner.training.exercise_pack import ExercisePack, start_training_case, training_images_dir

    case = start_training_case(args.pack, args.trainee, args.out, _ctx())
    pack = ExercisePack.open(args.pack)
    if args.json:
        # The trainee sees the exercises, not how many key regions there are.
        summary = {k: v for k, v in pack.summary().items() if k != "key_regions"}
        print_json({"case": str(case), "images": str(training_images_dir(case)), "pack": summary})
    else:
        print(case)
    return 0


def _score(args: argparse.Namespace) -> int:
    from examiner.commands._output import print_json
    from examiner.training.scoring import DEFAULT_IOU, score_case, write_score_pdf

    iou = DEFAULT_IOU if args.iou is None else float(args.iou)
    if not 0.0 < iou <= 1.0:
        raise ExaminerError("--iou must lie in (0, 1]")
    result = score_case(args.pack, args.case, iou)
    pdf = None
    if args.pdf is not None:
        from examiner.commands._settings import user_settings
        from examiner.core.case import Case
        from examiner.core.output_paths import case_files

        with Case.open(args.case, read_only=True) as case:
            protected = [Path(args.pack), *case_files(case)]
        pdf = write_score_pdf(result, args.pdf, protected, user_settings().recent_cases)
    if args.json:
        print_json({**result.to_dict(), "pdf": None if pdf is None else str(pdf)})
        return 0
    out = sys.stdout
    out.write(f"{result.trainee}: {result.score:.1f} / 100 on {result.pack_title!r} (IoU >= {iou:g})\n")
    out.write(f"hits {result.hits}, misses {result.misses}, false alarms {result.false_alarms}\n")
    for k, v in result.components.items():
        out.write(f"  {k:<11} {'not graded' if v is None else f'{100 * v:.1f} %'}\n")
    for m in result.matches:
        iou_s = "" if m.iou is None else f" IoU {m.iou:.2f}"
        extra = ""
        if m.outcome == "hit":
            cat = "n/a" if m.category_agreement is None else f"{m.category_agreement:.2f}"
            extra = f", categories {cat}, Symbol {'agrees' if m.symbol_agreement else 'differs'}"
        r = m.key or m.trainee
        assert r is not None
        x, y, w, h = r.bbox()
        out.write(f"  item {m.item_id}: {m.outcome} at {x},{y} {w}x{h}{iou_s}{extra}\n")
    if pdf is not None:
        out.write(f"PDF: {pdf}\n")
    return 0


def _starter(args: argparse.Namespace) -> int:
    from examiner.training.starter_pack import build_starter_pack

    pack, notes = build_starter_pack(args.out, include_demo_case=not args.no_demo_case, ctx=_ctx())
    _print_pack(pack, notes, args.json)
    return 0


def _show(args: argparse.Namespace) -> int:
    from examiner.training.exercise_pack import ExercisePack

    _print_pack(ExercisePack.open(args.pack), [], args.json)
    return 0
