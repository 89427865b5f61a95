"""Re-compression by a codec as an examination step."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from examiner.codecs.api import RunOptions
from examiner.core.case import Case
from examiner.core.hashes import pixels_sha256
from examiner.core.json_values import finding_json
from examiner.core.png import encode_png
from examiner.core.settings import Settings
from examiner.core.tasks import TaskContext, silent
from examiner.errors import ExaminerError
from examiner.findings import artefacts as names
from examiner.findings.records import RecompressionRecord, finite_or_none
from examiner.findings.schema import TypedFinding, add_record


@dataclass
class RecompressionOutcome:
    record: RecompressionRecord
    pixels: np.ndarray
    bitstream: bytes | None
    png: bytes  # the reconstruction as stored (and as written by --out): one encoder, one hash
    notes: list[str] = field(default_factory=list)


def compute_recompression(
    ctx: TaskContext,
    pixels: np.ndarray,
    codec_id: str,
    quality: int | None,
    target_bpp: float | None = None,
    options: RunOptions | None = None,
    settings: Settings | None = None,
) -> RecompressionOutcome:
    """Re-compress at a quality, or at the quality whose real bit rate is closest to a target.
    PSNR and MS-SSIM are taken against the pixels the codec was given (after any conversion
    the codec needs), so a lossless codec scores as identical."""
    from examiner.codecs import engine
    from examiner.codecs.registry import get_codec

    options = options or RunOptions()
    codec = get_codec(codec_id, settings)
    match: dict[str, Any] | None = None
    if quality is None:
        if target_bpp is None:
            raise ExaminerError("choose a quality or a target bpp")
        from examiner.codecs import rate_match

        m = rate_match.match_rate(codec, pixels, float(target_bpp), options, ctx)
        match = {"target_bpp": float(target_bpp), **finding_json(m.to_record())}
        rec = m.reconstruction if m.reconstruction is not None else engine.run(
            codec, pixels, m.quality, options, ctx, settings
        )
    else:
        rec = engine.run(codec, pixels, int(quality), options, ctx, settings)
    reference, _ = engine.convert_for_codec(pixels, engine.accepted_forms(codec.info))
    psnr = engine.psnr(reference, rec.pixels)
    payload = finding_json(rec.to_record())
    payload.update(
        psnr=finite_or_none(psnr),
        ms_ssim=finding_json(engine.ms_ssim(reference, rec.pixels)),
        identical=bool(math.isinf(psnr)),
        pixels_sha256=pixels_sha256(rec.pixels),
        rate_match=match,
    )
    record = RecompressionRecord.from_payload(payload)
    return RecompressionOutcome(record, rec.pixels, rec.bitstream, encode_png(rec.pixels), list(rec.notes))


def record_recompression(case: Case, evidence_id: int, outcome: RecompressionOutcome) -> TypedFinding:
    stored: dict[str, bytes] = {names.RECONSTRUCTION: outcome.png}
    if outcome.bitstream is not None:
        stored[names.BITSTREAM] = outcome.bitstream
    return add_record(case, evidence_id, outcome.record, stored)


def recompress(
    case: Case,
    evidence_id: int,
    codec_id: str,
    quality: int | None,
    target_bpp: float | None = None,
    options: RunOptions | None = None,
    ctx: TaskContext | None = None,
    settings: Settings | None = None,
) -> tuple[TypedFinding, RecompressionOutcome]:
    """Re-compress the case's (hash-checked) evidence and record the finding."""
    pixels = case.load_evidence(evidence_id).pixels
    outcome = compute_recompression(ctx or silent(), pixels, codec_id, quality, target_bpp, options, settings)
    return record_recompression(case, evidence_id, outcome), outcome
