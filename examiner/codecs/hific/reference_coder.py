"""What the public HiFiC port's own entropy coder does to large latent symbols.

The port codes each latent with a table chosen by its scale (64 log-spaced scales from 0.11 to
256, tails cut at 2^-8 probability mass), and escapes values outside the table with an overflow
code written in 4-bit chunks. Its encoder and decoder loops reset the chunk counter inside the
loop, so an overflow value of 16 or more comes back as its lowest 4 bits only. A decoded ``.hfc``
file therefore carries a different latent symbol there (10 at scale 0.11 becomes 2).

This module predicts, from the symbols and scales, which elements the port would decode wrongly
and what it would decode, so that a report can say so and an end-to-end emulation of the port's
``compress.py`` can reproduce its output. The examiner's own coder does not have the defect.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from examiner.codecs.latent_coding import scale_indexes, scale_table

TAIL_MASS = 2.0**-8
REFERENCE_SCALES = scale_table(0.11, 256.0, 64)


def _tail_multiplier(likelihood_type: str) -> float:
    half = TAIL_MASS / 2
    if likelihood_type == "logistic":
        return -math.log(half / (1.0 - half))
    return float(-norm.ppf(half))


def reference_decoded_symbols(symbols: np.ndarray, sigma: np.ndarray, likelihood_type: str) -> np.ndarray:
    """The symbols the port's decoder returns for ``symbols`` coded at scales ``sigma``."""
    sym = np.asarray(symbols, dtype=np.int64)
    centre = np.ceil(REFERENCE_SCALES[scale_indexes(sigma, REFERENCE_SCALES)] * _tail_multiplier(likelihood_type))
    centre = centre.astype(np.int64)
    max_value = 2 * centre + 1
    value = sym + centre
    below, above = value < 0, value >= max_value
    raw = np.where(below, -2 * value - 1, np.where(above, 2 * (value - max_value), 0))
    raw_back = np.where(raw >= 16, raw & 15, raw)
    value_back = np.where(below, -((raw_back + 1) // 2), np.where(above, raw_back // 2 + max_value, value))
    decoded: np.ndarray = value_back - centre  # indexing the scale table gives numpy's untyped scalar-or-array
    return decoded


def misdecoded_elements(symbols: np.ndarray, decoded: np.ndarray, limit: int = 20) -> list[dict[str, int]]:
    """Positions (channel, row, column) and values where the port's decode differs."""
    where = np.argwhere(np.asarray(symbols) != np.asarray(decoded))
    out = []
    for pos in where[:limit]:
        c, i, j = (int(v) for v in pos[-3:])
        out.append({"channel": c, "row": i, "col": j, "symbol": int(symbols[tuple(pos)]), "reference_decodes": int(decoded[tuple(pos)])})
    return out
