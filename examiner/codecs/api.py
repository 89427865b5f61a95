"""The codec contract shared by every pack, the engine, the GUI and the report.

Images cross this boundary as numpy arrays, ``H x W x 3`` (RGB) or ``H x W`` (grey), dtype
``uint8`` or ``uint16``. A codec turns one into a :class:`Reconstruction`, which carries what a
court needs to reproduce the run: the real bitstream, the parameters, versions, device and
weight hashes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import numpy as np

from examiner.core.tasks import TaskContext
from examiner.errors import CodecError

# Everything a third-party pack adapter may use: adapters import this module and nothing else of
# the examiner package (checked when the adapter is loaded), so the engine can change behind it.
__all__ = [
    "Codec",
    "CodecError",
    "CodecFamily",
    "CodecInfo",
    "Reconstruction",
    "RunOptions",
    "TaskContext",
    "bits_per_pixel",
]


class CodecFamily(StrEnum):
    CLASSICAL = "classical"
    NEURAL = "neural"
    EXTERNAL = "external"


@dataclass(frozen=True)
class CodecInfo:
    """What a codec is, readable from its manifest without importing torch."""

    id: str
    name: str
    family: CodecFamily
    qualities: tuple[int, ...]
    citations: tuple[str, ...] = ()
    devices: tuple[str, ...] = ("cpu",)
    description: str = ""
    # A demonstration codec trained by this project, not a published model: reports say so.
    demonstration: bool = False
    stochastic: bool = False
    pack_dir: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunOptions:
    """Per-run choices beyond the quality level; all of them are recorded."""

    device: str = "auto"  # auto | cpu | cuda
    seed: int | None = None  # for stochastic decoders
    steps: int | None = None  # sampling steps for diffusion decoders
    weights: str | None = None  # explicit weight file, overriding the codec store
    tile_budget_pixels: int | None = None
    tile_overlap: int | None = None
    params: dict[str, Any] = field(default_factory=dict)  # codec-specific (e.g. jpeg subsampling)


@dataclass
class Reconstruction:
    codec_id: str
    quality: int
    pixels: np.ndarray
    bitstream: bytes | None
    bpp: float | None
    encode_s: float
    decode_s: float
    device: str
    versions: dict[str, str] = field(default_factory=dict)
    weights_sha256: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    tiled: bool = False
    tiles: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Plain strings only: torch's version object is a str subclass whose unpickling imports
        # torch, which would stall a GUI process receiving the result from a worker.
        self.versions = {str(k): str(v) for k, v in self.versions.items()}

    @property
    def bitstream_sha256(self) -> str | None:
        return None if self.bitstream is None else hashlib.sha256(self.bitstream).hexdigest()

    def pixels_sha256(self) -> str:
        return hashlib.sha256(np.ascontiguousarray(self.pixels).tobytes()).hexdigest()

    def to_record(self) -> dict[str, Any]:
        """Everything but the pixels and bitstream, as JSON-able data for the case file."""
        return {
            "codec": self.codec_id,
            "quality": self.quality,
            "bpp": self.bpp,
            "bitstream_bytes": None if self.bitstream is None else len(self.bitstream),
            "bitstream_sha256": self.bitstream_sha256,
            "encode_s": self.encode_s,
            "decode_s": self.decode_s,
            "device": self.device,
            "versions": dict(self.versions),
            "weights_sha256": dict(self.weights_sha256),
            "params": dict(self.params),
            "tiled": self.tiled,
            "tiles": self.tiles,
            "shape": list(self.pixels.shape),
            "dtype": str(self.pixels.dtype),
            "notes": list(self.notes),
        }


@runtime_checkable
class Codec(Protocol):
    """What an adapter module's ``create(info)`` returns."""

    info: CodecInfo

    def available(self) -> tuple[bool, str]:
        """Whether it can run here (weights installed, tool present), and why not."""
        ...

    def run(
        self, image: np.ndarray, quality: int, options: RunOptions, ctx: TaskContext
    ) -> Reconstruction:
        """Encode and decode ``image``; bpp comes from the real bitstream bytes."""
        ...


def bits_per_pixel(n_bytes: int, height: int, width: int) -> float:
    return 8.0 * n_bytes / float(height * width)
