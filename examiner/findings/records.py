"""Typed finding records: one frozen dataclass per finding kind, with a schema version.

A record is what a finding's ``data`` column holds. It is written as a flat JSON object: the
record's fields, ``"schema": N``, and every key the record type does not know (``extra``), kept
untouched so a newer analysis can add facts without an older reader losing them. Loading goes
through :mod:`examiner.findings.schema`, which migrates older records first.

Only the fields a reader relies on are typed; nested result tables (spectral features, JPEG
evidence, identification candidates, proposals) stay JSON objects, and their own modules say
what is in them.
"""

from __future__ import annotations

import dataclasses
import math
import types
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, Union, get_args, get_origin, get_type_hints

from examiner.errors import CaseError

SCHEMA_KEY = "schema"

_SIMPLE = {str: (str,), int: (int,), float: (int, float), bool: (bool,), dict: (dict,), list: (list,)}


def _accepts(annotation: Any, value: Any) -> bool:
    if value is None:
        return type(None) in get_args(annotation) or annotation is Any
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(_accepts(a, value) for a in get_args(annotation) if a is not type(None))
    base = origin or annotation
    if base is Any:
        return True
    allowed = _SIMPLE.get(base)
    if allowed is None:
        return True
    if base in (int, float) and isinstance(value, bool):
        return False
    return isinstance(value, allowed)


@dataclass(frozen=True)
class FindingRecord:
    """Base of the typed records; subclasses set ``KIND`` and ``SCHEMA``."""

    KIND: ClassVar[str] = ""
    SCHEMA: ClassVar[int] = 1

    extra: dict[str, Any] = field(default_factory=dict, kw_only=True)

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        for f in dataclasses.fields(self):
            if f.name != "extra":
                out[f.name] = getattr(self, f.name)
        out[SCHEMA_KEY] = self.SCHEMA
        return out

    @classmethod
    def from_payload(cls, payload: dict[str, Any], where: str = "") -> Self:
        """Build from a payload already at this ``SCHEMA``; a field of the wrong type is refused
        with its name, never passed on to a reader that would fail later and less clearly."""
        hints = get_type_hints(cls)
        known: dict[str, Any] = {}
        names = {f.name for f in dataclasses.fields(cls) if f.name != "extra"}
        for name in names:
            if name in payload:
                value = payload[name]
                if not _accepts(hints[name], value):
                    raise CaseError(
                        f"{where or cls.KIND + ' finding'}: field {name!r} holds {type(value).__name__}, "
                        f"not {hints[name]}"
                    )
                known[name] = value
        missing = [
            f.name for f in dataclasses.fields(cls)
            if f.name in names and f.name not in known
            and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        if missing:
            raise CaseError(f"{where or cls.KIND + ' finding'}: missing field(s) {', '.join(missing)}")
        extra = {k: v for k, v in payload.items() if k not in names and k != SCHEMA_KEY}
        return cls(**known, extra=extra)


def finite_or_none(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class DetectionRecord(FindingRecord):
    """Neural-compression trace detection of one evidence item."""

    KIND: ClassVar[str] = "detection"
    SCHEMA: ClassVar[int] = 2

    verdict: str
    score: float | None
    explanation: str
    model_version: str = ""
    spectral: dict[str, Any] = field(default_factory=dict)
    jpeg: dict[str, Any] = field(default_factory=dict)
    error_rates: dict[str, Any] = field(default_factory=dict)
    candidates: list[Any] | None = None
    identification: dict[str, Any] | None = None
    tile_map_cell: int | None = None
    method_module: str = ""
    path: str | None = None
    # Detector v3: the calibrated likelihood ratio, its 90 % bootstrap interval and its ENFSI
    # verbal equivalent; why a result is inconclusive; which model file gave it.
    lr: float | None = None
    lr_interval_90: list[Any] | None = None
    log10_lr: float | None = None
    verbal_scale: str = ""
    out_of_domain: str | None = None  # why the input lies outside the validated domain
    inconclusive_reason: str | None = None
    model_sha256: str = ""
    # Where the trace is: boxes of flagged windows, the localisation model file and its measured
    # rates (analysis.localise.summary). Absent in records made before localisation was shown;
    # an optional field, so records of schema 2 without it still load unchanged.
    localisation: dict[str, Any] | None = None


@dataclass(frozen=True)
class RecompressionRecord(FindingRecord):
    """One codec run on the evidence: what reproduces it, and how close the output is."""

    KIND: ClassVar[str] = "recompression"
    SCHEMA: ClassVar[int] = 2

    codec: str
    quality: int
    bpp: float | None = None
    device: str = ""
    bitstream_bytes: int | None = None
    bitstream_sha256: str | None = None
    pixels_sha256: str | None = None
    encode_s: float | None = None
    decode_s: float | None = None
    versions: dict[str, Any] = field(default_factory=dict)
    weights_sha256: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    tiled: bool = False
    tiles: dict[str, Any] | None = None
    shape: list[Any] | None = None
    dtype: str | None = None
    notes: list[Any] = field(default_factory=list)
    psnr: float | None = None  # dB against the pixels the codec was given; None when identical
    ms_ssim: float | None = None
    identical: bool = False
    rate_match: dict[str, Any] | None = None
    purpose: str = ""


@dataclass(frozen=True)
class VariabilityRecord(FindingRecord):
    """A stochastic decoder's seed-variability map of one evidence item."""

    KIND: ClassVar[str] = "variability"
    SCHEMA: ClassVar[int] = 2

    codec: str
    quality: int
    seeds: list[Any] = field(default_factory=list)
    steps: int | None = None
    device: str = ""
    threshold_levels: float | None = None
    std_max: float | None = None
    std_mean: float | None = None
    std_p99: float | None = None
    invented_fraction: float | None = None
    stable_fraction: float | None = None
    map_full_scale_levels: float | None = None
    decodes_sha256: list[Any] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, Any] = field(default_factory=dict)
    weights_sha256: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SymbolCheckRecord(FindingRecord):
    """One run of one assisted symbol check (OCR or object comparison) with its proposals."""

    KIND: ClassVar[str] = "symbols"
    SCHEMA: ClassVar[int] = 2

    check: str
    available: bool = True
    message: str = ""
    seconds: float | None = None
    proposals: list[Any] = field(default_factory=list)
    method: dict[str, Any] = field(default_factory=dict)
    comparison: str = ""
    method_module: str = ""


@dataclass(frozen=True)
class ScreeningRecord(FindingRecord):
    """Where an evidence item came from when a case was made from a screening row: the results
    file, the row, the state of its log, and the row's detection."""

    KIND: ClassVar[str] = "screening"
    SCHEMA: ClassVar[int] = 2

    results_file: str
    row: int
    log_head: str | None = None
    log_intact: bool = False
    outcome: str = ""
    verdict: str | None = None
    score: float | None = None
    lr: float | None = None
    verbal_scale: str | None = None
    model_version: str | None = None
    tool_version: str | None = None
    worker: str | None = None
    analysed_utc: str | None = None
    detection: dict[str, Any] | None = None


@dataclass(frozen=True)
class OtherRecord(FindingRecord):
    """A finding of a kind this build has no type for: its data, untyped, as stored."""

    KIND: ClassVar[str] = ""
    SCHEMA: ClassVar[int] = 1

    kind: str = ""


RECORD_TYPES: dict[str, type[FindingRecord]] = {
    cls.KIND: cls
    for cls in (DetectionRecord, RecompressionRecord, VariabilityRecord, SymbolCheckRecord, ScreeningRecord)
}
