"""Task functions for the analysis panel: each wraps one core call so it runs in a worker.

Nothing here computes anything itself: detection, codecs, rate matching and the symbol checks
are the core's. These functions only choose the call, pass the :class:`TaskContext` through and
shape the result into the record the case stores, so the GUI and the CLI produce the same
findings.

The ``run_*`` functions are module-level and Qt-free so a worker *process* can run them (see
:meth:`examiner.gui.workers.JobManager.submit_process`); their results are plain picklable
data. Encoding the reconstruction as PNG happens here too, off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from examiner.core.tasks import TaskContext
from examiner.errors import ExaminerError


@dataclass
class DetectionOutcome:
    verdict: str
    score: float
    explanation: str
    record: dict[str, Any]
    spectrum: np.ndarray | None = None
    tile_map: np.ndarray | None = None  # per-tile score in [0, 1], rows x cols


@dataclass
class RecompressionOutcome:
    record: dict[str, Any]
    pixels: np.ndarray
    bitstream: bytes | None
    notes: list[str] = field(default_factory=list)
    png: bytes = b""  # the reconstruction as a lossless PNG, the artefact stored in the case


def _json_safe(value: Any) -> Any:
    """Plain JSON for the case file: numpy scalars and arrays become numbers and lists, NaN None."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist()) if value.size <= 4096 else f"<array {value.shape}>"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def run_detection(ctx: TaskContext, pixels: np.ndarray, path: str | None = None) -> DetectionOutcome:
    """Trace detection on the evidence pixels; ``path`` lets the detector read JPEG tables."""
    try:
        from examiner.analysis import detector
    except ImportError as exc:
        raise ExaminerError(f"trace detection is not available in this installation ({exc})") from None
    result = detector.detect_pixels(pixels, path, ctx=ctx)
    spec = result.spectral
    record = _json_safe(result.to_dict())
    record["tile_map_cell"] = int(spec.map_cell)
    return DetectionOutcome(
        verdict=str(result.verdict),
        score=float(result.score),
        explanation=str(result.explanation),
        record=record,
        spectrum=np.asarray(spec.spectrum_image),
        tile_map=np.asarray(spec.tile_map, dtype=np.float32),
    )


def detection_task(pixels: np.ndarray, path: str | None = None) -> Callable[[TaskContext], DetectionOutcome]:
    return lambda ctx: run_detection(ctx, pixels, path)


def normalised_tile_map(tile_map: np.ndarray) -> np.ndarray:
    """Per-tile strengths scaled to [0, 1] for the overlay (relative within this image)."""
    t = np.nan_to_num(tile_map.astype(np.float32))
    lo, hi = float(t.min()), float(t.max())
    return np.zeros_like(t) if hi <= lo else (t - lo) / (hi - lo)


def run_recompression(
    ctx: TaskContext,
    pixels: np.ndarray,
    codec_id: str,
    quality: int | None,
    target_bpp: float | None,
    device: str,
) -> RecompressionOutcome:
    """Re-compress at a quality, or at the quality whose real bit rate is closest to a target."""
    from examiner.codecs import engine
    from examiner.codecs.api import RunOptions
    from examiner.gui.session import png_bytes

    options = RunOptions(device=device)
    match: dict[str, Any] | None = None
    if quality is None:
        if target_bpp is None:
            raise ExaminerError("choose a quality or a target bpp")
        from examiner.codecs import rate_match

        m = rate_match.match_rate(codec_id, pixels, float(target_bpp), options, ctx)
        match = _json_safe(m.to_record())
        rec = m.reconstruction if m.reconstruction is not None else engine.run(codec_id, pixels, m.quality, options, ctx)
    else:
        rec = engine.run(codec_id, pixels, int(quality), options, ctx)
    record = _json_safe(rec.to_record())
    record["psnr"] = _json_safe(engine.psnr(pixels, rec.pixels))
    record["ms_ssim"] = _json_safe(engine.ms_ssim(pixels, rec.pixels))
    record["output_sha256"] = rec.pixels_sha256()
    if match is not None:
        record["rate_match"] = {"target_bpp": target_bpp, **match}
    return RecompressionOutcome(record, rec.pixels, rec.bitstream, list(rec.notes), png_bytes(rec.pixels))


def recompression_task(
    pixels: np.ndarray, codec_id: str, quality: int | None, target_bpp: float | None, device: str
) -> Callable[[TaskContext], RecompressionOutcome]:
    return lambda ctx: run_recompression(ctx, pixels, codec_id, quality, target_bpp, device)


def run_suggestions(ctx: TaskContext, evidence: np.ndarray, comparison: np.ndarray) -> list[Any]:
    """The symbol checks; returns their results (each with proposals, or why it could not run)."""
    from examiner.analysis import symbols

    return list(symbols.run_checks(evidence, comparison, ctx=ctx))


@dataclass
class VariabilityOutcome:
    record: dict[str, Any]
    map8: np.ndarray  # H x W uint8: per-pixel standard deviation across seeds, scaled
    png: bytes = b""


def run_variability(
    ctx: TaskContext, pixels: np.ndarray, codec_id: str, quality: int, seeds: int, device: str
) -> VariabilityOutcome:
    """Decode the same bitstream with ``seeds`` noise seeds (stochastic decoders) and map where
    the decodes disagree: detail there is invented by the decoder, not carried by the bits."""
    from examiner.analysis.variability import seed_variability
    from examiner.codecs.api import RunOptions
    from examiner.codecs.registry import get_codec
    from examiner.gui.session import png_bytes

    codec = get_codec(codec_id)
    if not codec.info.stochastic:
        raise ExaminerError(f"codec {codec_id!r} decodes deterministically; a seed-variability map needs a stochastic decoder")
    result = seed_variability(codec, pixels, int(quality), RunOptions(device=device), seeds, ctx)
    map8 = result.map_uint8()
    record = _json_safe({**result.summary(), "codec": codec_id, "quality": int(quality)})
    return VariabilityOutcome(record, map8, png_bytes(map8))


def build_demo(ctx: TaskContext) -> str:
    """Path of the demo case, built first when missing (a neural codec run: a worker process)."""
    from examiner.demo import ensure_demo_case

    return str(ensure_demo_case(ctx=ctx))
