"""Evidence that an image went through JPEG, kept apart from neural-decoder traces.

JPEG's 8x8 blocks also leave structure at the frequencies k/8, which the neural trace analysis
looks at too. Three independent signs say whether JPEG is the explanation:

* the block grid in the pixels: steps across every 8th row and column are larger than inside
  the blocks, and where that grid sits (its offset) says whether the image was cropped after
  compression;
* the DCT domain: on the right grid, the 8x8 DCT coefficients of a decoded JPEG cluster at
  multiples of the quantisation steps (up to rounding noise), which never happens by chance;
* the container: a JPEG file carries its quantisation tables, from which a quality is estimated.

Neural traces do not depend on the grid phase; JPEG evidence does. An image can show both
(a neural output later saved as JPEG); the report then states both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import fft as sfft

from examiner.analysis.spectral import luma

# Low-frequency coefficients (row, col) used for the quantisation test: they hold enough
# energy in natural content for their histogram to be informative.
_DCT_COEFFS = ((0, 1), (1, 0), (1, 1), (0, 2), (2, 0), (1, 2), (2, 1), (2, 2))
_MAX_STEP = 40
_MAX_BLOCKS = 3000

METHOD: dict[str, Any] = {
    "name": "JPEG compression evidence",
    "version": "1",
    "description": (
        "Mean absolute luma steps per column and row phase modulo 8 give the 8x8 block grid's "
        "strength and offset; on that grid (or, when the steps are weak, on whichever of the 64 "
        "grid phases fits best) the 8x8 DCT coefficients are tested for clustering at multiples "
        "of a quantisation step; a JPEG file's quantisation tables give an IJG quality estimate."
    ),
    "parameters": {"DCT coefficients tested": len(_DCT_COEFFS), "largest step tested": _MAX_STEP,
                   "blocks sampled": _MAX_BLOCKS},
    "limitations": ["Quality 95 and above leaves steps of 1-2, which the DCT test may not see.",
                    "Resizing after compression destroys the grid evidence."],
    "citations": ["wallace1991jpeg"],
}


@dataclass
class JpegEvidence:
    container_jpeg: bool
    container_quality: float | None
    luma_table: list[int] | None
    grid_offset: tuple[int, int]  # (dx, dy) of the strongest 8x8 block grid
    grid_strength: float  # log ratio of boundary steps to in-block steps at that offset
    dct_quant_score: float  # 0..1, clustering of DCT coefficients at multiples of a step
    phase_margin: float  # best grid phase's clustering minus the median over all 64 phases
    dct_steps: dict[str, int] = field(default_factory=dict)
    compressed: bool = False
    aligned: bool = False
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["grid_offset"] = list(self.grid_offset)
        return d


def container_tables(path: str | Path | None) -> tuple[bool, float | None, list[int] | None]:
    """(is a JPEG file, estimated IJG quality, luminance table in natural order) from the file,
    which is only read."""
    if path is None:
        return False, None, None
    from examiner.core.safe_files import open_regular
    from examiner.errors import EvidenceError

    try:
        with open_regular(Path(path)) as fh:
            data = fh.read()
    except (OSError, EvidenceError):
        return False, None, None
    if not data.startswith(b"\xff\xd8"):
        return False, None, None
    from examiner.core.jpeg_structure import parse_jpeg

    try:
        info = parse_jpeg(data)
    except Exception:  # noqa: BLE001 - a damaged container still counts as JPEG, without tables
        return True, None, None
    tables = info.get("quant_tables") or []
    if not tables:
        return True, None, None
    quality = info.get("quality_estimate")
    return True, None if quality is None else float(quality), [int(v) for v in tables[0]["values"]]


def table_deviation(luma_table: list[int] | None) -> float:
    """log(1 + mean absolute difference) between a luminance table and its best IJG scaling;
    0 without a table."""
    if not luma_table or len(luma_table) != 64:
        return 0.0
    from examiner.core.jpeg_structure import estimate_ijg_quality

    return float(np.log1p(estimate_ijg_quality(luma_table, chroma=False)["mean_abs_error"]))


def block_grid(luma: np.ndarray) -> tuple[tuple[int, int], float]:
    """Offset and strength of the 8x8 block grid from mean absolute steps per phase."""
    y = luma.astype(np.float32)
    dx = np.abs(np.diff(y, axis=1)).mean(axis=0)  # step between column i and i+1
    dy = np.abs(np.diff(y, axis=0)).mean(axis=1)
    strengths = []
    offsets = []
    for d in (dx, dy):
        n = len(d) // 8 * 8
        if n < 16:
            strengths.append(0.0)
            offsets.append(0)
            continue
        phase = d[:n].reshape(-1, 8).mean(axis=0)
        k = int(np.argmax(phase))
        others = np.delete(phase, k)
        strengths.append(float(np.log((phase[k] + 1e-6) / (np.median(others) + 1e-6))))
        # A step after column k means blocks start at column k + 1.
        offsets.append((k + 1) % 8)
    return (offsets[0], offsets[1]), float(min(strengths))


def dct_quantisation(
    luma: np.ndarray, offset: tuple[int, int], max_blocks: int = _MAX_BLOCKS,
    coeffs_used: tuple[tuple[int, int], ...] = _DCT_COEFFS,
) -> tuple[float, dict[str, int]]:
    """How strongly the 8x8 DCT coefficients on the given grid sit at multiples of a step."""
    dx, dy = offset
    y = luma[dy:, dx:]
    h, w = y.shape[0] // 8 * 8, y.shape[1] // 8 * 8
    if h < 8 or w < 8:
        return 0.0, {}
    # Splitting each axis into (blocks, 8) is a view; only the sampled blocks are copied.
    grid = y[:h, :w].reshape(h // 8, 8, w // 8, 8)
    step = max(1, int(np.ceil(np.sqrt((h // 8) * (w // 8) / max_blocks))))
    blocks = grid[::step, :, ::step, :].transpose(0, 2, 1, 3).reshape(-1, 8, 8).astype(np.float64) - 128.0
    coeffs = sfft.dctn(blocks, type=2, norm="ortho", axes=(1, 2))
    # Flat blocks (saturated sky, clipped) give zero coefficients whatever the step: ignore them.
    busy = np.abs(coeffs[:, 1:, 1:]).sum(axis=(1, 2)) > 8.0
    if busy.sum() < 32:
        return 0.0, {}
    coeffs = coeffs[busy]
    scores, steps = [], {}
    for (u, v) in coeffs_used:
        c = coeffs[:, u, v]
        c = c[np.abs(c) > 0.75]  # zeros say nothing about the step
        if len(c) < 32:
            continue
        # A step larger than the typical coefficient would "fit" any smooth, narrow
        # distribution; nonzero JPEG coefficients are at least one step from zero, so the true
        # step is never above their mean magnitude.
        qs = np.arange(2, min(_MAX_STEP, int(np.mean(np.abs(c)))) + 1)
        if len(qs) == 0:
            continue
        s = np.cos((2 * np.pi) * c[:, None] / qs[None, :]).mean(axis=0)
        best = float(s.max())
        # The true step and its divisors score alike; take the largest step near the best.
        q_hat = int(qs[np.nonzero(s >= best - 0.1 * abs(best))[0].max()])
        scores.append(best)
        steps[f"{u}{v}"] = q_hat
    if not scores:
        return 0.0, {}
    return float(np.clip(np.median(scores), 0.0, 1.0)), steps


def analyse(image: np.ndarray, path: str | Path | None = None) -> JpegEvidence:
    y = luma(image)
    is_jpeg, quality, table = container_tables(path)
    offset, strength = block_grid(y)
    # Decoded JPEG is quantised in the DCT domain on exactly one of the 64 grid phases. Every
    # phase is tried on a sample of blocks: content with its own periodic structure (a neural
    # decoder's output, for one) can score at many phases, a JPEG grid only at its own, so the
    # best phase must stand out from the rest.
    trial = {(ox, oy): dct_quantisation(y, (ox, oy), max_blocks=400, coeffs_used=_DCT_COEFFS[:3])[0]
             for oy in range(8) for ox in range(8)}
    best = max(trial, key=lambda k: (trial[k], k == offset))
    margin = trial[best] - float(np.median(list(trial.values())))
    score, steps = dct_quantisation(y, best)
    if best != offset and trial.get(offset, 0.0) >= trial[best] - 0.02:
        best = offset  # a tie: the pixel block steps decide
        score, steps = dct_quantisation(y, best)
    offset = best
    compressed = bool(margin >= 0.1 and (score >= 0.3 or (strength >= 0.25 and score >= 0.15)))
    aligned = bool(compressed and offset == (0, 0))
    if compressed:
        where = "aligned with the image origin" if aligned else (
            f"offset by ({offset[0]}, {offset[1]}) pixels, so the image was cropped after JPEG compression")
        summary = (f"JPEG compression evidence: 8x8 DCT coefficients cluster at quantisation steps "
                   f"(score {score:.2f}), block grid {where}")
    else:
        summary = "no sign of JPEG compression in the pixels"
    if is_jpeg:
        summary += (f"; the file is a JPEG container (estimated quality {quality:.0f})" if quality
                    else "; the file is a JPEG container")
    return JpegEvidence(
        container_jpeg=is_jpeg, container_quality=quality, luma_table=table, grid_offset=offset,
        grid_strength=round(strength, 4), dct_quant_score=round(score, 4), phase_margin=round(margin, 4),
        dct_steps=steps,
        compressed=compressed, aligned=aligned, summary=summary,
    )
