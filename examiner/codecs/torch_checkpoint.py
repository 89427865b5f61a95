"""Opening a PyTorch checkpoint that a user points at, safely.

The file is hashed first (the hash goes into every record), then read with
``torch.load(weights_only=True)``, which refuses any pickle that would import or call code.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path
from typing import Any

from examiner.errors import WeightsError


def load_checkpoint(path: str | Path, expected_sha256: str | None = None) -> tuple[Any, str]:
    """Return ``(object, sha256)``; every failure is a :class:`WeightsError` naming the file."""
    import torch

    p = Path(path)
    if not p.is_file():
        raise WeightsError(f"{p}: weight file not found")
    try:
        # Hash and unpickle the very same bytes, so the file cannot change in between.
        data = p.read_bytes()
    except OSError as exc:
        raise WeightsError(f"{p}: cannot read weight file ({exc.strerror or exc})") from exc
    sha = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and not sha.startswith(expected_sha256.lower()):
        raise WeightsError(f"{p}: SHA-256 {sha} does not match the expected {expected_sha256}")
    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise WeightsError(
            f"{p}: refused to load: the checkpoint would run code when unpickled "
            f"(only plain tensors and containers are accepted) [{str(exc).splitlines()[0][:200]}]"
        ) from exc
    except (RuntimeError, EOFError, OSError, ValueError, AttributeError, KeyError) as exc:
        raise WeightsError(f"{p}: not a readable PyTorch checkpoint ({type(exc).__name__}: {exc})") from exc
    return obj, sha
