"""What the window's analysis jobs need besides the workflows: display scaling and the demo build.

The examination steps themselves are :mod:`examiner.workflows` functions; the window runs their
``compute_*`` halves in worker processes and their ``record_*`` halves on its writer thread.
"""

from __future__ import annotations

import numpy as np

from examiner.core.tasks import TaskContext


def normalised_tile_map(tile_map: np.ndarray) -> np.ndarray:
    """Per-tile strengths scaled to [0, 1] for the overlay (relative within this image)."""
    t = np.nan_to_num(tile_map.astype(np.float32))
    lo, hi = float(t.min()), float(t.max())
    return np.zeros_like(t) if hi <= lo else (t - lo) / (hi - lo)


def build_demo(ctx: TaskContext) -> str:
    """Path of the demo case, built first when missing (a neural codec run: a worker process)."""
    from examiner.demo import ensure_demo_case

    return str(ensure_demo_case(ctx=ctx))
