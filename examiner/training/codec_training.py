"""Training the project's own small learned codecs (CompressAI mean-scale hyperprior).

The bundled demonstration pack is produced by this module, so anybody can re-run it and check
what the weights are. The schedule is a shared *base* stage at one lambda followed by a
*fine-tune* stage per lambda that starts from the base weights: on a CPU this gives three usable
rate points for little more than the cost of one model trained from scratch.

Determinism: one seed fixes the weight initialisation, the crop/flip sequence and the additive
quantisation noise; the checkpoint stores every random-generator state, so a run interrupted and
resumed with ``resume=True`` continues exactly where it stopped. Bit-identical results also
need the same torch version and thread count, which are recorded.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from examiner.codecs.demo_pack import DEMO_FILE_PREFIX
from examiner.codecs.weights import sha256_file
from examiner.core.tasks import TaskContext
from examiner.errors import ExaminerError

# Training reads lossless sources only (no evidence is involved): a lossy source would teach the
# codec its artefacts.
LOSSLESS_TRAINING_SUFFIXES = (".png", ".ppm", ".bmp", ".tif", ".tiff")
DEFAULT_HOLDOUT = ("kodim19", "kodim20", "kodim21", "kodim22", "kodim23", "kodim24")
ARCHITECTURE = "mbt2018-mean"  # CompressAI's MeanScaleHyperprior (Minnen et al. 2018, no context model)


@dataclass
class TrainConfig:
    images: str
    out: str
    lambdas: tuple[float, ...]
    # Fine-tune steps per lambda: one number for all, or one per lambda. 0 (only for the base
    # lambda) ships the base stage's weights for that quality as they are.
    steps: int | tuple[int, ...]
    base_steps: int  # shared stage; 0 trains every lambda from scratch for ``steps``
    base_lambda: float
    seed: int = 0
    # Horizon of the base stage's cosine learning-rate schedule (0: base_steps). Setting it above
    # base_steps stops the base stage early on the schedule of a longer run, which is how a run
    # can be shortened on resume and still be reproduced exactly by one fresh command.
    base_schedule_steps: int = 0
    n: int = 64
    m: int = 96
    crop: int = 128
    batch: int = 8
    lr: float = 5e-4
    finetune_lr: float = 2e-4
    aux_lr: float = 1e-3
    clip_norm: float = 1.0
    threads: int = 1
    checkpoint_every: int = 200
    log_every: int = 50
    holdout: tuple[str, ...] = DEFAULT_HOLDOUT
    name_prefix: str = DEMO_FILE_PREFIX
    checkpoints: str = ""

    def stages(self) -> list[tuple[str, float, int, float, int]]:
        """(stage name, lambda, steps, peak learning rate, schedule horizon), in training order."""
        out: list[tuple[str, float, int, float, int]] = []
        if self.base_steps > 0:
            horizon = max(self.base_steps, self.base_schedule_steps)
            out.append(("base", self.base_lambda, self.base_steps, self.lr, horizon))
        for i, lmbda in enumerate(self.lambdas, start=1):
            lr = self.finetune_lr if self.base_steps > 0 else self.lr
            n = self.steps_for(i)
            out.append((f"q{i}", lmbda, n, lr, n))
        return out

    def steps_for(self, quality: int) -> int:
        if isinstance(self.steps, int):
            return self.steps
        if len(self.steps) != len(self.lambdas):
            raise ExaminerError(f"give one step count or one per lambda ({len(self.lambdas)}), not {len(self.steps)}")
        return int(self.steps[quality - 1])

    def validate(self) -> None:
        for i, lmbda in enumerate(self.lambdas, start=1):
            n = self.steps_for(i)
            if n < 0 or (n == 0 and (self.base_steps <= 0 or lmbda != self.base_lambda)):
                raise ExaminerError(
                    f"quality {i}: 0 fine-tune steps only for the base lambda ({self.base_lambda}) after a base stage; "
                    "other step counts must be positive"
                )


@dataclass
class StageResult:
    stage: str
    lmbda: float
    steps: int
    wall_s: float
    final_loss: float | None  # None: no steps of its own (the base weights)
    heldout: dict[str, float] = field(default_factory=dict)


LogFn = Callable[[str], None]


def _torch() -> Any:
    import torch

    return torch


def build_model(n: int, m: int) -> Any:
    from compressai.models import MeanScaleHyperprior

    return MeanScaleHyperprior(N=n, M=m)


def parameter_count(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def list_images(folder: Path, holdout: Sequence[str]) -> tuple[list[Path], list[Path]]:
    """Training and held-out image files of ``folder``, sorted by name."""
    if not folder.is_dir():
        raise ExaminerError(f"{folder}: not a folder of training images")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in LOSSLESS_TRAINING_SUFFIXES)
    held = set(holdout)
    train = [p for p in files if p.stem not in held]
    test = [p for p in files if p.stem in held]
    if not train:
        raise ExaminerError(f"{folder}: no training images ({', '.join(LOSSLESS_TRAINING_SUFFIXES)}) outside the held-out set")
    return train, test


def load_rgb(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except (OSError, UnidentifiedImageError) as exc:
        raise ExaminerError(f"{path}: cannot be read as an image ({exc})") from exc


def to_tensor(img: np.ndarray) -> Any:
    torch = _torch()
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float().div(255.0)


class CropSampler:
    """Random crops with horizontal/vertical flips, driven by one seeded generator."""

    def __init__(self, images: list[Any], crop: int, batch: int, seed: int) -> None:
        torch = _torch()
        for t in images:
            if t.shape[1] < crop or t.shape[2] < crop:
                raise ExaminerError(f"training images must be at least {crop}x{crop} pixels")
        self.images = images
        self.crop = crop
        self.batch = batch
        self.generator = torch.Generator().manual_seed(seed)

    def sample(self) -> Any:
        torch = _torch()
        g = self.generator
        out = []
        for _ in range(self.batch):
            img = self.images[int(torch.randint(len(self.images), (1,), generator=g))]
            _, h, w = img.shape
            y = int(torch.randint(h - self.crop + 1, (1,), generator=g))
            x = int(torch.randint(w - self.crop + 1, (1,), generator=g))
            patch = img[:, y : y + self.crop, x : x + self.crop]
            flips = torch.randint(2, (2,), generator=g)
            if int(flips[0]):
                patch = patch.flip(2)
            if int(flips[1]):
                patch = patch.flip(1)
            out.append(patch)
        return torch.stack(out)


def rd_loss(out: dict[str, Any], x: Any, lmbda: float) -> tuple[Any, Any, Any]:
    """CompressAI's rate-distortion loss: lambda * 255^2 * MSE + bpp."""
    torch = _torch()
    n, _, h, w = x.shape
    num_pixels = n * h * w
    bpp = sum(torch.log(lik).sum() for lik in out["likelihoods"].values()) / (-math.log(2) * num_pixels)
    mse = torch.mean((out["x_hat"] - x) ** 2)
    return lmbda * 255.0**2 * mse + bpp, bpp, mse


def _split_parameters(model: Any) -> tuple[list[Any], list[Any]]:
    main = [p for n, p in model.named_parameters() if not n.endswith(".quantiles") and p.requires_grad]
    aux = [p for n, p in model.named_parameters() if n.endswith(".quantiles") and p.requires_grad]
    return main, aux


def _cosine_lr(peak: float, step: int, total: int, warmup: int = 100, floor: float = 0.05) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def evaluate_estimate(model: Any, images: list[Any], lmbda: float) -> dict[str, float]:
    """Held-out bpp (from the likelihoods, not real bytes) and PSNR with rounding quantisation.

    The real-bitstream figures come from the codec engine; this is the training-time view.
    """
    torch = _torch()
    import torch.nn.functional as F
    from compressai.ops import compute_padding

    model.eval()
    bpps, psnrs = [], []
    with torch.no_grad():
        for img in images:
            x = img.unsqueeze(0)
            h, w = x.shape[2:]
            pad, unpad = compute_padding(h, w, min_div=64)  # centred, as the codec engine pads
            out = model(F.pad(x, pad))
            x_hat = F.pad(out["x_hat"], unpad).clamp(0, 1)
            bpp = sum(torch.log(lik).sum() for lik in out["likelihoods"].values()) / (-math.log(2) * h * w)
            mse = torch.mean((torch.round(x_hat * 255) / 255 - x) ** 2).item()
            bpps.append(float(bpp))
            psnrs.append(10 * math.log10(1.0 / max(mse, 1e-12)))
    model.train()
    return {"bpp_estimate": float(np.mean(bpps)), "psnr": float(np.mean(psnrs))}


def weight_file_name(cfg: TrainConfig, quality: int, sha256: str = "") -> str:
    """``<prefix>-mbt2018-mean-N<n>-M<m>-q<quality>[-<8 hex of SHA-256>].safetensors``.

    The final files carry their hash prefix, like CompressAI's published files, so that a file
    taken out of the pack can still be checked (``--weights FILE``).
    """
    tail = f"-{sha256[:8]}" if sha256 else ""
    return f"{cfg.name_prefix}-{ARCHITECTURE}-N{cfg.n}-M{cfg.m}-q{quality}{tail}.safetensors"


def write_hashed_safetensors(state: dict[str, Any], folder: Path, stem: str, content: str) -> Path:
    """Write ``state`` as ``<stem>-<8 hex of its SHA-256>.safetensors`` in ``folder``; earlier
    files of the same stem go. The hash prefix in the name, as in CompressAI's published files,
    lets a file taken out of its pack still be checked (``--weights FILE``)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{stem}*.safetensors"):
        old.unlink()
    plain = folder / f"{stem}.safetensors"
    tmp = plain.with_suffix(".tmp")
    tensors = {k: v.detach().contiguous().clone() for k, v in state.items()}
    # One metadata entry only: safetensors writes the metadata map in hash order, so several
    # entries could come out in another order on another run and change the file's SHA-256.
    save_file(tensors, str(tmp), metadata={"content": content})
    tmp.chmod(0o644)
    tmp.replace(plain)
    final = folder / f"{stem}-{sha256_file(plain)[:8]}.safetensors"
    plain.replace(final)
    return final


def _exported(cfg: TrainConfig, out: Path, quality: int) -> list[Path]:
    return sorted(out.glob(weight_file_name(cfg, quality).replace(".safetensors", "-*.safetensors")))


def _export_weights(cfg: TrainConfig, out: Path, quality: int, model: Any) -> Path:
    """Write the final weights of one quality, named with their hash prefix (older ones go)."""
    return write_hashed_safetensors(
        model.state_dict(), out, weight_file_name(cfg, quality).removesuffix(".safetensors"),
        f"{ARCHITECTURE} demonstration codec weights, not a published model",
    )


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    torch = _torch()
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # a crash mid-write never leaves a half checkpoint


def load_checkpoint(path: Path) -> dict[str, Any]:
    torch = _torch()
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is the same user problem
        raise ExaminerError(f"{path}: checkpoint cannot be loaded ({exc}); delete it to restart") from exc


def run_state(sampler: CropSampler, step: int, wall_s: float, **parts: Any) -> dict[str, Any]:
    """A checkpoint payload: the state of each named module or optimiser, and what a resumed run
    needs to continue exactly as an uninterrupted one (both random streams, the step, the time)."""
    torch = _torch()
    return {
        **{name: part.state_dict() for name, part in parts.items()},
        "sampler_rng": sampler.generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "step": step,
        "wall_s": wall_s,
    }


def restore_run_state(payload: dict[str, Any], sampler: CropSampler, **parts: Any) -> tuple[int, float]:
    """Load a :func:`run_state` payload into the named parts; returns (step, wall seconds)."""
    torch = _torch()
    for name, part in parts.items():
        part.load_state_dict(payload[name])
    sampler.generator.set_state(payload["sampler_rng"])
    torch.set_rng_state(payload["torch_rng"])
    return int(payload["step"]), float(payload["wall_s"])


# ``lambdas`` may change on resume because each fine-tune stage starts from the base weights
# with its own seed: a stage whose lambda changed is trained again, the others are kept, and the
# result is what one fresh run with the new lambdas gives.
_SCHEDULE_KEYS = ("base_steps", "base_schedule_steps", "steps", "lambdas", "checkpoint_every", "log_every")


def _schedule(cfg_json: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: cfg_json.get(k, 0) for k in _SCHEDULE_KEYS}
    out["base_schedule_steps"] = max(int(out["base_steps"]), int(out["base_schedule_steps"]))
    return out


def _check_resumable(previous: dict[str, Any], cfg: TrainConfig, where: Path) -> None:
    """Resuming may change step counts and fine-tune lambdas (checked stage by stage), nothing else."""
    current = json.loads(json.dumps(asdict(cfg)))
    current.pop("checkpoints")
    fixed = {k for k in set(previous) | set(current) if k not in _SCHEDULE_KEYS}
    differ = sorted(k for k in fixed if previous.get(k) != current.get(k))
    if differ:
        raise ExaminerError(
            f"{where}: the checkpoints were made with other settings ({', '.join(differ)}); use a new --out or delete them"
        )
    if previous.get("base_steps", 0) and _schedule(previous)["base_schedule_steps"] != _schedule(current)["base_schedule_steps"]:
        raise ExaminerError(
            f"{where}: the base stage's learning-rate schedule cannot change on resume; "
            f"pass --base-schedule-steps {_schedule(previous)['base_schedule_steps']}"
        )


def default_checkpoint_dir(out: Path) -> Path:
    from examiner.core.settings import data_dir

    return data_dir() / "train-codec" / out.resolve().name


def train(cfg: TrainConfig, ctx: TaskContext, resume: bool = False, log: LogFn | None = None) -> dict[str, Any]:
    """Run every stage of ``cfg``; returns the training record also written to ``training.json``."""
    torch = _torch()
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        return _train(cfg, ctx, resume, log)
    finally:
        # Training pins threads and determinism; the rest of the process gets its settings back.
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _train(cfg: TrainConfig, ctx: TaskContext, resume: bool, log: LogFn | None) -> dict[str, Any]:
    torch = _torch()
    cfg.validate()
    log = log or (lambda _msg: None)
    out = Path(cfg.out)
    ckdir = Path(cfg.checkpoints) if cfg.checkpoints else default_checkpoint_dir(out)
    ckdir.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    cfg_file = ckdir / "config.json"
    cfg_json = json.loads(json.dumps(asdict(cfg)))  # tuples as lists, as they come back from disk
    cfg_json.pop("checkpoints")
    history_file = ckdir / "schedule_changes.json"
    changes: list[dict[str, Any]] = []
    if cfg_file.exists():
        previous = json.loads(cfg_file.read_text(encoding="utf-8"))
        if resume:
            _check_resumable(previous, cfg, cfg_file)
            if history_file.exists():
                changes = json.loads(history_file.read_text(encoding="utf-8"))
            if _schedule(previous) != _schedule(cfg_json):
                changes.append({"from": _schedule(previous), "to": _schedule(cfg_json)})
        else:
            for p in ckdir.glob("*.pt"):
                p.unlink()
    history_file.write_text(json.dumps(changes, indent=2), encoding="utf-8")
    cfg_file.write_text(json.dumps(cfg_json, indent=2), encoding="utf-8")

    torch.set_num_threads(cfg.threads)
    torch.use_deterministic_algorithms(True)
    train_files, test_files = list_images(Path(cfg.images), cfg.holdout)
    train_imgs = [to_tensor(load_rgb(p)) for p in train_files]
    test_imgs = [to_tensor(load_rgb(p)) for p in test_files]
    log(f"training images: {len(train_imgs)}, held out: {len(test_imgs)}")

    stages = cfg.stages()
    total_steps = sum(s[2] for s in stages)
    done_before = 0
    results: list[StageResult] = []
    base_state: dict[str, Any] | None = None
    for index, (stage, lmbda, steps, peak_lr, horizon) in enumerate(stages):
        final_path = ckdir / f"{stage}.final.pt"
        ck_path = ckdir / f"{stage}.pt"
        if resume and final_path.exists():
            payload = load_checkpoint(final_path)
            if stage != "base" and float(payload["result"]["lmbda"]) != lmbda:
                log(f"stage {stage}: finished with lambda {payload['result']['lmbda']}, now {lmbda}: trained again")
                final_path.unlink()
                ck_path.unlink(missing_ok=True)
        if resume and final_path.exists():
            if int(payload["result"]["steps"]) != steps:
                raise ExaminerError(
                    f"{final_path}: stage {stage} was completed with {payload['result']['steps']} steps, not {steps}"
                )
            results.append(StageResult(**payload["result"]))
            if stage == "base":
                base_state = payload["model"]
            elif not _exported(cfg, out, int(stage[1:])):
                model = build_model(cfg.n, cfg.m)
                model.load_state_dict(payload["model"])
                _export_weights(cfg, out, int(stage[1:]), model)
            done_before += steps
            log(f"stage {stage}: already complete")
            continue
        stage_seed = cfg.seed * 1000 + index
        torch.manual_seed(stage_seed)
        model = build_model(cfg.n, cfg.m)
        if base_state is not None:
            model.load_state_dict(base_state)
        model.train()
        main_params, aux_params = _split_parameters(model)
        opt = torch.optim.Adam(main_params, lr=peak_lr)
        aux_opt = torch.optim.Adam(aux_params, lr=cfg.aux_lr)
        sampler = CropSampler(train_imgs, cfg.crop, cfg.batch, stage_seed)
        start_step, wall_before = 0, 0.0
        if resume and ck_path.exists():
            payload = load_checkpoint(ck_path)
            if float(payload.get("lmbda", lmbda)) != lmbda:
                raise ExaminerError(f"{ck_path}: stage {stage} was begun with lambda {payload['lmbda']}; delete it to restart the stage")
            start_step, wall_before = restore_run_state(payload, sampler, model=model, opt=opt, aux_opt=aux_opt)
            if start_step > steps or int(payload.get("schedule_steps", horizon)) != horizon:
                raise ExaminerError(f"{ck_path}: stage {stage} cannot continue with {steps} steps (checkpoint at {start_step})")
            log(f"stage {stage}: resumed at step {start_step}")
        t0 = time.monotonic()
        loss_value: float | None = None
        window: list[tuple[float, float, float]] = []
        for step in range(start_step, steps):
            ctx.progress(done_before + step, total_steps, f"{stage} step {step}/{steps}")
            for group in opt.param_groups:
                group["lr"] = _cosine_lr(peak_lr, step, horizon)
            x = sampler.sample()
            out_ = model(x)
            loss, bpp, mse = rd_loss(out_, x, lmbda)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.clip_norm > 0:
                torch.nn.utils.clip_grad_norm_(main_params, cfg.clip_norm)
            opt.step()
            aux_loss = model.aux_loss()
            aux_opt.zero_grad(set_to_none=True)
            aux_loss.backward()
            aux_opt.step()
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                raise ExaminerError(f"stage {stage}: the loss diverged at step {step}; lower --lr")
            window.append((loss_value, bpp.item(), mse.item()))
            done = step + 1
            if done % cfg.log_every == 0 or done == steps:
                arr = np.array(window)
                wall = wall_before + time.monotonic() - t0
                psnr = 10 * math.log10(1.0 / max(arr[:, 2].mean(), 1e-12))
                log(
                    f"{stage} step {done}/{steps} loss {arr[:, 0].mean():.4f} bpp {arr[:, 1].mean():.3f} "
                    f"psnr {psnr:.2f} aux {aux_loss.item():.1f} lr {opt.param_groups[0]['lr']:.2e} "
                    f"{(time.monotonic() - t0) / (done - start_step):.3f} s/step, {wall:.0f} s"
                )
                window.clear()
            if done % cfg.checkpoint_every == 0 and done < steps:
                wall_now = wall_before + time.monotonic() - t0
                state_now = run_state(sampler, done, wall_now, model=model, opt=opt, aux_opt=aux_opt)
                save_checkpoint(ck_path, {**state_now, "schedule_steps": horizon, "lmbda": lmbda})
        wall = wall_before + time.monotonic() - t0
        model.update(force=True)
        heldout = evaluate_estimate(model, test_imgs, lmbda) if test_imgs else {}
        result = StageResult(stage, lmbda, steps, round(wall, 1), loss_value, heldout)
        log(f"stage {stage} done in {wall:.0f} s; held-out {heldout}")
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if stage == "base":
            base_state = state
        else:
            _export_weights(cfg, out, int(stage[1:]), model)
        save_checkpoint(final_path, {"model": state, "result": asdict(result)})
        if ck_path.exists():
            ck_path.unlink()
        results.append(result)
        done_before += steps

    ctx.progress(total_steps, total_steps, "done")
    import compressai

    weights = []
    for r in results:
        if r.stage == "base":
            continue
        quality = int(r.stage[1:])
        found = _exported(cfg, out, quality)
        if len(found) != 1:
            raise ExaminerError(f"{out}: expected one weight file for quality {quality}, found {len(found)}")
        f = found[0]
        weights.append({"quality": quality, "lambda": r.lmbda, "file": f.name, "sha256": sha256_file(f), "size": f.stat().st_size})
    record = {
        "architecture": ARCHITECTURE,
        "weights": weights,
        "config": cfg_json,
        "train_images": [p.name for p in train_files],
        "heldout_images": [p.name for p in test_files],
        "parameters": parameter_count(build_model(cfg.n, cfg.m)),
        "stages": [asdict(r) for r in results],
        "wall_s_total": round(sum(r.wall_s for r in results), 1),
        "schedule_changes_on_resume": changes,
        "versions": {"torch": str(torch.__version__), "compressai": compressai.__version__},
    }
    (out / "training.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record
