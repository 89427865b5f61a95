"""The one lossless PNG encoder of the program.

Every PNG the program makes (case artefacts, ``--out`` files, exercise items) goes through here,
so the same pixels always give the same bytes, and so the same SHA-256, whichever front end ran
the step. OpenCV is used for every form because it writes 16-bit RGB, which Pillow cannot.
"""

from __future__ import annotations

import numpy as np

from examiner.errors import ExaminerError

# zlib level 6: the libpng default; a fixed level keeps the bytes (and hashes) reproducible.
COMPRESSION_LEVEL = 6


def encode_png(pixels: np.ndarray) -> bytes:
    """Lossless PNG of an ``H x W`` (grey) or ``H x W x 3|4`` (RGB[A]) array of uint8 or uint16."""
    import cv2

    arr = np.asarray(pixels)
    if arr.dtype not in (np.uint8, np.uint16):
        raise ExaminerError(f"a PNG holds 8- or 16-bit samples, not {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        # OpenCV stores BGR(A); reverse the colour channels so the file reads back as RGB(A).
        order = [2, 1, 0] if arr.shape[2] == 3 else [2, 1, 0, 3]
        arr = arr[:, :, order]
    elif arr.ndim != 2:
        raise ExaminerError(f"cannot store an array of shape {arr.shape} as PNG")
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(arr), [cv2.IMWRITE_PNG_COMPRESSION, COMPRESSION_LEVEL])
    if not ok:
        raise ExaminerError(f"could not encode a {arr.shape} {arr.dtype} PNG")
    return buf.tobytes()
