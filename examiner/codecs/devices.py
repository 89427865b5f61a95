"""The one device policy: which device a codec run uses.

``auto`` means CUDA when the codec declares it (``devices`` in its manifest) and torch sees a
CUDA device, else the CPU; ``cuda`` is refused with a reason when either is missing. Every path
that runs a model (the engine, and the generative codecs' encode-once/decode-many entry points,
which bypass the engine) resolves through here, so a codec never runs on a device its manifest
does not name.
"""

from __future__ import annotations

from examiner.codecs.api import CodecInfo
from examiner.errors import CodecError

DEVICES = ("auto", "cpu", "cuda")


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return bool(torch.cuda.is_available())


def resolve_device(requested: str | None, info: CodecInfo) -> str:
    """``cpu`` or ``cuda``: CUDA only when asked for or on ``auto``, and only when torch sees it."""
    want = (requested or "auto").lower()
    if want not in DEVICES:
        raise CodecError(f"device must be auto, cpu or cuda, not {requested!r}")
    if want == "cpu":
        return "cpu"
    supports_cuda = "cuda" in info.devices
    if want == "cuda":
        if not supports_cuda:
            raise CodecError(f"codec {info.id!r} runs on the CPU only")
        if not cuda_available():
            raise CodecError("CUDA was requested, but torch sees no CUDA device on this machine")
        return "cuda"
    return "cuda" if supports_cuda and cuda_available() else "cpu"
