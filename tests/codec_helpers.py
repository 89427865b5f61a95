"""Generated images and tiny CompressAI models for the codec tests."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np


def photo_like(height: int, width: int, seed: int = 0, grey: bool = False) -> np.ndarray:
    """Smooth gradients, hard-edged shapes and mild noise: something codecs treat like a photo."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 128 + 90 * np.sin(x / 37.0) * np.cos(y / 53.0)
    g = 128 + 80 * np.cos((x + y) / 61.0)
    b = 100 + 0.25 * (x % 97) + 0.2 * (y % 89)
    img = np.stack([r, g, b], axis=2)
    for _ in range(6):
        cy, cx = rng.integers(0, height), rng.integers(0, width)
        rad = rng.integers(8, max(9, min(height, width) // 5))
        mask = (y - cy) ** 2 + (x - cx) ** 2 < rad**2
        img[mask] = rng.integers(0, 256, size=3)
    img += rng.normal(0, 4, size=img.shape)
    out = np.clip(img, 0, 255).astype(np.uint8)
    return out.mean(axis=2).astype(np.uint8) if grey else out


def save_state_dict(model: object, folder: Path, stem: str, tamper_prefix: bool = False) -> Path:
    """Save ``model``'s state dict under ``<stem>-<8 hex of its SHA-256>.pth.tar``."""
    import torch

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)  # type: ignore[attr-defined]
    data = buf.getvalue()
    prefix = hashlib.sha256(data).hexdigest()[:8]
    if tamper_prefix:
        prefix = ("0" if prefix[0] != "0" else "1") + prefix[1:]
    path = folder / f"{stem}-{prefix}.pth.tar"
    path.write_bytes(data)
    return path


def tiny_hyperprior(seed: int = 0) -> object:
    import torch
    from compressai.models import ScaleHyperprior

    torch.manual_seed(seed)
    model = ScaleHyperprior(16, 24)
    model.update(force=True)
    return model


def cancelled_at_progress_call(n: int) -> Any:
    """A task context that cancels itself on its ``n``-th progress call (an interrupted run)."""
    from examiner.core.tasks import TaskContext

    ctx = TaskContext()
    calls = [0]

    def count(_p: object) -> None:
        calls[0] += 1
        if calls[0] == n:
            ctx.cancel.cancel()

    ctx.on_progress = count
    return ctx
