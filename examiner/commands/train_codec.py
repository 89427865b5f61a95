"""``examiner train-codec``: train the small demonstration codecs from a folder of images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from examiner.errors import ExaminerError


def _floats(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from exc
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError("lambdas must be positive numbers")
    return values


def _steps(text: str) -> int | tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a step count or comma-separated list of them: {text!r}") from exc
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError("step counts must be whole numbers, not negative")
    return values[0] if len(values) == 1 else values


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.codecs.demo_pack import DEMO_CODEC_ID, DEMO_PACK_NAME
    from examiner.commands._output import add_json_flag

    p = subparsers.add_parser(
        "train-codec",
        help="train the small demonstration codecs (CompressAI mean-scale hyperprior)",
        description=(
            "Train one CompressAI MeanScaleHyperprior per lambda: a shared base stage, then a "
            "fine-tune stage per lambda. Writes safetensors weights and training.json into --out. "
            "Deterministic for a given seed, torch version and thread count; --resume continues "
            "from the last checkpoint."
        ),
    )
    p.add_argument("--images", required=True, type=Path, help="folder of training images (PNG)")
    p.add_argument("--out", required=True, type=Path, help="pack folder that receives the weights")
    p.add_argument("--lambdas", required=True, type=_floats, help="comma-separated, low to high rate")
    p.add_argument(
        "--steps",
        required=True,
        type=_steps,
        help="fine-tune steps: one number for every lambda, or one per lambda (0 ships the base weights for the base lambda)",
    )
    p.add_argument("--base-steps", type=int, default=0, help="shared base stage steps (0: train each from scratch)")
    p.add_argument("--base-lambda", type=float, default=None, help="lambda of the base stage (default: the middle one)")
    p.add_argument(
        "--base-schedule-steps",
        type=int,
        default=0,
        help="horizon of the base stage's cosine learning-rate schedule (default: --base-steps)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0); the same seed gives the same weights")
    p.add_argument("--n", type=int, default=64, help="channels N of the transforms")
    p.add_argument("--m", type=int, default=96, help="latent channels M")
    p.add_argument("--crop", type=int, default=128, help="side of the square training crops in pixels (default 128)")
    p.add_argument("--batch", type=int, default=8, help="crops per training step (default 8)")
    p.add_argument("--lr", type=float, default=5e-4, help="peak learning rate of the base stage")
    p.add_argument("--finetune-lr", type=float, default=2e-4, help="learning rate of the per-lambda fine-tuning (default 2e-4)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1; results depend on it)")
    p.add_argument("--holdout", default=None, help="comma-separated file stems kept out of training (default kodim19..24)")
    p.add_argument("--checkpoints", type=Path, default=None, help="checkpoint folder (default: in the user data folder)")
    p.add_argument("--codec-id", default=DEMO_CODEC_ID, help="codec id written into codec.toml")
    p.add_argument(
        "--pack-name", default=DEMO_PACK_NAME, help="pack name written into codec.toml"
    )
    p.add_argument("--resume", action="store_true", help="continue from the checkpoints of an interrupted run")
    add_json_flag(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from examiner.commands._output import print_json
    from examiner.core.tasks import TaskContext
    from examiner.training.codec_pack import write_pack_manifest
    from examiner.training.codec_training import DEFAULT_HOLDOUT, TrainConfig, train

    if args.base_steps < 0:
        raise ExaminerError("--base-steps must not be negative")
    lambdas = args.lambdas
    base_lambda = args.base_lambda if args.base_lambda is not None else sorted(lambdas)[len(lambdas) // 2]
    holdout = tuple(s for s in args.holdout.split(",") if s) if args.holdout is not None else DEFAULT_HOLDOUT
    cfg = TrainConfig(
        images=str(args.images),
        out=str(args.out),
        lambdas=tuple(lambdas),
        steps=args.steps,
        base_steps=args.base_steps,
        base_lambda=base_lambda,
        base_schedule_steps=args.base_schedule_steps,
        seed=args.seed,
        n=args.n,
        m=args.m,
        crop=args.crop,
        batch=args.batch,
        lr=args.lr,
        finetune_lr=args.finetune_lr,
        threads=args.threads,
        holdout=holdout,
        checkpoints=str(args.checkpoints) if args.checkpoints else "",
    )

    def log(msg: str) -> None:
        print(f"train-codec: {msg}", file=sys.stderr, flush=True)

    record = train(cfg, TaskContext(), resume=args.resume, log=log)
    manifest = write_pack_manifest(Path(args.out), record, args.codec_id, args.pack_name)
    log(f"manifest written: {manifest}")
    if args.json:
        print_json(record)
    else:
        for st in record["stages"]:
            print(f"{st['stage']}: lambda {st['lmbda']} steps {st['steps']} wall {st['wall_s']} s {st['heldout']}")
        print(f"weights, training.json and codec.toml written to {args.out}")
    return 0
