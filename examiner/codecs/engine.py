"""Run a codec on an image: input conversion, device choice, tiling, progress, metrics.

:func:`run` is the one entry point the CLI, the GUI and the analyses use. It converts the
image to a form the codec accepts (grey to RGB, 16 to 8 bits) and records the conversion,
resolves the device (``auto`` takes CUDA when torch sees it and the codec supports it),
merges the pack's default parameters with the caller's, and, for codecs that allow it,
splits images above the pixel budget into overlapping tiles so that peak memory stays bounded.
Tiling changes the result (each tile is coded on its own), so it is recorded in the
:class:`~examiner.codecs.api.Reconstruction`.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from examiner import __version__
from examiner.codecs.api import Codec, CodecFamily, CodecInfo, Reconstruction, RunOptions, bits_per_pixel
from examiner.codecs.devices import resolve_device
from examiner.core.settings import Settings
from examiner.core.tasks import TaskContext
from examiner.errors import CodecError

FORMS = ("rgb8", "grey8", "rgb16", "grey16")
TILE_MAGIC = b"EXTILES1"

# --- image forms --------------------------------------------------------------------------


def image_form(image: np.ndarray) -> str:
    if not isinstance(image, np.ndarray):
        raise CodecError(f"expected a numpy image, got {type(image).__name__}")
    if image.dtype == np.uint8:
        depth = "8"
    elif image.dtype == np.uint16:
        depth = "16"
    else:
        raise CodecError(f"images must be uint8 or uint16, got {image.dtype}")
    if image.ndim == 2:
        kind = "grey"
    elif image.ndim == 3 and image.shape[2] == 3:
        kind = "rgb"
    else:
        raise CodecError(f"images must be HxW (grey) or HxWx3 (RGB), got shape {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise CodecError(f"empty image (shape {image.shape})")
    return kind + depth


def to_8bit(image: np.ndarray) -> np.ndarray:
    """16-bit to 8-bit by rounding v * 255 / 65535 (exact for values that came from 8 bits)."""
    return ((image.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def _conversion_path(form: str, accepts: tuple[str, ...]) -> list[str]:
    if form in accepts:
        return []
    kind = "grey" if form.startswith("grey") else "rgb"
    depth = form[len(kind) :]
    options = [(kind, "16"), ("rgb", depth), (kind, "8"), ("rgb", "8")] if depth == "16" else [("rgb", "8")]
    for k, d in options:
        target = f"{k}{d}"
        if target in accepts:
            steps = []
            if d != depth:
                steps.append("16-bit -> 8-bit (round(v*255/65535))")
            if k != kind:
                steps.append("grey -> RGB (channel replication)")
            return steps
    raise CodecError(f"the codec accepts {list(accepts)}, and a {form} image cannot be converted to any of them")


def convert_for_codec(image: np.ndarray, accepts: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    steps = _conversion_path(image_form(image), accepts)
    out = image
    for step in steps:
        if step.startswith("16-bit"):
            out = to_8bit(out)
        elif step.startswith("grey"):
            out = np.repeat(out[:, :, None], 3, axis=2)
    return out, steps


def accepted_forms(info: CodecInfo) -> tuple[str, ...]:
    accepts = tuple(info.extra.get("accepts", ["rgb8"]))
    bad = [a for a in accepts if a not in FORMS]
    if bad or not accepts:
        raise CodecError(f"codec {info.id!r}: 'accepts' must be taken from {FORMS}, got {list(accepts)}")
    return accepts


# --- devices ------------------------------------------------------------------------------


def configure_determinism(device: str) -> dict[str, Any]:
    """Deterministic cuDNN on CUDA; returns the settings to record."""
    if device != "cuda":
        return {}
    import torch

    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return {"cudnn_deterministic": True, "cudnn_benchmark": False}


# --- parameters ---------------------------------------------------------------------------


def _coerce(key: str, default: Any, value: Any) -> Any:
    if not isinstance(value, str) or isinstance(default, str):
        return value
    try:
        if isinstance(default, bool):
            lowered = value.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except ValueError:
        raise CodecError(f"parameter {key}={value!r} is not a valid {type(default).__name__}") from None
    return value


def merge_params(info: CodecInfo, overrides: dict[str, Any]) -> dict[str, Any]:
    defaults = dict(info.extra.get("params", {}))
    merged = dict(defaults)
    for key, value in overrides.items():
        if defaults and key not in defaults:
            raise CodecError(f"codec {info.id!r} has no parameter {key!r} (known: {', '.join(sorted(defaults))})")
        merged[key] = _coerce(key, defaults.get(key), value)
    return merged


# --- tiling -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    y0: int
    y1: int
    x0: int
    x1: int  # the coded crop
    cy0: int
    cy1: int
    cx0: int
    cx1: int  # the core this tile contributes to the output

    def as_list(self) -> list[int]:
        return [self.y0, self.y1, self.x0, self.x1, self.cy0, self.cy1, self.cx0, self.cx1]


def _splits(length: int, parts: int) -> list[tuple[int, int]]:
    edges = [round(i * length / parts) for i in range(parts + 1)]
    return [(edges[i], edges[i + 1]) for i in range(parts)]


def plan_tiles(height: int, width: int, budget_pixels: int, overlap: int) -> list[Tile]:
    """Cut an image into a grid of cores, each extended by ``overlap`` pixels of context on
    every inner side, so that no coded crop exceeds ``budget_pixels``."""
    if overlap < 0:
        raise CodecError("tile overlap must not be negative")
    if budget_pixels < (2 * overlap + 16) ** 2:
        raise CodecError(f"tile budget {budget_pixels} px is too small for an overlap of {overlap} px")
    if height * width <= budget_pixels:
        return [Tile(0, height, 0, width, 0, height, 0, width)]
    side = max(16, int(math.sqrt(budget_pixels)) - 2 * overlap)
    ny, nx = max(1, math.ceil(height / side)), max(1, math.ceil(width / side))

    def worst(ny_: int, nx_: int) -> int:
        th = math.ceil(height / ny_) + (2 * overlap if ny_ > 1 else 0)
        tw = math.ceil(width / nx_) + (2 * overlap if nx_ > 1 else 0)
        return min(th, height) * min(tw, width)

    while worst(ny, nx) > budget_pixels:
        if math.ceil(height / ny) >= math.ceil(width / nx):
            ny += 1
        else:
            nx += 1
    tiles = []
    for cy0, cy1 in _splits(height, ny):
        for cx0, cx1 in _splits(width, nx):
            tiles.append(
                Tile(
                    max(0, cy0 - overlap),
                    min(height, cy1 + overlap),
                    max(0, cx0 - overlap),
                    min(width, cx1 + overlap),
                    cy0,
                    cy1,
                    cx0,
                    cx1,
                )
            )
    return tiles


def pack_tiles(header: dict[str, Any], streams: list[bytes]) -> bytes:
    """One byte string for a tiled run: magic, JSON header, then each tile's bitstream."""
    head = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    parts = [TILE_MAGIC, struct.pack(">I", len(head)), head]
    for s in streams:
        parts += [struct.pack(">Q", len(s)), s]
    return b"".join(parts)


def unpack_tiles(data: bytes) -> tuple[dict[str, Any], list[bytes]]:
    if not data.startswith(TILE_MAGIC):
        raise CodecError("not a tiled bitstream")
    pos = len(TILE_MAGIC)
    (n,) = struct.unpack_from(">I", data, pos)
    pos += 4
    header = json.loads(data[pos : pos + n])
    pos += n
    streams = []
    while pos < len(data):
        (m,) = struct.unpack_from(">Q", data, pos)
        pos += 8
        streams.append(data[pos : pos + m])
        pos += m
    return header, streams


# --- running ------------------------------------------------------------------------------


def _tiling_enabled(info: CodecInfo) -> bool:
    return bool(info.extra.get("tiling", info.family is CodecFamily.NEURAL))


def run(
    codec: Codec | str,
    image: np.ndarray,
    quality: int,
    options: RunOptions | None = None,
    ctx: TaskContext | None = None,
    settings: Settings | None = None,
) -> Reconstruction:
    """Encode and decode ``image`` with ``codec`` at ``quality``; see the module docstring."""
    if isinstance(codec, str):
        from examiner.codecs.registry import get_codec

        codec = get_codec(codec, settings)
    options = options or RunOptions()
    ctx = ctx or TaskContext()
    info = codec.info
    if quality not in info.qualities:
        q = info.qualities
        shown = f"{q[0]}..{q[-1]}" if len(q) > 8 and list(q) == list(range(q[0], q[-1] + 1)) else list(q)
        raise CodecError(f"codec {info.id!r} has no quality {quality} (it offers {shown})")
    ok, why = codec.available()
    if not ok and options.weights is None:  # an explicit weight file can stand in for the store
        raise CodecError(f"codec {info.id!r} cannot run here: {why}")
    ctx.progress(0, 1, f"{info.id}: preparing")
    source_form = image_form(image)
    coded, conversions = convert_for_codec(image, accepted_forms(info))
    device = resolve_device(options.device, info)
    determinism = configure_determinism(device)
    params = merge_params(info, options.params)
    run_opts = replace(options, device=device, params=params)
    height, width = coded.shape[:2]
    tiles: list[Tile] | None = None
    if _tiling_enabled(info):
        # No settings given: the built-in defaults, never the file (the caller decides what applies).
        settings = settings if settings is not None else Settings()
        budget = options.tile_budget_pixels or settings.tile_budget_pixels
        cap = info.extra.get("max_tile_pixels")
        if options.tile_budget_pixels is None and isinstance(cap, int) and cap > 0:
            # A pack may know that its model needs smaller tiles to stay within memory.
            budget = min(budget, cap)
        overlap = options.tile_overlap if options.tile_overlap is not None else settings.tile_overlap
        if height * width > budget:
            tiles = plan_tiles(height, width, budget, overlap)
    if tiles is None:
        rec = codec.run(coded, quality, run_opts, ctx)
    else:
        rec = _run_tiled(codec, coded, quality, run_opts, ctx, tiles, budget, overlap)
    if rec.pixels.shape[:2] != (height, width):
        raise CodecError(f"codec {info.id!r} returned {rec.pixels.shape[:2]} pixels for a {height}x{width} input")
    rec.params.setdefault("quality", quality)
    rec.params["codec_params"] = params
    rec.params["device_requested"] = options.device
    rec.params["input_form"] = source_form
    rec.params["coded_form"] = image_form(coded)
    rec.params["input_conversion"] = conversions
    if options.seed is not None:
        rec.params["seed"] = options.seed
    if options.steps is not None:
        rec.params["steps"] = options.steps
    rec.params.update(determinism)
    rec.notes.extend(f"input converted for the codec: {c}" for c in conversions)
    rec.versions.setdefault("examiner", __version__)
    rec.device = device
    ctx.progress(1, 1, f"{info.id}: done")
    return rec


def _run_tiled(
    codec: Codec,
    image: np.ndarray,
    quality: int,
    options: RunOptions,
    ctx: TaskContext,
    tiles: list[Tile],
    budget: int,
    overlap: int,
) -> Reconstruction:
    height, width = image.shape[:2]
    out: np.ndarray | None = None
    streams: list[bytes] = []
    encode_s = decode_s = 0.0
    first: Reconstruction | None = None
    n = len(tiles)
    for i, t in enumerate(tiles):
        ctx.progress(i, n, f"{codec.info.id}: tile {i + 1}/{n}")
        crop = np.ascontiguousarray(image[t.y0 : t.y1, t.x0 : t.x1])
        rec = codec.run(crop, quality, options, ctx.sub(i, i + 1, n))
        if rec.pixels.shape[:2] != crop.shape[:2]:
            raise CodecError(f"codec {codec.info.id!r} changed the size of tile {i + 1}")
        if rec.bitstream is None:
            raise CodecError(f"codec {codec.info.id!r} made no bitstream, so it cannot be tiled")
        if out is None:
            out = np.empty((height, width) + rec.pixels.shape[2:], dtype=rec.pixels.dtype)
        out[t.cy0 : t.cy1, t.cx0 : t.cx1] = rec.pixels[t.cy0 - t.y0 : t.cy1 - t.y0, t.cx0 - t.x0 : t.cx1 - t.x0]
        streams.append(rec.bitstream)
        encode_s += rec.encode_s
        decode_s += rec.decode_s
        if first is None:
            first = rec
        del rec, crop
    assert out is not None and first is not None
    tile_info = {
        "count": n,
        "budget_pixels": budget,
        "overlap": overlap,
        "stitch": "each output pixel comes from the one tile whose core contains it",
        "tiles": [t.as_list() for t in tiles],
    }
    header = {"codec": codec.info.id, "quality": quality, "height": height, "width": width, **tile_info}
    bitstream = pack_tiles(header, streams)
    params = dict(first.params)
    return Reconstruction(
        codec_id=codec.info.id,
        quality=quality,
        pixels=out,
        bitstream=bitstream,
        bpp=bits_per_pixel(len(bitstream), height, width),
        encode_s=encode_s,
        decode_s=decode_s,
        device=first.device,
        versions=dict(first.versions),
        weights_sha256=dict(first.weights_sha256),
        params=params,
        tiled=True,
        tiles=tile_info,
        notes=list(first.notes)
        + [
            f"coded in {n} overlapping tiles ({overlap} px overlap, budget {budget} px): "
            "the result differs from a single-pass run, and bpp includes the overlap"
        ],
    )


# --- quality metrics ----------------------------------------------------------------------


def _as_float_pair(reference: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    if reference.shape[:2] != test.shape[:2]:
        raise CodecError(f"cannot compare images of sizes {reference.shape[:2]} and {test.shape[:2]}")
    ref, tst = reference, test
    if ref.dtype != tst.dtype:
        ref = to_8bit(ref) if ref.dtype == np.uint16 else ref
        tst = to_8bit(tst) if tst.dtype == np.uint16 else tst
    if ref.ndim != tst.ndim:
        ref = ref if ref.ndim == 3 else np.repeat(ref[:, :, None], 3, axis=2)
        tst = tst if tst.ndim == 3 else np.repeat(tst[:, :, None], 3, axis=2)
    peak = 65535.0 if ref.dtype == np.uint16 else 255.0
    return ref, tst, peak


def psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """PSNR in dB over all samples (inf for identical images)."""
    ref, tst, peak = _as_float_pair(reference, test)
    mse = 0.0
    rows = max(1, (1 << 22) // max(1, ref[0].size))  # bounded working memory on big images
    for y in range(0, ref.shape[0], rows):
        d = ref[y : y + rows].astype(np.float64) - tst[y : y + rows].astype(np.float64)
        mse += float(np.sum(d * d))
    mse /= ref.size
    return math.inf if mse == 0 else 10.0 * math.log10(peak * peak / mse)


MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
_WIN = 11
_SIGMA = 1.5


def ms_ssim_min_side() -> int:
    """The smallest side MS-SSIM is defined for: the 11-tap window at the 5th scale."""
    return (_WIN - 1) * (1 << (len(MS_SSIM_WEIGHTS) - 1)) + 1


def _gauss_valid(x: np.ndarray) -> np.ndarray:
    from scipy.ndimage import correlate1d

    r = _WIN // 2
    g = np.exp(-((np.arange(_WIN) - r) ** 2) / (2 * _SIGMA**2))
    g = (g / g.sum()).astype(x.dtype)
    y = correlate1d(x, g, axis=0, mode="constant")[r:-r]
    out: np.ndarray = correlate1d(y, g, axis=1, mode="constant")[:, r:-r]  # scipy has no annotations
    return out


def _avg_pool2(x: np.ndarray) -> np.ndarray:
    # Same as torch avg_pool2d(kernel 2, stride 2, padding = size % 2, zero padding counted).
    ph, pw = x.shape[0] % 2, x.shape[1] % 2
    if ph or pw:
        x = np.pad(x, ((ph, ph), (pw, pw)))
    h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
    x = x[:h, :w]
    pooled: np.ndarray = 0.25 * (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2])
    return pooled


def _ssim_cs(x: np.ndarray, y: np.ndarray, peak: float) -> tuple[float, float]:
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    mu1, mu2 = _gauss_valid(x), _gauss_valid(y)
    mu1_sq, mu2_sq, mu12 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    s1 = _gauss_valid(x * x) - mu1_sq
    s2 = _gauss_valid(y * y) - mu2_sq
    s12 = _gauss_valid(x * y) - mu12
    cs_map = (2 * s12 + c2) / (s1 + s2 + c2)
    ssim_map = ((2 * mu12 + c1) / (mu1_sq + mu2_sq + c1)) * cs_map
    return float(ssim_map.mean(dtype=np.float64)), float(cs_map.mean(dtype=np.float64))


def ms_ssim(reference: np.ndarray, test: np.ndarray) -> float | None:
    """MS-SSIM (Wang et al. 2003 weights, 11-tap Gaussian, sigma 1.5, as in pytorch-msssim),
    averaged over channels; ``None`` when the image is too small for five scales."""
    ref, tst, peak = _as_float_pair(reference, test)
    if min(ref.shape[:2]) < ms_ssim_min_side():
        return None
    ref3 = ref if ref.ndim == 3 else ref[:, :, None]
    tst3 = tst if tst.ndim == 3 else tst[:, :, None]
    values = []
    for c in range(ref3.shape[2]):
        # float32 keeps a 24 MP channel near 100 MB per buffer; the C1/C2 constants dwarf its
        # rounding error in the variance terms.
        x = ref3[:, :, c].astype(np.float32)
        y = tst3[:, :, c].astype(np.float32)
        total = 1.0
        for i, w in enumerate(MS_SSIM_WEIGHTS):
            ssim_val, cs_val = _ssim_cs(x, y, peak)
            if i < len(MS_SSIM_WEIGHTS) - 1:
                total *= max(cs_val, 0.0) ** w
                x, y = _avg_pool2(x), _avg_pool2(y)
            else:
                total *= max(ssim_val, 0.0) ** w
        values.append(total)
    return float(np.mean(values))
