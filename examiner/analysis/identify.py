"""Which codec, at which quality, produced this image? Identification by re-compression.

An image that came out of codec C at quality q is close to a fixed point of (C, q): compressing
it again with the same codec and setting changes it much less than it changes comparable content
that never went through that codec. For every installed candidate we therefore run the real codec
twice on a bounded window of the evidence:

* on the window itself, aligned to the image origin (so JPEG's 8x8 grid and a learned codec's
  16x16 latent grid line up with how the image was made), giving PSNR_e and a change map;
* on the same content shifted by a few pixels, which breaks every block and latent grid, giving
  PSNR_ref: what the codec does to comparable content that is not its own output.

The fixed-point gain ``PSNR_e - PSNR_ref`` (dB) ranks the candidates. A gain below
:data:`MIN_GAIN_DB` for every candidate means none of the installed codecs fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from examiner.core.tasks import TaskContext, silent
from examiner.errors import CodecError, ExaminerError

if TYPE_CHECKING:
    from examiner.core.settings import Settings

# The window analysed: large enough for stable PSNR, small enough that every codec run stays
# within a fixed memory bound whatever the evidence size.
WINDOW = 512
SHIFT = (5, 3)  # (dy, dx) of the reference: not a multiple of 2, so no grid survives it
MIN_GAIN_DB = 2.0
MAP_CELL = 16
# Codecs with a continuous quality scale are searched coarse-to-fine.
COARSE_STEP = 10
FINE_RADIUS = 5

METHOD: dict[str, Any] = {
    "name": "Codec identification by re-compression",
    "version": "1",
    "description": (
        "Each installed candidate codec re-compresses a window of the evidence (at most "
        f"{WINDOW}x{WINDOW} pixels, aligned to the image origin on a 16-pixel lattice) at each of "
        "its qualities (continuous quality scales are searched in steps of 10, then refined), and "
        "the same window shifted by a few pixels, which breaks every block and latent grid. An "
        "image produced by codec C at quality q is close to a fixed point of (C, q): the evidence "
        "changes much less than the shifted content. Candidates are ranked by that fixed-point "
        "gain in dB (PSNR of the evidence minus PSNR of the shifted reference)."
    ),
    "parameters": {"window": WINDOW, "reference shift (rows, columns)": list(SHIFT),
                   "minimum gain for a fit (dB)": MIN_GAIN_DB, "coarse quality step": COARSE_STEP},
    "limitations": [
        "Only codecs installed on this machine are candidates; an unknown codec yields 'none fits'.",
        "Later processing (resizing, re-compression with another codec) moves the image away from "
        "the fixed point.",
        "Stochastic (generative) decoders are only approximately idempotent; their gains are smaller.",
    ],
    "citations": [],
}


@dataclass
class Candidate:
    codec: str
    quality: int
    psnr: float  # evidence vs its re-compression (dB)
    psnr_ref: float  # shifted reference vs its re-compression (dB)
    gain_db: float
    bpp: float | None
    change_map: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"codec": self.codec, "quality": self.quality, "psnr_db": round(self.psnr, 3),
                "psnr_reference_db": round(self.psnr_ref, 3), "fixed_point_gain_db": round(self.gain_db, 3),
                "bpp": None if self.bpp is None else round(self.bpp, 4)}


@dataclass
class Identification:
    candidates: list[Candidate]
    best: Candidate | None
    fits: bool
    summary: str
    window: tuple[int, int, int, int]  # y, x, height, width of the analysed window
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"fits": self.fits, "summary": self.summary, "window": list(self.window),
                "candidates": [c.to_dict() for c in self.candidates], "skipped": self.skipped}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    peak = 65535.0 if a.dtype == np.uint16 else 255.0
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse <= 1e-12 else 10.0 * np.log10(peak * peak / mse)


def change_map(a: np.ndarray, b: np.ndarray, cell: int = MAP_CELL) -> np.ndarray:
    """Mean absolute change per cell, so where re-compression alters the image shows up."""
    d = np.abs(a.astype(np.float32) - b.astype(np.float32))
    if d.ndim == 3:
        d = d.mean(axis=2)
    h, w = d.shape[0] // cell * cell, d.shape[1] // cell * cell
    return d[:h, :w].reshape(h // cell, cell, w // cell, cell).mean(axis=(1, 3))


def windows(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """The evidence window (origin-aligned, multiple of 16) and its shifted twin."""
    h, w = image.shape[:2]
    dy, dx = SHIFT
    size_h = min(WINDOW, (h - dy) // 16 * 16)
    size_w = min(WINDOW, (w - dx) // 16 * 16)
    if size_h < 64 or size_w < 64:
        raise ExaminerError(f"image of {w}x{h} pixels is too small for identification by re-compression")
    # Centre the window on a 16-pixel lattice point so every grid keeps its phase.
    y0 = max(0, ((h - dy - size_h) // 2) // 16 * 16)
    x0 = max(0, ((w - dx - size_w) // 2) // 16 * 16)
    own = np.ascontiguousarray(image[y0 : y0 + size_h, x0 : x0 + size_w])
    ref = np.ascontiguousarray(image[y0 + dy : y0 + dy + size_h, x0 + dx : x0 + dx + size_w])
    return own, ref, (y0, x0, size_h, size_w)


def _qualities(qualities: tuple[int, ...], installed: tuple[int, ...] | None) -> list[int]:
    qs = list(installed) if installed is not None else list(qualities)
    return sorted(set(qs))


def _is_range(qs: list[int]) -> bool:
    return len(qs) > 20


def identify(image: np.ndarray, codec_ids: list[str] | None = None, ctx: TaskContext | None = None,
             quality_hint: dict[str, int] | None = None, settings: Settings | None = None) -> Identification:
    """Rank installed codecs by how close the image is to being their fixed point.

    ``codec_ids`` None means every available codec. ``quality_hint`` (codec id -> quality), e.g.
    the quality estimated from a JPEG file's tables, is tried in addition to the sweep.
    ``settings`` name the extra codec folders and the tiling (None: the built-in defaults).
    """
    from examiner.codecs import engine, registry
    from examiner.codecs.api import RunOptions

    ctx = ctx or silent()
    own, ref, win = windows(image)
    entries, _ = registry.list_codecs(settings)
    by_id = {e.info.id: e for e in entries}
    wanted = [e.info.id for e in entries if e.available] if codec_ids is None else list(codec_ids)
    skipped: list[str] = []
    plans: list[tuple[str, list[int]]] = []
    for cid in wanted:
        entry = by_id.get(cid)
        if entry is None:
            raise CodecError(f"unknown codec {cid!r} (known: {', '.join(sorted(by_id))})")
        if not entry.available:
            skipped.append(f"{cid}: {entry.reason}")
            continue
        plans.append((cid, _qualities(entry.info.qualities, entry.weights_installed)))
    results: list[Candidate] = []
    cache: dict[tuple[str, int], Candidate] = {}
    total = sum(min(len(q), 12) for _, q in plans) * 2 or 1
    done = 0

    def run(cid: str, q: int) -> Candidate | None:
        nonlocal done
        if (cid, q) in cache:
            return cache[(cid, q)]
        quiet = TaskContext(cancel=ctx.cancel)  # the engine's own progress would reset ours
        try:
            rec = engine.run(cid, own, q, RunOptions(), quiet, settings)
            rec_ref = engine.run(cid, ref, q, RunOptions(), quiet, settings)
        except CodecError as exc:
            skipped.append(f"{cid} q{q}: {exc}")
            return None
        done += 1
        ctx.progress(min(done, total - 1), total, f"re-compressing with {cid} q{q}")
        p_e, p_r = min(psnr(own, rec.pixels), 99.0), min(psnr(ref, rec_ref.pixels), 99.0)
        cand = Candidate(cid, q, p_e, p_r, p_e - p_r, rec.bpp, change_map(own, rec.pixels))
        cache[(cid, q)] = cand
        return cand

    for cid, qs in plans:
        if _is_range(qs):
            coarse = [q for q in qs if q % COARSE_STEP == 0 or q == max(qs)] or qs[:: max(1, len(qs) // 10)]
            hint = (quality_hint or {}).get(cid)
            tried = [c for c in (run(cid, q) for q in coarse + ([hint] if hint in qs else [])) if c]
            if tried:
                top = max(tried, key=lambda c: c.gain_db)
                for q in range(top.quality - FINE_RADIUS, top.quality + FINE_RADIUS + 1):
                    if q in qs and q != top.quality:
                        c = run(cid, q)
                        if c:
                            tried.append(c)
            best_here = max(tried, key=lambda c: c.gain_db) if tried else None
        else:
            tried = [c for c in (run(cid, q) for q in qs) if c]
            best_here = max(tried, key=lambda c: c.gain_db) if tried else None
        if best_here is not None:
            results.append(best_here)
            # Keep the runner-up qualities of the same codec visible too (for the report).
            results.extend(sorted((c for c in tried if c is not best_here), key=lambda c: -c.gain_db)[:2])
    ctx.progress(total, total, "identification done")
    results.sort(key=lambda c: -c.gain_db)
    best = results[0] if results else None
    fits = bool(best is not None and best.gain_db >= MIN_GAIN_DB)
    if best is None:
        summary = "no candidate codec could be run"
    elif fits:
        summary = (f"best fit: {best.codec} at quality {best.quality}: re-compressing the evidence changes it "
                   f"{best.gain_db:.1f} dB less than comparable shifted content (PSNR {best.psnr:.1f} dB vs "
                   f"{best.psnr_ref:.1f} dB), the signature of a near fixed point")
    else:
        summary = (f"none of the installed candidates fits: the best, {best.codec} at quality {best.quality}, "
                   f"gains only {best.gain_db:.1f} dB over comparable shifted content (needs {MIN_GAIN_DB:.1f} dB)")
    return Identification(results, best if fits else None, fits, summary, win, skipped)
