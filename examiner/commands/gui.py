"""``examiner gui``: the desktop application (Qt is imported only when this command runs)."""

from __future__ import annotations

import argparse

from examiner.commands._settings import add_actor_flag

COMPARE_MODES = ("evidence", "side", "flicker", "swipe", "difference", "ssim")


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1600x1000, not {text!r}") from None
    if not (320 <= w <= 8000 and 240 <= h <= 8000):
        raise argparse.ArgumentTypeError("size must be between 320x240 and 8000x8000")
    return w, h


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "gui",
        help="open the examiner workbench",
        description="Open the desktop workbench, optionally on a case, or on an image: then a new case is "
        "made for the image in your cases folder (under the data directory; EXAMINER_DATA_DIR overrides it) "
        "and the image is taken in read-only as its evidence. With --screenshot it renders the main window "
        "headlessly to a PNG and exits.",
    )
    p.add_argument(
        "case", nargs="?", metavar="CASE_OR_IMAGE",
        help="case file (.mcase) to open, or an image to start a new case with",
    )
    p.add_argument(
        "--examiner", metavar="NAME",
        help="your name, for a case made from an image (remembered; asked once when not given)",
    )
    add_actor_flag(p)
    p.add_argument("--demo", action="store_true", help="build the demo case when needed and open it")
    p.add_argument("--screenshot", metavar="PATH", help="write a PNG of the main window and exit")
    p.add_argument("--compare", choices=COMPARE_MODES, help="start in this compare mode")
    p.add_argument("--select-region", type=int, metavar="ID", help="select this region")
    p.add_argument("--jump", action="store_true", help="with --select-region: zoom to the region")
    p.add_argument("--detect", action="store_true", help="run trace detection on the shown evidence first")
    p.add_argument("--tile-overlay", action="store_true", help="show the detection's per-tile overlay")
    p.add_argument("--size", type=_size, default=(1600, 1000), metavar="WxH", help="window size (default 1600x1000)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.case and args.demo:
        from examiner.errors import ExaminerError

        raise ExaminerError("give either a case file (or an image) or --demo, not both")
    from examiner.gui.app import run_gui
    from examiner.workflows.image_case import looks_like_case

    image = None
    if args.case and not looks_like_case(args.case):
        image, args.case = args.case, None
    return run_gui(
        case=args.case,
        image=image,
        examiner=args.examiner,
        actor=args.actor,
        demo=args.demo,
        screenshot=args.screenshot,
        compare=args.compare,
        select_region=args.select_region,
        size=args.size,
        jump=args.jump,
        detect=args.detect,
        overlay=args.tile_overlay,
    )
