"""Seed variability of a stochastic decoder as an examination step."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from examiner.codecs.api import RunOptions
from examiner.core.case import Case
from examiner.core.json_values import finding_json
from examiner.core.png import encode_png
from examiner.core.settings import Settings
from examiner.core.tasks import TaskContext, silent
from examiner.errors import ExaminerError
from examiner.findings import artefacts as names
from examiner.findings.records import VariabilityRecord
from examiner.findings.schema import TypedFinding, add_record


@dataclass
class VariabilityOutcome:
    record: VariabilityRecord
    map8: np.ndarray  # H x W uint8: per-pixel standard deviation across seeds, scaled
    png: bytes  # the map as stored (and as written by --out)


def compute_variability(
    ctx: TaskContext,
    pixels: np.ndarray,
    codec_id: str,
    quality: int | None,
    seeds: int,
    options: RunOptions | None = None,
    threshold: float | None = None,
    settings: Settings | None = None,
) -> VariabilityOutcome:
    """Decode the same bitstream with ``seeds`` noise seeds and map where the decodes disagree:
    detail there is invented by the decoder, not carried by the bits."""
    from examiner.analysis.variability import INVENTED_THRESHOLD, seed_variability
    from examiner.codecs.registry import get_codec

    options = options or RunOptions()
    codec = get_codec(codec_id, settings)
    if not codec.info.stochastic:
        raise ExaminerError(
            f"codec {codec_id!r} decodes deterministically; a seed-variability map needs a stochastic decoder"
        )
    q = int(quality) if quality is not None else int(codec.info.qualities[0])
    if q not in codec.info.qualities:
        raise ExaminerError(f"codec {codec_id!r} has no quality {q}")
    if options.weights is None:
        ok, why = codec.available()
        if not ok:
            raise ExaminerError(f"codec {codec_id!r} cannot run here: {why}")
    # The manifest's parameter defaults under the caller's overrides, as a codec run gets them:
    # the engine is bypassed here (one encode, many decodes), so they are merged here.
    options = replace(options, params={**dict(codec.info.extra.get("params", {})), **dict(options.params)})
    limit = INVENTED_THRESHOLD if threshold is None else float(threshold)
    result = seed_variability(codec, pixels, q, options, seeds, ctx, limit)
    summary = result.summary()
    full_scale = max(float(summary["std_max"]), limit)
    map8 = result.map_uint8(full_scale)
    params = dict(summary.get("params") or {})
    weights = params.get("weights_sha256")
    if isinstance(weights, str):
        # The engine reports the checkpoint's digest alone; key it like a codec run does.
        weights = {"checkpoint": weights}
    payload = finding_json({
        **summary,
        "codec": codec_id,
        "quality": q,
        "device": options.device,
        "map_full_scale_levels": full_scale,
        "weights_sha256": weights or {},
    })
    return VariabilityOutcome(VariabilityRecord.from_payload(payload), map8, encode_png(map8))


def record_variability(case: Case, evidence_id: int, outcome: VariabilityOutcome) -> TypedFinding:
    return add_record(case, evidence_id, outcome.record, {names.VARIABILITY_MAP: outcome.png})


def variability(
    case: Case,
    evidence_id: int,
    codec_id: str,
    quality: int | None,
    seeds: int,
    options: RunOptions | None = None,
    threshold: float | None = None,
    ctx: TaskContext | None = None,
    settings: Settings | None = None,
) -> tuple[TypedFinding, VariabilityOutcome]:
    """Map the seed variability of the case's (hash-checked) evidence and record the finding."""
    pixels = case.load_evidence(evidence_id).pixels
    outcome = compute_variability(ctx or silent(), pixels, codec_id, quality, seeds, options, threshold, settings)
    return record_variability(case, evidence_id, outcome), outcome
