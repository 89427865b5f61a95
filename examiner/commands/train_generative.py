"""``examiner train-generative``: fine-tune a demonstration model's decoder adversarially."""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

from examiner.errors import ExaminerError


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

    p = subparsers.add_parser(
        "train-generative",
        help="fine-tune a demonstration codec's decoder with a HiFiC-style adversarial loss",
        description=(
            "Fine-tune the decoder g_s of one quality of a pack written by train-codec with a "
            "conditional patch discriminator (HiFiC) plus the distortion term. The encoder and "
            "entropy model stay as they are, so the bitstream does not change. Writes the decoder "
            "weights and generative_training.json into the pack and adds the generative codec to "
            "its codec.toml. Deterministic for a seed, torch version and thread count; --resume "
            "continues from the last checkpoint."
        ),
    )
    p.add_argument("--images", required=True, type=Path, help="folder of training images (PNG)")
    p.add_argument("--pack", required=True, type=Path, help="pack folder written by train-codec")
    p.add_argument("--quality", type=int, default=1, help="quality whose decoder is fine-tuned (default 1)")
    p.add_argument("--steps", type=int, default=2500, help="training steps (default 2500)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--beta", type=float, default=0.3, help="weight of the adversarial term")
    p.add_argument("--lr-g", type=float, default=1e-4, help="learning rate of the decoder (generator), default 1e-4")
    p.add_argument("--lr-d", type=float, default=1e-4, help="learning rate of the discriminator, default 1e-4")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1; results depend on it)")
    p.add_argument("--checkpoints", type=Path, default=None, help="checkpoint folder (default: in the user data folder)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint of an interrupted run")
    add_json_flag(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from examiner.codecs.demo_pack import DEMO_CODEC_ID, DEMO_FILE_PREFIX, DEMO_PACK_NAME
    from examiner.commands._output import print_json
    from examiner.core.settings import data_dir
    from examiner.core.tasks import StderrProgress, TaskContext
    from examiner.training.codec_pack import GAN_SUFFIX, write_pack_manifest
    from examiner.training.generative import GenerativeConfig, train_generative

    pack = args.pack
    try:
        record = json.loads((pack / "training.json").read_text(encoding="utf-8"))
        manifest = tomllib.loads((pack / "codec.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExaminerError(f"{pack}: not a pack written by train-codec ({exc})") from exc
    base = next((w for w in record.get("weights", []) if w.get("quality") == args.quality), None)
    if base is None:
        raise ExaminerError(f"{pack}: the pack has no quality {args.quality}")
    codec = next((c for c in manifest.get("codec", []) if not c.get("id", "").endswith(GAN_SUFFIX)), {})
    cfg_train = record["config"]
    cfg = GenerativeConfig(
        images=str(args.images),
        base_weights=str(pack / base["file"]),
        base_sha256=base["sha256"],
        out=str(pack),
        steps=args.steps,
        seed=args.seed,
        n=int(cfg_train["n"]),
        m=int(cfg_train["m"]),
        lmbda=float(base["lambda"]),
        beta=args.beta,
        crop=int(cfg_train["crop"]),
        batch=int(cfg_train["batch"]),
        lr_g=args.lr_g,
        lr_d=args.lr_d,
        threads=args.threads,
        holdout=tuple(cfg_train["holdout"]),
        file_prefix=f"{cfg_train.get('name_prefix', DEMO_FILE_PREFIX)}-gan-g_s-q{args.quality}",
        checkpoints=str(args.checkpoints or data_dir() / "train-generative" / pack.resolve().name),
    )

    def log(msg: str) -> None:
        print(f"train-generative: {msg}", file=sys.stderr, flush=True)

    result = train_generative(cfg, TaskContext(on_progress=StderrProgress()), resume=args.resume, log=log)
    # Read again: the pack's own training may have finished meanwhile.
    record = json.loads((pack / "training.json").read_text(encoding="utf-8"))
    written = write_pack_manifest(
        pack, record, codec.get("id", DEMO_CODEC_ID),
        str(manifest.get("pack", {}).get("name", DEMO_PACK_NAME)),
    )
    log(f"manifest written: {written}")
    if args.json:
        print_json(result)
    else:
        r = result["result"]
        print(f"decoder {result['decoder_file']} ({result['decoder_size']} bytes), {r['steps']} steps, {r['wall_s']} s")
        print(f"held-out before: {r['heldout_before']}")
        print(f"held-out after:  {r['heldout_after']}")
    return 0
