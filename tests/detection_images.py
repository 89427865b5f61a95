"""Generated images for the detection tests: natural-looking content, a decoder-like output
(stride-2 transposed convolutions with a fixed kernel) and JPEG versions. Nothing is read from disk."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image


def natural(height: int = 384, width: int = 384, seed: int = 0) -> np.ndarray:
    """1/f-spectrum texture with a few edges and sensor-like noise: statistics close to a photo."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    amp = 1.0 / np.maximum(np.hypot(fy, fx), 1.0 / max(height, width)) ** 1.1
    chans = []
    for _ in range(3):
        phase = np.exp(2j * np.pi * rng.random((height, width)))
        f = np.real(np.fft.ifft2(amp * phase))
        chans.append((f - f.mean()) / (f.std() + 1e-9))
    mix = np.array([[1.0, 0.3, 0.1], [0.9, 0.35, 0.0], [0.8, 0.3, -0.2]])
    img = np.einsum("ij,jhw->hwi", mix, np.stack(chans)) * 38 + 120
    for _ in range(6):  # a few hard-edged objects
        x0, y0 = rng.integers(0, width - 40), rng.integers(0, height - 40)
        w, h = rng.integers(20, 120), rng.integers(20, 120)
        img[y0 : y0 + h, x0 : x0 + w] += rng.normal(0, 40, 3)
    img += rng.normal(0, 1.5, img.shape)
    return np.clip(img, 0, 255).round().astype(np.uint8)


def _transposed_conv2x(x: np.ndarray, kernel: np.ndarray, bias: float) -> np.ndarray:
    """Stride-2 transposed convolution of each channel: zero insertion, then the kernel."""
    h, w, c = x.shape
    up = np.zeros((2 * h, 2 * w, c), np.float32)
    up[::2, ::2] = x
    out = cv2.filter2D(up, -1, kernel[::-1, ::-1].astype(np.float32), borderType=cv2.BORDER_REFLECT)
    return out + bias


def decoder_output(height: int = 384, width: int = 384, seed: int = 0, layers: int = 2) -> np.ndarray:
    """What a learned decoder's up-sampling leaves: content synthesised at 1/2^layers scale and
    brought up by stride-2 transposed convolutions whose 4x4 kernel (an interpolator plus a
    fixed random perturbation, as after training) overlaps unevenly."""
    rng = np.random.default_rng(1000 + seed)
    f = 2**layers
    x = natural(height // f, width // f, seed).astype(np.float32)
    base = np.outer([0.25, 0.75, 0.75, 0.25], [0.25, 0.75, 0.75, 0.25])
    for _ in range(layers):
        kernel = base * (1.0 + 0.25 * rng.standard_normal(base.shape))
        x = _transposed_conv2x(x, kernel, bias=float(rng.normal(0, 1.0)))
        x = np.maximum(x, 0.05 * x)  # leaky non-linearity between layers
    x = x[:height, :width]
    x = (x - x.mean()) / (x.std() + 1e-9) * 45 + 120
    return np.clip(x, 0, 255).round().astype(np.uint8)


def jpeg_bytes(img: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg_bytes(img, quality))).convert("RGB"))


def png_bytes(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG")
    return buf.getvalue()
