"""HEIF and JPEG XL files the suite makes itself (pillow-heif writes HEIF, cjxl writes JPEG XL)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from imagegen import pattern
from PIL import Image


def heic_8bit(arr: np.ndarray, **kwargs: object) -> bytes:
    import pillow_heif

    buf = io.BytesIO()
    pillow_heif.from_pillow(Image.fromarray(arr)).save(buf, quality=92, **kwargs)
    return buf.getvalue()


def heic_10bit(values: np.ndarray) -> bytes:
    """A 10-bit HEIC of ``values`` (0..1023, HxWx3 uint16)."""
    import pillow_heif

    h, w = values.shape[:2]
    heif = pillow_heif.from_bytes(mode="RGB;16", size=(w, h), data=(values.astype(np.uint16) << 6).tobytes())
    buf = io.BytesIO()
    heif.save(buf, quality=95)  # 16-bit input is written as 10-bit HEVC
    return buf.getvalue()


def heif_multi(first: np.ndarray, second: np.ndarray, xmp: bytes | None = None) -> bytes:
    """Two top-level images, the second primary, each with a thumbnail."""
    import pillow_heif

    heif = pillow_heif.from_pillow(Image.fromarray(first))
    heif.add_from_pillow(Image.fromarray(second))
    for img in heif:
        img.info["thumbnails"] = [16]
    buf = io.BytesIO()
    heif.save(buf, quality=90, primary_index=1, **({"xmp": xmp} if xmp else {}))
    return buf.getvalue()


def needs_cjxl() -> None:
    if shutil.which("cjxl") is None or shutil.which("djxl") is None:
        pytest.skip("cjxl/djxl (Debian package libjxl-tools) are not installed")


def jxl_lossless(tmp: Path, arr: np.ndarray, container: bool = False, name: str = "src") -> bytes:
    """Mathematically lossless JPEG XL of ``arr`` (uint8 or uint16), written by cjxl."""
    import cv2

    needs_cjxl()
    src = tmp / f"{name}.png"
    out = tmp / f"{name}.jxl"
    bgr = arr[..., [2, 1, 0, 3][: arr.shape[2]]] if arr.ndim == 3 else arr  # OpenCV writes BGR(A)
    cv2.imwrite(str(src), np.ascontiguousarray(bgr))
    argv = ["cjxl", str(src), str(out), "-d", "0", "--quiet"] + (["--container=1"] if container else [])
    subprocess.run(argv, check=True, capture_output=True)
    return out.read_bytes()


def jxl_from_jpeg_pixels(tmp: Path, jpeg: bytes) -> bytes:
    """The decoded pixels of a JPEG (its EXIF orientation kept in the header), lossless in JPEG XL."""
    needs_cjxl()
    src = tmp / "src.jpg"
    out = tmp / "from-jpeg.jxl"
    src.write_bytes(jpeg)
    subprocess.run(["cjxl", str(src), str(out), "-j", "0", "-d", "0", "--quiet"], check=True, capture_output=True)
    return out.read_bytes()


def sample(h: int = 48, w: int = 64) -> np.ndarray:
    return pattern(h, w)
