"""Pixel conversions shared by the in-process generative codecs, matching their reference code.

The reference programs read PNGs as ``uint8 / 255`` in float32 and write PNGs the way
``torchvision.utils.save_image`` does: ``uint8(clamp(x * 255 + 0.5, 0, 255))``, optionally after
stretching the whole tensor to its own minimum and maximum (``normalize=True``). These helpers
reproduce those steps with the same float32 operations, so output bytes can match.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from examiner.errors import CodecError


def to_unit_tensor(image: np.ndarray) -> tuple[Tensor, list[str]]:
    """(1, 3, H, W) float32 in [0, 1] from an RGB or grey uint8/uint16 array, plus notes on any
    conversion made."""
    notes: list[str] = []
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
        notes.append("grey input replicated to three RGB channels")
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise CodecError(f"expected an H x W x 3 image, got shape {tuple(arr.shape)}")
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]
        notes.append("alpha channel dropped")
    if arr.dtype == np.uint8:
        t = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).float().div(255)
    elif arr.dtype == np.uint16:
        t = torch.from_numpy(np.ascontiguousarray(arr).astype(np.int32)).permute(2, 0, 1).float().div(65535)
        notes.append("16-bit input scaled to [0, 1] by 1/65535 (the reference reads 8-bit PNGs only)")
    else:
        raise CodecError(f"unsupported pixel type {arr.dtype}")
    return t.unsqueeze(0).contiguous(), notes


def save_image_uint8(x: Tensor, normalize: bool) -> np.ndarray:
    """H x W x 3 uint8 exactly as ``torchvision.utils.save_image`` writes a (1, 3, H, W) tensor."""
    img = x.detach().to("cpu", torch.float32).clone()[0]
    if normalize:
        low, high = float(img.min()), float(img.max())
        img.clamp_(min=low, max=high)
        img.sub_(low).div_(max(high - low, 1e-5))
    out = img.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8)
    return out.numpy()


def resolve_precision(requested: object, device: str) -> torch.dtype:
    """fp32 unless fp16 is asked for on CUDA (fp16 has not been shown to hold the conformance
    tolerances, so it is never chosen automatically)."""
    name = str(requested or "fp32").lower()
    if name in ("fp32", "float32"):
        return torch.float32
    if name in ("fp16", "float16", "half"):
        if not device.startswith("cuda"):
            raise CodecError("fp16 precision is only offered on CUDA devices")
        return torch.float16
    raise CodecError(f"unknown precision {requested!r} (use fp32 or fp16)")
