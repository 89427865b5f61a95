"""Running a fully convolutional network tile by tile without changing its output.

Each tile is extended by a margin at least as wide as the network's receptive field, run on its
own, and only its core is kept. With convolutions and per-pixel normalisation only, the stitched
result equals the whole-image result (up to float summation order), while peak memory is bounded
by the tile size. Tile origins are multiples of ``align`` so strided layers keep their phase.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import torch
from torch import Tensor


@dataclass
class TilePlan:
    core: int
    margin: int
    align: int
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)  # (top, left, bottom, right)

    def to_record(self) -> dict[str, object]:
        return {"core": self.core, "margin": self.margin, "count": len(self.boxes)}


def plan_tiles(height: int, width: int, core: int, margin: int, align: int) -> TilePlan:
    if core % align or margin % align:
        raise ValueError("tile core and margin must be multiples of the alignment")
    plan = TilePlan(core, margin, align)
    for top in range(0, height, core):
        for left in range(0, width, core):
            plan.boxes.append((top, left, min(top + core, height), min(left + core, width)))
    return plan


def tiled_apply(
    fn: Callable[[Tensor], Tensor],
    x: Tensor,
    scale: Fraction,
    plan: TilePlan,
    on_tile: Callable[[int, int], None] | None = None,
) -> Tensor:
    """Apply ``fn`` (output size = input size x ``scale``) over ``x`` (1, C, H, W) tile by tile."""
    _, _, height, width = x.shape
    out: Tensor | None = None
    for n, (top, left, bottom, right) in enumerate(plan.boxes):
        t0, l0 = max(0, top - plan.margin), max(0, left - plan.margin)
        b0, r0 = min(height, bottom + plan.margin), min(width, right + plan.margin)
        piece = fn(x[:, :, t0:b0, l0:r0])
        if out is None:
            out = torch.empty(
                (1, piece.shape[1], int(height * scale), int(width * scale)), dtype=piece.dtype, device=piece.device
            )
        ot, ol = int((top - t0) * scale), int((left - l0) * scale)
        oh, ow = int((bottom - top) * scale), int((right - left) * scale)
        out[:, :, int(top * scale) : int(top * scale) + oh, int(left * scale) : int(left * scale) + ow] = piece[
            :, :, ot : ot + oh, ol : ol + ow
        ]
        del piece
        if on_tile is not None:
            on_tile(n + 1, len(plan.boxes))
    assert out is not None
    return out
