"""A small CNN on high-pass residual patches, trained on the CPU, with makes and families held out.

    python bench/residual_cnn.py DATA OUT --cache                         # once: cut the patches
    python bench/residual_cnn.py DATA OUT --fold 0 [--steps 20000]      # train (resumes), then score
    python bench/residual_cnn.py DATA OUT --fold 0 --score-only
    python bench/residual_cnn.py DATA OUT --evaluate                      # the folds' held-out rates

One route of detector v4's research, for the families the spectral features miss (Cool-chic,
JPEG AI, PerCo): a fixed "pixel minus its 3x3 mean" first layer (content suppressed, as in the
spectral analysis), four convolutions, global pooling; about 60,000 parameters. Patches of 96
pixels are cut at random offsets, so the position of a JPEG grid carries no label; every codec
family and every negative group is sampled equally often.

The patches are cut once (``OUT/patches.npy``, 8 a picture, uint8, memory-mapped; ``--cache``)
because decoding a 3-megapixel PNG for every patch would dominate training.

Folds hold out a group of camera makes and a group of codec families together, so every image is
scored by a model that saw neither its make nor its family (``FOLDS``). Each fold trains in
``OUT/fold<k>/``: a checkpoint every 200 steps (``ckpt.pt``, this script's own file, read back
with ``torch.load(weights_only=True)``), resumed on the next run; at the end the held-out images'
scores (mean logit over its 8 patches) go to ``scores.json``, for the same decision rule as
``examiner evaluate-detector --real``.
"""

from __future__ import annotations

import argparse
import json
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from examiner.analysis import lofo

PATCH = 96
FOLDS: list[tuple[set[str], set[str]]] = [
    ({"canon"}, {"coolchic"}),
    ({"nikon", "sony", "samsung"}, {"perco-sd", "jpegai-0.12bpp", "jpegai-0.50bpp", "jpegai-1.00bpp"}),
    ({"panasonic", "olympus", "pentax"}, {"msillm", "mric", "swint-charm", "checkerboard"}),
    ({"kodak", "fujifilm"}, {"examiner-demo", "examiner-demo-gan"}),
]


class ResidualNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        box = torch.full((3, 1, 3, 3), -1.0 / 9.0)
        box[:, :, 1, 1] += 1.0
        self.highpass = nn.Conv2d(3, 3, 3, padding=1, groups=3, bias=False)
        self.highpass.weight.data.copy_(box)
        self.highpass.weight.requires_grad_(False)
        layers: list[nn.Module] = []
        for cin, cout, stride in ((3, 16, 1), (16, 32, 2), (32, 64, 2), (64, 64, 2)):
            layers += [nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(64, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.highpass(x) * 8.0).mean(dim=(2, 3))).squeeze(1)


def _make(it: lofo.Item) -> str | None:
    return it.family[len("camera-"):] if it.family.startswith("camera-") else None


def split(items: list[lofo.Item], fold: int) -> tuple[list[lofo.Item], list[lofo.Item]]:
    makes, families = FOLDS[fold]
    held_sources = {it.source for it in items if _make(it) in makes}
    test = [it for it in items if (it.label == 0 and _make(it) in makes) or (it.label == 1 and it.family in families)]
    train = [it for it in items if it.source not in held_sources and not (it.label == 1 and it.family in families)]
    return train, test


PER_IMAGE = 8


def build_cache(data: Path, out: Path) -> None:
    """Eight patches of every image at offsets fixed by a hash of its name."""
    root = data / "images"
    items = [it for it in lofo.load_items(root) if it.family != "camera-like"]
    out.mkdir(parents=True, exist_ok=True)
    arr = np.lib.format.open_memmap(out / "patches.tmp.npy", mode="w+", dtype=np.uint8,
                                    shape=(len(items), PER_IMAGE, PATCH, PATCH, 3))
    for i, it in enumerate(items):
        img = np.asarray(Image.open(root / it.rel).convert("RGB"))
        h, w = img.shape[:2]
        rng = np.random.default_rng(zlib.crc32(it.rel.encode()))
        for k in range(PER_IMAGE):
            y, x = int(rng.integers(0, h - PATCH + 1)), int(rng.integers(0, w - PATCH + 1))
            arr[i, k] = img[y:y + PATCH, x:x + PATCH]
        if (i + 1) % 500 == 0:
            print(f"patches: {i + 1}/{len(items)}", flush=True)
    arr.flush()
    del arr
    (out / "patches.tmp.npy").replace(out / "patches.npy")
    (out / "patches.json").write_text(json.dumps([it.rel for it in items]))


def _load_cache(out: Path) -> tuple[np.ndarray, dict[str, int]]:
    rels = json.loads((out / "patches.json").read_text())
    return np.load(out / "patches.npy", mmap_mode="r"), {r: i for i, r in enumerate(rels)}


def _tensor(patches: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(patches, dtype=np.float32).transpose(0, 3, 1, 2) / 255.0)


def train(data: Path, out: Path, fold: int, steps: int, batch: int = 32) -> ResidualNet:
    items = [it for it in lofo.load_items(data / "images") if it.family != "camera-like"]
    cache, row = _load_cache(out.parent)
    tr, _ = split(items, fold)
    groups: dict[tuple[int, str], list[lofo.Item]] = {}
    for it in tr:
        groups.setdefault((it.label, it.family), []).append(it)
    keys = sorted(groups)
    torch.manual_seed(fold)
    net = ResidualNet()
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=1e-3)
    ckpt, step = out / "ckpt.pt", 0
    if ckpt.is_file():
        state = torch.load(ckpt, weights_only=True)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        step = int(state["step"])
    rng = np.random.default_rng(1000 * fold + step)
    loss_fn = nn.BCEWithLogitsLoss()
    net.train()
    while step < steps:
        picks = [groups[keys[int(rng.integers(len(keys)))]] for _ in range(batch)]
        its = [g[int(rng.integers(len(g)))] for g in picks]
        x = _tensor(np.stack([cache[row[it.rel], int(rng.integers(PER_IMAGE))] for it in its]))
        y = torch.tensor([float(it.label) for it in its])
        loss = loss_fn(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 200 == 0 or step == steps:
            tmp = ckpt.with_suffix(".tmp")
            torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step}, tmp)
            tmp.replace(ckpt)
            print(f"fold {fold} step {step} loss {loss.item():.3f}", flush=True)
    return net


def score(data: Path, out: Path, fold: int, net: ResidualNet) -> None:
    items = [it for it in lofo.load_items(data / "images") if it.family != "camera-like"]
    cache, row = _load_cache(out.parent)
    _, test = split(items, fold)
    net.eval()
    scores: dict[str, float] = {}
    with torch.no_grad():
        for it in test:
            scores[it.rel] = float(net(_tensor(cache[row[it.rel]])).mean())
    (out / "scores.json").write_text(json.dumps(scores))
    print(f"fold {fold}: {len(scores)} held-out images scored", flush=True)


def evaluate(data: Path, out: Path) -> None:
    """The held-out scores of every fold pooled: the threshold at which at most 1 % of the camera
    images of held-out makes score above it, and each family's share found at that threshold.
    The folds' scores are on scales of their own, so this is a research figure, not a calibrated
    likelihood ratio."""
    from examiner.analysis.error_rates import fpr_upper_bound

    items = {it.rel: it for it in lofo.load_items(data / "images")}
    scores: dict[str, float] = {}
    for k in range(len(FOLDS)):
        f = out / f"fold{k}" / "scores.json"
        if f.is_file():
            scores.update(json.loads(f.read_text()))
    cam = sorted(((v, r) for r, v in scores.items() if items[r].label == 0), reverse=True)
    allowed = int(0.01 * len(cam))
    threshold = cam[allowed][0] + 1e-6 if cam else float("inf")
    hits = [r for v, r in cam if v >= threshold]
    print(f"camera images of held-out makes: {len(hits)}/{len(cam)} above the threshold "
          f"(95% upper bound {100 * fpr_upper_bound(len(hits), len(cam)):.1f}%)")
    fams: dict[str, list[bool]] = {}
    for r, v in scores.items():
        if items[r].label == 1:
            fams.setdefault(items[r].family, []).append(v >= threshold)
    for fam, found in sorted(fams.items()):
        print(f"  {fam:<20} found {sum(found)}/{len(found)} ({sum(found) / len(found):.2f})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--fold", type=int, choices=range(len(FOLDS)))
    ap.add_argument("--cache", action="store_true", help="cut the patches (once, before any fold)")
    ap.add_argument("--evaluate", action="store_true", help="pool the folds' held-out scores and print the rates")
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--score-only", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.cache:
        build_cache(args.data, args.out)
        return 0
    if args.evaluate:
        evaluate(args.data, args.out)
        return 0
    if args.fold is None:
        ap.error("--fold is needed (or --cache)")
    out = args.out / f"fold{args.fold}"
    out.mkdir(parents=True, exist_ok=True)
    if args.score_only:
        net = ResidualNet()
        net.load_state_dict(torch.load(out / "ckpt.pt", weights_only=True)["net"])
    else:
        net = train(args.data, out, args.fold, args.steps)
    score(args.data, out, args.fold, net)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
