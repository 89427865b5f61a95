"""Find the quality at which a codec's bit rate is closest to a target, on real encodes.

Bits per pixel grow with quality for every shipped codec, though not strictly (JPEG's
quantisation tables make small bumps). Bisection over the quality list brackets the target with
real encodes; the bracketing qualities and their neighbours are then compared directly, which
absorbs such bumps. The taxonomy work uses it to compare a neural output with JPEG at the
quality whose bpp matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from examiner.codecs import engine
from examiner.codecs import weights as weight_store
from examiner.codecs.api import Codec, CodecFamily, Reconstruction, RunOptions
from examiner.core.settings import Settings
from examiner.core.tasks import TaskContext
from examiner.errors import CodecError


@dataclass
class RateMatch:
    codec_id: str
    target_bpp: float
    quality: int
    bpp: float
    evaluations: dict[int, float] = field(default_factory=dict)  # quality -> bpp, in quality order
    reconstruction: Reconstruction | None = None

    @property
    def error(self) -> float:
        return abs(self.bpp - self.target_bpp)

    def to_record(self) -> dict[str, object]:
        return {
            "codec": self.codec_id,
            "target_bpp": self.target_bpp,
            "quality": self.quality,
            "bpp": self.bpp,
            "abs_error_bpp": self.error,
            "encodes": len(self.evaluations),
            "evaluated": {str(q): b for q, b in sorted(self.evaluations.items())},
        }


def candidate_qualities(codec: Codec, options: RunOptions) -> list[int]:
    """Qualities worth trying: for codecs with weight files, only those installed."""
    info = codec.info
    qualities = list(info.qualities)
    if info.family is CodecFamily.NEURAL and info.extra.get("weights") and options.weights is None:
        qualities = weight_store.installed_qualities(info)
        if not qualities:
            raise CodecError(f"codec {info.id!r} has no weight files installed")
    return qualities


def match_rate(
    codec: Codec | str,
    image: np.ndarray,
    target_bpp: float,
    options: RunOptions | None = None,
    ctx: TaskContext | None = None,
    settings: Settings | None = None,
) -> RateMatch:
    if isinstance(codec, str):
        from examiner.codecs.registry import get_codec

        codec = get_codec(codec, settings)
    if not (target_bpp > 0 and np.isfinite(target_bpp)):
        raise CodecError(f"the target bit rate must be a positive number of bits per pixel, not {target_bpp}")
    options = options or RunOptions()
    ctx = ctx or TaskContext()
    qualities = candidate_qualities(codec, options)
    n = len(qualities)
    # log2(n) bisection steps plus up to four neighbour checks.
    budget = max(1, n.bit_length() + 4)
    rates: dict[int, float] = {}
    # Only the run closest to the target so far keeps its pixels: memory stays at one image.
    kept: dict[str, Reconstruction] = {}

    def bpp_at(index: int) -> float:
        q = qualities[index]
        if q not in rates:
            step = len(rates)
            ctx.progress(step, budget, f"{codec.info.id}: quality {q}")
            rec = engine.run(codec, image, q, replace(options), ctx.sub(step, step + 1, budget), settings)
            if rec.bpp is None:
                raise CodecError(f"codec {codec.info.id!r} reports no bit rate, so rates cannot be matched")
            rates[q] = rec.bpp
            best = kept.get("best")
            if best is None or abs(rec.bpp - target_bpp) < abs((best.bpp or 0.0) - target_bpp):
                kept["best"] = rec
        return rates[q]

    lo, hi = 0, n - 1
    if bpp_at(hi) <= target_bpp:
        lo = hi
    elif bpp_at(lo) >= target_bpp:
        hi = lo
    else:
        while hi - lo > 1:  # invariant: bpp(lo) < target <= bpp(hi)
            mid = (lo + hi) // 2
            if bpp_at(mid) < target_bpp:
                lo = mid
            else:
                hi = mid
    candidates = {i for i in (lo - 1, lo, hi, hi + 1) if 0 <= i < n}
    best = min(sorted(candidates), key=lambda i: (abs(bpp_at(i) - target_bpp), i))
    q_best = qualities[best]
    rec = kept["best"]
    if rec.quality != q_best:  # a tie kept another quality's pixels: run the winner again
        rec = engine.run(codec, image, q_best, replace(options), ctx, settings)
    ctx.progress(budget, budget, f"{codec.info.id}: quality {q_best}")
    return RateMatch(
        codec_id=codec.info.id,
        target_bpp=target_bpp,
        quality=q_best,
        bpp=float(rates[q_best]),
        evaluations=dict(sorted(rates.items())),
        reconstruction=rec,
    )
