"""Arguments and inputs shared by the commands that run a codec (recompress, match-rate, variability)."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from examiner.errors import ExaminerError


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--codec", required=True, metavar="ID", help="codec id (see `examiner codecs list`)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None, help="default: from the settings (auto)")
    p.add_argument("--weights", metavar="FILE", help="explicit weight file, named <model>-<quality>-<8 hex>.pth.tar")
    p.add_argument("--seed", type=int, help="seed for stochastic decoders (recorded)")
    p.add_argument("--steps", type=int, help="sampling steps for diffusion decoders (recorded)")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="codec parameter, e.g. subsampling=4:4:4 or optimize=true (repeatable)",
    )
    p.add_argument("--tile-budget", type=int, metavar="PIXELS", help="tile images above this many pixels")
    p.add_argument("--progress", action="store_true", help="show progress on stderr even when it is not a terminal")


def parse_params(items: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ExaminerError(f"--param {item!r}: expected KEY=VALUE")
        params[key.strip()] = value
    return params


def run_options(args: argparse.Namespace, settings: Any) -> Any:
    from examiner.codecs.api import RunOptions

    return RunOptions(
        device=args.device or settings.device,
        seed=args.seed,
        steps=args.steps,
        weights=args.weights,
        tile_budget_pixels=args.tile_budget,
        params=parse_params(args.param),
    )


def progress_context(args: argparse.Namespace) -> Any:
    from examiner.core.tasks import StderrProgress, TaskContext

    return TaskContext(on_progress=StderrProgress(force=args.progress))


@contextlib.contextmanager
def evidence_source(
    case_path: str | None, image_path: Path, settings: Any, actor: str | None = None
) -> Iterator[tuple[Any, int, Any, str]]:
    """(case or None, evidence id, pixels, SHA-256) for a step run on IMAGE: with a case, the
    image must be evidence in it and its pixels come hash-checked from the case; without one, it
    is opened read-only through intake."""
    from examiner.core.evidence import hash_file, open_evidence

    if not case_path:
        evidence = open_evidence(image_path, max_pixels=settings.max_pixels)
        yield None, 0, evidence.pixels, evidence.sha256
        return
    from examiner.commands._settings import open_case
    from examiner.workflows.common import evidence_by_sha256

    sha, _ = hash_file(image_path)
    with open_case(Path(case_path), settings, actor=actor) as case:
        item = evidence_by_sha256(case, sha, image_path)
        yield case, item.id, case.load_evidence(item.id).pixels, item.sha256
