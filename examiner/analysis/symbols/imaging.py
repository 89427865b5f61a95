"""Small image helpers shared by the symbol checks (numpy in, numpy out)."""

from __future__ import annotations

import cv2
import numpy as np

from examiner.errors import ExaminerError


def to_gray_u8(image: np.ndarray) -> np.ndarray:
    """Grey ``uint8`` from an ``H x W``, ``H x W x 3`` or ``H x W x 4`` array (8 or 16 bit)."""
    a = np.asarray(image)
    if a.dtype == np.uint16:
        a = (a.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    elif a.dtype != np.uint8:
        raise ExaminerError(f"symbol checks need 8- or 16-bit pixels, got {a.dtype}")
    if a.ndim == 2:
        return np.ascontiguousarray(a)
    if a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    if a.ndim == 3 and a.shape[2] == 3:
        return cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY)
    if a.ndim == 3 and a.shape[2] == 1:
        return np.ascontiguousarray(a[:, :, 0])
    raise ExaminerError(f"symbol checks need a grey or RGB image, got shape {a.shape}")


def to_rgb_u8(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image)
    if a.dtype == np.uint16:
        a = (a.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    if a.ndim == 2:
        return cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_GRAY2RGB)
    if a.ndim == 3 and a.shape[2] == 4:
        return np.ascontiguousarray(a[:, :, :3])
    return np.ascontiguousarray(a)


def check_same_size(evidence: np.ndarray, comparison: np.ndarray) -> None:
    if evidence.shape[:2] != comparison.shape[:2]:
        eh, ew = evidence.shape[:2]
        ch, cw = comparison.shape[:2]
        raise ExaminerError(
            f"the comparison image is {cw}x{ch} pixels but the evidence is {ew}x{eh}; "
            "symbol checks compare pixel-aligned images of the same size"
        )
