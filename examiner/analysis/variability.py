"""Seed-variability map of a stochastic decoder: where does the decoder invent detail?

The image is encoded once; the same bitstream is then decoded with N noise seeds (default 8).
The per-pixel standard deviation across the decodes (in 8-bit levels, averaged over the colour
channels) is near zero where the bitstream pins the content down and large where the decoder
synthesises texture. Miscompressions that persist across seeds fall in the stable part; the
map shows both kinds of region.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from examiner.codecs.api import Codec, RunOptions
from examiner.core.tasks import TaskContext
from examiner.errors import CodecError

DEFAULT_SEEDS = 8
# A pixel whose decodes spread by more than this many 8-bit levels (standard deviation) counts
# as invented; below it, as stable.
INVENTED_THRESHOLD = 2.0

METHOD = {
    "name": "Seed-variability map of a stochastic decoder",
    "description": (
        "The image is encoded once and the same bitstream is decoded with several noise seeds. The "
        "per-pixel standard deviation across the decodes (8-bit levels, averaged over the colour "
        "channels) shows where the decoder invents detail (large spread) and where the bitstream "
        "fixes the content (no spread)."
    ),
    "parameters": {"seeds": DEFAULT_SEEDS, "invented_threshold_levels": INVENTED_THRESHOLD},
    "limitations": [
        "A stable region is not thereby faithful: a miscompression that every seed reproduces is stable.",
        "The spread depends on the number of sampling steps and on the seeds drawn.",
    ],
    "citations": ["yang2023cdc", "hofer2024taxonomy"],
    "version": "1",
}


@dataclass
class VariabilityResult:
    std_map: np.ndarray  # H x W float32, 8-bit levels
    mean_image: np.ndarray  # H x W x 3 float32
    seeds: list[int]
    steps: int | None
    threshold: float
    decodes_sha256: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def invented_mask(self) -> np.ndarray:
        return self.std_map > self.threshold

    def summary(self) -> dict[str, Any]:
        m = self.std_map
        return {
            "seeds": list(self.seeds),
            "steps": self.steps,
            "threshold_levels": self.threshold,
            "std_max": float(m.max()),
            "std_mean": float(m.mean()),
            "std_p99": float(np.percentile(m, 99)),
            "invented_fraction": float(self.invented_mask.mean()),
            "stable_fraction": float(1.0 - self.invented_mask.mean()),
            "decodes_sha256": list(self.decodes_sha256),
            "params": dict(self.params),
        }

    def map_uint8(self, full_scale: float | None = None) -> np.ndarray:
        """The map as an 8-bit grey image; ``full_scale`` levels of std map to white
        (default: the map's maximum, at least the threshold)."""
        top = full_scale if full_scale else max(float(self.std_map.max()), self.threshold)
        return np.clip(np.round(self.std_map / top * 255.0), 0, 255).astype(np.uint8)


def seed_list(seeds: int | Sequence[int], base: int = 0) -> list[int]:
    if isinstance(seeds, int):
        if seeds < 2:
            raise CodecError("a variability map needs at least 2 seeds")
        return [base + i for i in range(seeds)]
    out = [int(s) for s in seeds]
    if len(out) < 2 or len(set(out)) != len(out):
        raise CodecError("a variability map needs at least 2 different seeds")
    return out


def seed_variability(
    codec: Codec,
    image: np.ndarray,
    quality: int,
    options: RunOptions,
    seeds: int | Sequence[int] = DEFAULT_SEEDS,
    ctx: TaskContext | None = None,
    threshold: float = INVENTED_THRESHOLD,
) -> VariabilityResult:
    """Decode one bitstream of ``image`` with each seed and map the per-pixel spread."""
    import hashlib

    ctx = ctx or TaskContext()
    if not codec.info.stochastic:
        raise CodecError(f"codec {codec.info.id!r} decodes deterministically: a seed-variability map is flat")
    chosen = seed_list(seeds, base=options.seed or 0)
    n = len(chosen)
    decodes: list[np.ndarray] = []
    params: dict[str, Any] = {"codec": codec.info.id, "quality": quality}
    steps = options.steps
    compress = getattr(codec, "compress", None)
    decode = getattr(codec, "decode", None)
    if callable(compress) and callable(decode):
        # One bitstream, many decodes: the only variable is the seed.
        ctx.progress(0, n + 1, "encoding once")
        state = compress(image, quality, options)
        steps = steps or state["engine"].variant.default_steps
        gamma = float(options.params.get("gamma", 0.8))
        params.update(
            {
                "bitstream_sha256": hashlib.sha256(state["bitstream"]).hexdigest(),
                "bitstream_bytes": len(state["bitstream"]),
                "weights_sha256": state["sha"],
                "gamma": gamma,
            }
        )
        for k, seed in enumerate(chosen):
            pixels, _ = decode(state, seed, steps, gamma, ctx, (1 + k, 2 + k, n + 1))
            decodes.append(pixels)
    else:
        from dataclasses import replace

        for k, seed in enumerate(chosen):
            rec = codec.run(image, quality, replace(options, seed=seed), ctx.sub(k, k + 1, n))
            decodes.append(rec.pixels)
    stack = np.stack([d.astype(np.float32) for d in decodes])
    if stack.ndim == 3:
        stack = stack[..., None]
    std = stack.std(axis=0).mean(axis=-1).astype(np.float32)
    return VariabilityResult(
        std_map=std,
        mean_image=stack.mean(axis=0),
        seeds=chosen,
        steps=steps,
        threshold=threshold,
        decodes_sha256=[hashlib.sha256(np.ascontiguousarray(d).tobytes()).hexdigest() for d in decodes],
        params=params,
    )
