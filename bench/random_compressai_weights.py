"""A randomly initialised CompressAI model saved under an official-style weight-file name.

Benchmarks use it when no official weights are installed: the name carries the 8-hex SHA-256
prefix the weight store checks, so the file goes through exactly the examiner's normal path.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path


def write_random_weights(cls_name: str, args: tuple[int, ...], stem: str, folder: Path) -> Path:
    """Seeded (0) ``compressai.models.<cls_name>(*args)`` saved as ``<stem>-<8 hex>.pth.tar``."""
    import torch

    from examiner.codecs.compressai_models import import_compressai

    torch.manual_seed(0)
    model = getattr(import_compressai().models, cls_name)(*args)
    model.update(force=True)
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    data = buf.getvalue()
    path = folder / f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}.pth.tar"
    path.write_bytes(data)
    return path
