"""Spectral traces of learned decoders in an image's noise residual.

Learned image decoders reconstruct through a stack of stride-2 up-sampling layers (transposed
convolutions or sub-pixel shuffles). Their kernels overlap unevenly, so the output carries a weak
pattern that repeats every 2, 4, 8 and 16 pixels whatever the content. In the power spectrum of a
high-pass residual that pattern is a set of peaks at the frequencies k/2^n cycles per pixel, on
the axes and on the diagonal lattice (Bergmann et al. 2023, 2024).

The analysis here is deliberately phase-free: every tile's windowed power spectrum is averaged,
so where the tiles sit relative to the decoder's grid does not matter and a crop by a few pixels
leaves the features unchanged. JPEG's 8x8 blocks mostly change the *variance* of the residual
block by block (no mean pattern) and therefore barely show here; :mod:`jpeg_evidence` measures
them separately.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from scipy import fft as sfft

from examiner.analysis.tile_grid import MAP_CELL_TILES, TILE
from examiner.core.tasks import TaskContext, silent

PERIODS = (2, 4, 8, 16)
# Neighbourhood (Chebyshev distance from the candidate bin) used as the local spectral floor;
# distance 1 is skipped because the Hann window leaks a peak into its direct neighbours.
_RING = (2, 3)
# Fewer full tiles than this and tiles overlap by half (Welch), so small crops still average
# enough spectra to be stable.
_MIN_TILES = 64
# Chroma only feeds the global features (no map), so a spread subset of tiles is enough.
CHROMA_MAX_TILES = 300

METHOD: dict[str, Any] = {
    "name": "Spectral trace analysis of the noise residual",
    "version": "1",
    "description": (
        "Luma and chroma are high-pass filtered (pixel minus its 3x3 mean) and cut into "
        f"Hann-windowed {TILE}x{TILE} tiles; the unit-energy power spectra of the tiles are "
        "averaged. At the frequencies k/2, k/4, k/8 and k/16 cycles per pixel, on the axes and on "
        "the diagonal lattice, the power is compared with the median of its spectral "
        "neighbourhood; the residual autocorrelation at lags 2 to 16 is measured too. Only power "
        "is used, so the result does not depend on the grid phase. Groups of 2x2 tiles give a "
        "map of local peak strength."
    ),
    "parameters": {"tile": TILE, "periods": list(PERIODS), "neighbourhood ring (bins)": list(_RING),
                   "map cell (tiles)": MAP_CELL_TILES},
    "limitations": ["Period-2 structure also comes from camera demosaicking and film scanning; "
                    "up-scaling turns it into period-4 structure."],
    "citations": ["bergmann2023frequency", "bergmann2024forensic"],
}

# Side of the cells whose Fourier coefficients are tested for phase coherence: one period of the
# longest decoder pattern (four stride-2 stages).
COHERENCE_CELL = 16
COHERENCE_PERIODS = (4, 8, 16)

FEATURE_NAMES: tuple[str, ...] = (
    tuple(f"{ch}_p{per}_{kind}" for ch in ("y", "c") for per in PERIODS for kind in ("axis", "diag"))
    + tuple(f"{ch}_ac{per}" for ch in ("y", "c") for per in PERIODS)
    + ("y_grid_max", "c_grid_max")
    + tuple(f"y_coh{per}_{kind}" for per in COHERENCE_PERIODS for kind in ("axis", "diag"))
)


@dataclass
class SpectralResult:
    """What the spectral analysis found, with everything needed to show it."""

    features: dict[str, float]
    spectrum_image: np.ndarray  # uint8, TILE x TILE, log power of the luma residual, DC centred
    tile_map: np.ndarray  # float32, per cell: luma grid-peak strength (log ratio)
    map_cell: int  # side of one tile_map cell in pixels
    n_tiles: int
    params: dict[str, Any] = field(default_factory=dict)

    def key_features(self) -> dict[str, float]:
        keys = ("y_p2_diag", "y_p4_diag", "y_p2_axis", "y_p4_axis", "y_p8_axis", "y_p16_diag",
                "c_p2_diag", "c_p4_diag", "y_grid_max", "c_grid_max")
        return {k: round(float(self.features[k]), 4) for k in keys}


_RGB_TO_YCC = np.array(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], dtype=np.float32
)


def luma(image: np.ndarray) -> np.ndarray:
    """BT.601 luma on the 0..255 scale as float32 (no rounding: weak traces live below 1 level)."""
    x = np.asarray(image)
    scale = 255.0 / 65535.0 if x.dtype == np.uint16 else 1.0
    if x.ndim == 2:
        return x.astype(np.float32) * np.float32(scale)
    if x.ndim != 3 or x.shape[2] < 3:
        raise ValueError(f"expected H x W or H x W x 3 pixels, got shape {x.shape}")
    r, g, b = cv2.split(np.ascontiguousarray(x[..., :3]))
    y = cv2.addWeighted(r, 0.299 * scale, g, 0.587 * scale, 0.0, dtype=cv2.CV_32F)
    return cv2.scaleAdd(b.astype(np.float32), np.float32(0.114 * scale), y)


def to_planes(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Luma and the two chroma planes (BT.601, 0..255 scale, no offset) as float32."""
    x = np.asarray(image)
    y = luma(x)
    if x.ndim == 2:
        return y, None, None
    scale = np.float32(255.0 / 65535.0 if x.dtype == np.uint16 else 1.0)
    ycc = cv2.transform(np.ascontiguousarray(x[..., :3]).astype(np.float32), _RGB_TO_YCC[1:] * scale)
    return y, ycc[..., 0].copy(), ycc[..., 1].copy()


def residual(plane: np.ndarray) -> np.ndarray:
    """High-pass residual: the plane minus its 3x3 mean. Natural content is mostly low-pass, so
    what is left is noise, edges and any periodic decoder pattern."""
    p = np.ascontiguousarray(plane, dtype=np.float32)
    return p - cv2.blur(p, (3, 3), borderType=cv2.BORDER_REFLECT)


def _tile_origins(n: int, stride: int) -> np.ndarray:
    return np.arange(0, n - TILE + 1, stride)


def _tiles(res: np.ndarray) -> tuple[np.ndarray, tuple[int, int], int]:
    h, w = res.shape
    if h < TILE or w < TILE:
        raise ValueError(f"image of {w}x{h} pixels is smaller than one {TILE}x{TILE} analysis tile")
    full = (h // TILE) * (w // TILE)
    stride = TILE if full >= _MIN_TILES else TILE // 2
    ys, xs = _tile_origins(h, stride), _tile_origins(w, stride)
    if stride == TILE:
        t = res[: len(ys) * TILE, : len(xs) * TILE].reshape(len(ys), TILE, len(xs), TILE)
        t = t.transpose(0, 2, 1, 3)
    else:
        s0, s1 = res.strides
        t = np.lib.stride_tricks.as_strided(
            res, shape=(len(ys), len(xs), TILE, TILE), strides=(s0 * stride, s1 * stride, s0, s1)
        )
    return t, (len(ys), len(xs)), stride


_WINDOW = np.outer(np.hanning(TILE), np.hanning(TILE)).astype(np.float32)


def _power(block: np.ndarray) -> np.ndarray:
    """Unit-energy windowed power spectra of a stack of residual tiles (..., TILE, TILE)."""
    block = block - block.mean(axis=(-2, -1), keepdims=True)
    f = sfft.rfft2(block * _WINDOW, axes=(-2, -1), workers=-1)
    p = (f.real * f.real + f.imag * f.imag).astype(np.float32)
    p /= p.sum(axis=(-2, -1), keepdims=True) + np.float32(1e-6)
    return p


def tile_spectra(res: np.ndarray, rows_per_batch: int = 8) -> tuple[np.ndarray, tuple[int, int], int]:
    """Per-tile power spectra of the residual ``res``, each normalised to unit energy so that a
    few busy tiles cannot dominate the average. Returns (grid rows, grid cols, TILE, TILE//2+1)."""
    t, grid, stride = _tiles(res)
    out = np.empty((grid[0], grid[1], TILE, TILE // 2 + 1), dtype=np.float32)
    for r0 in range(0, grid[0], rows_per_batch):
        out[r0 : r0 + rows_per_batch] = _power(np.ascontiguousarray(t[r0 : r0 + rows_per_batch], dtype=np.float32))
    return out, grid, stride


def chroma_spectrum(image: np.ndarray, stride: int) -> np.ndarray:
    """Mean residual power spectrum of Cb and Cr over an evenly spread subset of tiles. Only
    the selected tiles are converted, which keeps large images fast; the Hann window is zero at
    tile edges, so filtering tiles one by one changes nothing that counts."""
    h, w = image.shape[:2]
    ys, xs = _tile_origins(h, stride), _tile_origins(w, stride)
    step = max(1, int(np.ceil(np.sqrt(len(ys) * len(xs) / CHROMA_MAX_TILES))))
    ys, xs = ys[::step], xs[::step]
    scale = np.float32(255.0 / 65535.0 if image.dtype == np.uint16 else 1.0)
    acc = np.zeros((TILE, TILE // 2 + 1), dtype=np.float64)
    for y0 in ys:
        strip = np.concatenate([image[y0 : y0 + TILE, x0 : x0 + TILE, :3] for x0 in xs], axis=1)
        ycc = cv2.transform(strip.astype(np.float32), _RGB_TO_YCC[1:] * scale)
        for c in range(2):
            res = residual(np.ascontiguousarray(ycc[..., c]))
            tiles = res.reshape(TILE, len(xs), TILE).transpose(1, 0, 2)
            acc += _power(tiles).sum(axis=0)
    return (acc / (2 * len(ys) * len(xs))).astype(np.float32)


def full_spectrum(half: np.ndarray) -> np.ndarray:
    """TILE x TILE spectrum from the rfft half, using the symmetry of a real signal's power."""
    full = np.empty(half.shape[:-1] + (TILE,), dtype=half.dtype)
    full[..., : TILE // 2 + 1] = half
    idx_u = (-np.arange(TILE)) % TILE
    for v in range(TILE // 2 + 1, TILE):
        full[..., :, v] = half[..., idx_u, TILE - v]
    return full


def _grid_points(period: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Spectral bins of the frequencies k/period with k coprime to the period (the ones that a
    period-2n pattern does not already explain), on the axes and on the diagonal lattice."""
    step = TILE // period
    ks = [k for k in range(1, period) if np.gcd(k, period) == 1]
    axis = [(k * step, 0) for k in ks] + [(0, k * step) for k in ks]
    diag = [(k * step, j * step) for k in ks for j in ks]
    return axis, diag


def _floor_offsets(on_axis_u: bool, on_axis_v: bool) -> list[tuple[int, int]]:
    offs = []
    for du in range(-_RING[1], _RING[1] + 1):
        for dv in range(-_RING[1], _RING[1] + 1):
            if max(abs(du), abs(dv)) < _RING[0]:
                continue
            # Axis bins are compared along their own axis: the rows and columns through DC hold
            # the leakage of horizontal and vertical edges, which the off-axis floor lacks.
            if on_axis_u and du != 0:
                continue
            if on_axis_v and dv != 0:
                continue
            offs.append((du, dv))
    return offs


def _log_ratio(spec: np.ndarray, points: list[tuple[int, int]]) -> np.ndarray:
    """Mean over ``points`` of log(power at the point / median of its neighbourhood). ``spec``
    may carry leading batch dimensions; the last two are TILE x TILE."""
    vals = []
    for u, v in points:
        offs = _floor_offsets(u == 0, v == 0)
        neigh = np.stack([spec[..., (u + du) % TILE, (v + dv) % TILE] for du, dv in offs], axis=-1)
        floor = np.median(neigh, axis=-1) + 1e-12
        vals.append(np.log((spec[..., u % TILE, v % TILE] + 1e-12) / floor))
    return np.mean(np.stack(vals, axis=-1), axis=-1)


def _autocorr_peaks(spec: np.ndarray) -> dict[int, float]:
    """Autocorrelation of the residual (inverse FFT of its power) at lags 2..16: a period-N
    pattern raises lag N above its lag N-1 and N+1 neighbours, along rows and columns."""
    ac = np.real(np.fft.ifft2(spec))
    ac = ac / (ac[0, 0] + 1e-12)
    out = {}
    for n in PERIODS:
        centre = ac[n, 0] + ac[0, n] + ac[n, n]
        side = (ac[n - 1, 0] + ac[n + 1, 0] + ac[0, n - 1] + ac[0, n + 1] + ac[n - 1, n - 1] + ac[n + 1, n + 1]) / 2
        out[n] = float(100.0 * (centre - side))
    return out


def _plane_features(spec: np.ndarray, prefix: str, feats: dict[str, float]) -> None:
    for per in PERIODS:
        axis, diag = _grid_points(per)
        feats[f"{prefix}_p{per}_axis"] = float(_log_ratio(spec, axis))
        feats[f"{prefix}_p{per}_diag"] = float(_log_ratio(spec, diag))
    for n, v in _autocorr_peaks(spec).items():
        feats[f"{prefix}_ac{n}"] = v
    feats[f"{prefix}_grid_max"] = max(
        feats[f"{prefix}_p2_diag"], feats[f"{prefix}_p4_diag"], feats[f"{prefix}_p4_axis"],
        feats[f"{prefix}_p2_axis"], feats[f"{prefix}_p8_diag"],
    )


def _coherence_points() -> dict[str, list[tuple[int, int]]]:
    """DFT bins of a COHERENCE_CELL-wide cell grouped by the period they belong to (the longest
    period among the two axes' frequencies) and by axis or diagonal lattice; the rfft half only."""
    n = COHERENCE_CELL

    def period(k: int) -> int:
        return 0 if k == 0 else n // int(np.gcd(k, n))

    groups: dict[str, list[tuple[int, int]]] = {}
    for u in range(n):
        for v in range(n // 2 + 1):
            pu, pv = period(u), period(v)
            per = max(pu, pv)
            if per not in COHERENCE_PERIODS:
                continue
            kind = "axis" if min(pu, pv) == 0 else "diag"
            groups.setdefault(f"y_coh{per}_{kind}", []).append((u, v))
    return groups


_COHERENCE_POINTS = _coherence_points()


def coherence_features(res: np.ndarray, rows_per_batch: int = 64) -> dict[str, float]:
    """Phase coherence of the residual at the decoder grid frequencies across 16x16 cells.

    A decoder's up-sampling pattern repeats with the same phase all over the image, so at its
    frequencies the cells' Fourier coefficients add up in phase; content, noise and JPEG's block
    edges (whose sign follows the content) add up with random phases. Per bin the statistic is
    |sum of the cells' coefficients|^2 / sum of their squared magnitudes: about 1 for random
    phases whatever the image size, up to the number of cells for a pattern that is everywhere
    the same. The feature is the log of its mean over the bins of one period and lattice. A
    shift of the image shifts every cell's phase alike, so a crop changes nothing; and JPEG
    re-compression, which removes power but not phase, leaves more of it than of the power
    peaks. Period 2 is left out: camera demosaicking leaves a coherent period-2 pattern too.
    """
    n = COHERENCE_CELL
    h, w = (res.shape[0] // n) * n, (res.shape[1] // n) * n
    if h == 0 or w == 0:
        return {name: 0.0 for name in _COHERENCE_POINTS}
    rows = res[:h, :w].reshape(h // n, n, w // n, n)
    coherent = np.zeros((n, n // 2 + 1), dtype=np.complex128)
    power = np.zeros((n, n // 2 + 1), dtype=np.float64)
    for r0 in range(0, h // n, rows_per_batch):
        cells = np.ascontiguousarray(rows[r0 : r0 + rows_per_batch].transpose(0, 2, 1, 3), dtype=np.float32)
        f = sfft.rfft2(cells, axes=(-2, -1), workers=-1)
        coherent += f.sum(axis=(0, 1))
        power += (f.real * f.real + f.imag * f.imag).sum(axis=(0, 1))
    z = (coherent.real**2 + coherent.imag**2) / (power + 1e-12)
    return {name: float(np.log(np.mean([z[u, v] for u, v in pts]) + 1e-12)) for name, pts in _COHERENCE_POINTS.items()}


# Points whose local strength goes into the per-tile map: the diagonal lattice at periods 2 and
# 4, where natural content and JPEG blocks put the least power.
_MAP_POINTS = _grid_points(2)[1] + _grid_points(4)[1] + _grid_points(2)[0]


def spectrum_image(spec: np.ndarray) -> np.ndarray:
    """Log power, DC centred, stretched to uint8 for display."""
    s = np.fft.fftshift(np.log10(spec + 1e-9))
    lo, hi = np.percentile(s, 1), np.percentile(s, 99.9)
    return np.clip(255.0 * (s - lo) / max(hi - lo, 1e-6), 0, 255).astype(np.uint8)


def analyse(
    image: np.ndarray,
    ctx: TaskContext | None = None,
    on_tiles: Callable[[np.ndarray, int], None] | None = None,
) -> SpectralResult:
    """Spectral features, spectrum image and per-tile map of one image. ``on_tiles`` is given the
    luma tile spectra and their stride while they exist, so localisation need not recompute them."""
    ctx = ctx or silent()
    res = residual(luma(image))
    ctx.progress(0, 4, "luma spectrum")
    y_tiles, grid, stride = tile_spectra(res)
    if on_tiles is not None:
        on_tiles(y_tiles, stride)
    y_mean = full_spectrum(y_tiles.mean(axis=(0, 1)))
    feats: dict[str, float] = {}
    _plane_features(y_mean, "y", feats)
    feats.update(coherence_features(res))
    del res
    ctx.progress(1, 4, "chroma spectrum")
    if image.ndim == 3:
        _plane_features(full_spectrum(chroma_spectrum(image, stride)), "c", feats)
    else:
        for name in FEATURE_NAMES:
            if name.startswith("c_"):
                feats[name] = 0.0
    ctx.progress(2, 4, "tile map")
    tile_map = _tile_map(y_tiles)
    ctx.progress(4, 4, "spectral analysis done")
    return SpectralResult(
        features=feats,
        spectrum_image=spectrum_image(y_mean),
        tile_map=tile_map,
        map_cell=stride * MAP_CELL_TILES,
        n_tiles=int(grid[0] * grid[1]),
        params={"tile": TILE, "stride": stride, "window": "hann", "residual": "3x3 mean removed",
                "periods": list(PERIODS), "floor_ring": list(_RING)},
    )


def _tile_map(tiles: np.ndarray) -> np.ndarray:
    """Grid-peak strength per cell of MAP_CELL_TILES x MAP_CELL_TILES tiles: a single tile's
    spectrum is too noisy, a small group's average still localises inserted content."""
    g = MAP_CELL_TILES
    rows, cols = tiles.shape[0] // g, tiles.shape[1] // g
    if rows == 0 or cols == 0:
        g, rows, cols = 1, tiles.shape[0], tiles.shape[1]
    cells = tiles[: rows * g, : cols * g].reshape(rows, g, cols, g, *tiles.shape[2:]).mean(axis=(1, 3))
    return _log_ratio(full_spectrum(cells), _MAP_POINTS).astype(np.float32)
