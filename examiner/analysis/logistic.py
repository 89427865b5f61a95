"""The logistic function, shared by the detector (at run time) and its calibration (at training
time), so the detector does not depend on the training code."""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-np.asarray(z)))
