"""Where in an image the decoder trace is: a map for neural content pasted into a camera image.

The luma residual's tile spectra of :mod:`spectral` (128x128 tiles) are averaged over every 2x2
group of neighbouring tiles (a sliding window of 256 pixels, or 192 where small images make the
tiles overlap by half), and in each window the power at the decoder grid frequencies of periods
2, 4 and 8 (axes and diagonal lattice) is compared with its spectral neighbourhood, as for the
whole image. A logistic model with non-negative weights (a stronger peak never lowers the
score) turns the six peak strengths into a window score. A window at or above the threshold
starts a flagged area, which then takes in every window connected to it (8-neighbours) that
reaches the lower growth threshold: a pasted region's border windows hold only part of its
trace, and hysteresis lets them join an area that a strong window has already shown without
letting weak windows elsewhere flag anything. Each flagged window marks the square of one tile
stride around its centre.

The model and its thresholds ship in ``examiner/data/localisation_v2.json``, made by
``bench/bench_localisation.py --fit``: fitted on windows of kodim01-12 (decoded by the
project's and the demonstration codecs as positives, the detector v3 negatives as negatives),
the threshold the level at which untouched images of sources it was not set on stay clean 95 %
of the time (set on kodim01-06, checked on kodim07-12 and the other way round), the growth
threshold chosen on splices into kodim01-12.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from examiner.analysis import spectral

MODEL_FILE = "localisation_v2.json"
LOCAL_MODEL_VERSION = "2"
FEATURES = ("p2_axis", "p2_diag", "p4_axis", "p4_diag", "p8_axis", "p8_diag")


@dataclass
class LocalModel:
    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float
    measured: dict[str, Any]
    # Windows connected to a flagged one join its area from this score on; never above the
    # threshold (equal to it: no growth).
    grow_threshold: float | None = None

    @property
    def growth(self) -> float:
        g = self.threshold if self.grow_threshold is None else self.grow_threshold
        return min(g, self.threshold)

    def scores(self, feats: np.ndarray) -> np.ndarray:
        return ((feats - self.mean) / self.std) @ self.weights + self.bias

    def to_dict(self) -> dict[str, Any]:
        return {"format": "miscompression-examiner localisation model", "version": LOCAL_MODEL_VERSION,
                "features": list(FEATURES),
                "mean": self.mean.round(6).tolist(), "std": self.std.round(6).tolist(),
                "weights": self.weights.round(6).tolist(), "bias": round(self.bias, 6),
                "threshold": round(self.threshold, 6), "grow_threshold": round(self.growth, 6),
                "measured": self.measured}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LocalModel:
        return cls(np.asarray(d["mean"], float), np.asarray(d["std"], float), np.asarray(d["weights"], float),
                   float(d["bias"]), float(d["threshold"]), dict(d.get("measured", {})),
                   float(d["grow_threshold"]) if d.get("grow_threshold") is not None else None)


def default_model_path() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / MODEL_FILE


def load_model(path: str | Path | None = None) -> LocalModel:
    p = Path(path) if path is not None else default_model_path()
    return LocalModel.from_dict(json.loads(p.read_text(encoding="utf-8")))


@functools.cache
def shipped_model() -> tuple[LocalModel, str]:
    """The shipped model and the SHA-256 of its file (quoted with every map it made)."""
    data = default_model_path().read_bytes()
    return LocalModel.from_dict(json.loads(data)), hashlib.sha256(data).hexdigest()


def _luma_tiles(pixels: np.ndarray) -> tuple[np.ndarray, int]:
    """The luma residual's tile spectra and their stride, as the detector takes them."""
    tiles, _, stride = spectral.tile_spectra(spectral.residual(spectral.luma(pixels)))
    return tiles, stride


def window_features(pixels: np.ndarray) -> tuple[np.ndarray, int]:
    """Peak strengths (rows-1 x cols-1 x 6) of every 2x2 group of tiles, and the tile stride."""
    tiles, stride = _luma_tiles(pixels)
    return tile_window_features(tiles), stride


def tile_window_features(tiles: np.ndarray) -> np.ndarray:
    """:func:`window_features` from tile spectra already taken (as the detector takes them)."""
    if tiles.shape[0] < 2 or tiles.shape[1] < 2:
        return np.zeros((0, 0, len(FEATURES)), np.float32)
    groups = (tiles[:-1, :-1] + tiles[1:, :-1] + tiles[:-1, 1:] + tiles[1:, 1:]) / 4
    full = spectral.full_spectrum(groups)
    out = []
    for period in (2, 4, 8):
        axis, diag = spectral._grid_points(period)
        out.append(spectral._log_ratio(full, axis))
        out.append(spectral._log_ratio(full, diag))
    return np.stack(out, axis=-1).astype(np.float32)


@dataclass
class Localisation:
    scores: np.ndarray  # per window (rows-1 x cols-1)
    flagged_windows: np.ndarray  # bool, same shape
    stride: int
    threshold: float
    growth: float | None = None

    @property
    def flagged(self) -> bool:
        return bool(self.flagged_windows.any())

    def pixel_mask(self, shape: tuple[int, int]) -> np.ndarray:
        """Pixels judged to be decoder output: one tile stride square around each flagged
        window's centre."""
        mask = np.zeros(shape, bool)
        st, span = self.stride, spectral.TILE + self.stride
        for r, c in zip(*np.nonzero(self.flagged_windows), strict=True):
            cy, cx = r * st + span // 2, c * st + span // 2
            mask[max(0, cy - st) : cy + st, max(0, cx - st) : cx + st] = True
        return mask

    def bbox(self, shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
        m = self.pixel_mask(shape)
        if not m.any():
            return None
        ys, xs = np.nonzero(m)
        return int(xs.min()), int(ys.min()), int(xs.max() + 1), int(ys.max() + 1)

    def boxes(self, shape: tuple[int, int]) -> list[list[int]]:
        """[x, y, width, height] of each connected flagged area, largest first."""
        m = self.pixel_mask(shape).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        found = [[int(x), int(y), int(w), int(h)] for x, y, w, h, area in stats[1:n] if area > 0]
        return sorted(found, key=lambda b: -b[2] * b[3])


def flag_windows(scores: np.ndarray, threshold: float, growth: float) -> np.ndarray:
    """Windows at or above ``threshold``, and those at or above ``growth`` connected to one."""
    seeds = scores >= threshold
    if not seeds.any() or growth >= threshold:
        return seeds
    n, labels = cv2.connectedComponents((scores >= growth).astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[seeds])] = True
    keep[0] = False
    return keep[labels]


def localise_tiles(tiles: np.ndarray, stride: int, model: LocalModel | None = None) -> Localisation:
    model = model or shipped_model()[0]
    feats = tile_window_features(tiles)
    scores = model.scores(feats) if feats.size else np.zeros(feats.shape[:2])
    flagged = flag_windows(scores, model.threshold, model.growth)
    return Localisation(scores, flagged, stride, model.threshold, model.growth)


def summary(loc: Localisation, shape: tuple[int, int]) -> dict[str, Any]:
    """What a finding records of a map made by the shipped model: where, by which file, and how
    well that model found splices when it was measured."""
    model, sha = shipped_model()
    return {
        "model_version": LOCAL_MODEL_VERSION,
        "model_sha256": sha,
        "threshold": round(float(loc.threshold), 4),
        "grow_threshold": round(float(loc.threshold if loc.growth is None else loc.growth), 4),
        "windows": int(loc.flagged_windows.size),
        "flagged_windows": int(loc.flagged_windows.sum()),
        "window_pixels": int(spectral.TILE + loc.stride),
        "stride": int(loc.stride),
        "boxes": loc.boxes(shape),
        "measured": dict(model.measured),
    }


def localise(pixels: np.ndarray, model: LocalModel | None = None) -> Localisation:
    return localise_tiles(*_luma_tiles(pixels), model)

