"""Codec objects for the in-process generative codecs (HiFiC and CDC) behind the codec API.

Weights come either from an explicit checkpoint (``RunOptions.weights``, hashed and recorded) or
from the user's weight store (the manifest's file, checked against the SHA-256 recorded at
import). Either way they are loaded with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from examiner.codecs.api import CodecInfo, Reconstruction, RunOptions, bits_per_pixel
from examiner.core.tasks import TaskContext
from examiner.errors import CodecError, WeightsError

# Images above this many pixels are encoded and decoded in exact latent tiles by default.
DEFAULT_TILE_BUDGET = 4_000_000

_engine_cache: dict[tuple[str, ...], Any] = {}
_engine_lock = threading.Lock()


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import torch

    from examiner import __version__

    out = {"examiner": __version__, "torch": torch.__version__, "numpy": np.__version__}
    for dist in ("constriction", "scipy"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "unknown"
    return out


def weight_source(info: CodecInfo, quality: int, options: RunOptions) -> tuple[Path, str | None, str]:
    """(path, expected sha256 or None, origin) for a run."""
    if options.weights:
        return Path(options.weights), None, "explicit"
    from examiner.codecs import weights as store

    entry = store.manifest_entry(info, quality)
    if entry is None:
        raise WeightsError(f"codec {info.id!r} lists no weight file for quality {quality}")
    installed = store.installed_files()
    name = entry["file"]
    if name not in installed:
        raise WeightsError(
            f"codec {info.id!r} quality {quality}: checkpoint {name} is not installed; "
            f"run it on a given file with --weights CHECKPOINT"
        )
    expected = entry.get("sha256") or installed[name].get("sha256")
    return store.store_dir() / name, expected, "store"


T = TypeVar("T")


def _cached(key: tuple[str, ...], factory: Callable[[], T]) -> T:
    with _engine_lock:
        if key in _engine_cache:
            cached: T = _engine_cache[key]
            return cached
    engine = factory()
    with _engine_lock:
        _engine_cache.clear()  # these models are large: keep one at a time
        _engine_cache[key] = engine
    return engine


def store_available(info: CodecInfo) -> tuple[bool, str]:
    from examiner.codecs import weights as store

    names = {w["file"] for w in info.extra.get("weights", [])}
    if names & set(store.installed_files()):
        return True, ""
    return False, "no checkpoint installed; pass one with --weights CHECKPOINT"


class HificCodec:
    """HiFiC (Mentzer et al. 2020) checkpoints of the public PyTorch port."""

    def __init__(self, info: CodecInfo) -> None:
        self.info = info

    def available(self) -> tuple[bool, str]:
        return store_available(self.info)

    def engine(self, path: Path, expected: str | None, device: str, precision: object) -> tuple[Any, str]:
        from examiner.codecs.hific.engine import HificEngine
        from examiner.codecs.neural_io import resolve_precision
        from examiner.core.hashes import file_sha256

        dtype = resolve_precision(precision, device)
        sha = file_sha256(path) if path.is_file() else ""
        key = ("hific", str(path.resolve()), sha, device, str(dtype))
        return _cached(key, lambda: HificEngine.from_file(path, expected, device, dtype))

    def run(self, image: np.ndarray, quality: int, options: RunOptions, ctx: TaskContext) -> Reconstruction:
        from examiner.codecs.devices import resolve_device
        from examiner.codecs.hific.engine import plan_for
        from examiner.codecs.hific.reference_coder import misdecoded_elements
        from examiner.codecs.neural_io import save_image_uint8, to_unit_tensor

        params = dict(options.params)
        symbols_mode = str(params.get("symbols", "intended"))
        output_mode = str(params.get("output", "reference"))
        if symbols_mode not in ("intended", "reference") or output_mode not in ("reference", "plain"):
            raise CodecError("HiFiC parameters: symbols must be intended|reference, output reference|plain")
        device = resolve_device(options.device, self.info)
        ctx.progress(0, 5, "loading HiFiC checkpoint")
        path, expected, origin = weight_source(self.info, quality, options)
        engine, sha = self.engine(path, expected, device, params.get("precision"))
        x01, notes = to_unit_tensor(image)
        height, width = x01.shape[-2:]
        enc_plan, gen_plan = plan_for(height, width, options.tile_budget_pixels or DEFAULT_TILE_BUDGET)
        ctx.progress(1, 5, "encoding")
        t0 = time.perf_counter()
        latents = engine.analyse(x01, tiles=enc_plan)
        bitstream = engine.encode_bitstream(latents)
        encode_s = time.perf_counter() - t0
        ctx.progress(2, 5, "decoding the bitstream")
        t1 = time.perf_counter()
        decoded = engine.decode_bitstream(bitstream)
        if not np.array_equal(decoded.y_symbols, latents.y_symbols) or not np.array_equal(
            decoded.z_symbols, latents.z_symbols
        ):
            raise CodecError("HiFiC bitstream did not decode to the encoded symbols on this machine")
        reference = engine.reference_symbols(decoded)
        wrong = misdecoded_elements(decoded.y_symbols, reference)
        n_wrong = int((reference != decoded.y_symbols).sum())
        used = reference if symbols_mode == "reference" else decoded.y_symbols
        ctx.progress(3, 5, "running the generator")
        x_hat = engine.synthesise(
            decoded.y_hat(used), height, width, gen_plan,
            on_tile=lambda n, total: ctx.progress(3 + n / total, 5, f"generator tile {n}/{total}"),
        )
        pixels = save_image_uint8(x_hat, normalize=output_mode == "reference")
        decode_s = time.perf_counter() - t1
        ctx.progress(5, 5, "done")
        cfg = engine.config
        notes += [
            "HiFiC (PyTorch port) processing reproduced exactly: reflection padding to a multiple of 16 "
            "(latent to a multiple of 4), round-half-up quantisation, top-left crop",
            f"bpp from this tool's own range-coded bitstream ({len(bitstream)} bytes); the port's own "
            "coder and its .hfc format are not used",
        ]
        if n_wrong:
            notes.append(
                f"the port's entropy coder would decode {n_wrong} of {decoded.y_symbols.size} latent symbols "
                "wrongly (overflow values of 16 or more keep only their lowest 4 bits); "
                + ("this run emulates that defect, as the port's compress.py output has it"
                   if symbols_mode == "reference" else "this run decodes the intended values")
            )
        else:
            notes.append("the port's entropy coder would decode every latent symbol of this image correctly")
        if output_mode == "reference":
            notes.append(
                "output written as the port does (torchvision save_image with normalize=True: the image is "
                "stretched to its own minimum and maximum before rounding)"
            )
        return Reconstruction(
            codec_id=self.info.id,
            quality=quality,
            pixels=pixels,
            bitstream=bitstream,
            bpp=bits_per_pixel(len(bitstream), height, width),
            encode_s=encode_s,
            decode_s=decode_s,
            device=device,
            versions=_versions(),
            weights_sha256={path.name: sha},
            params={
                "weights_file": str(path),
                "weights_origin": origin,
                "normalize_input_image": cfg.normalize_input_image,
                "likelihood_type": cfg.likelihood_type,
                "latent_channels": cfg.latent_channels,
                "parameters": engine.n_parameters,
                "precision": str(engine.dtype).replace("torch.", ""),
                "symbols": symbols_mode,
                "output": output_mode,
                "padded_to": [-(-height // 16) * 16, -(-width // 16) * 16],
                "theoretical_bpp": engine.theoretical_bits(latents) / (height * width),
                "reference_coder_misdecodes": n_wrong,
                "reference_coder_misdecoded_elements": wrong,
            },
            tiled=gen_plan is not None,
            tiles=None if gen_plan is None else {
                "count": len(gen_plan.boxes),
                "overlap": gen_plan.margin * 16,
                "exact": True,
                "encoder": enc_plan.to_record() if enc_plan is not None else None,
                "generator": gen_plan.to_record(),
            },
            notes=notes,
        )


class CdcCodec:
    """CDC (Yang & Mandt 2023), x- or epsilon-parameterisation, from ``info.extra['variant']``."""

    def __init__(self, info: CodecInfo) -> None:
        self.info = info
        self.variant = str(info.extra.get("variant", "x"))

    def available(self) -> tuple[bool, str]:
        return store_available(self.info)

    def engine(self, path: Path, expected: str | None, device: str, precision: object) -> tuple[Any, str]:
        from examiner.codecs.cdc.engine import CdcEngine
        from examiner.codecs.neural_io import resolve_precision
        from examiner.core.hashes import file_sha256

        dtype = resolve_precision(precision, device)
        sha = file_sha256(path) if path.is_file() else ""
        key = ("cdc", self.variant, str(path.resolve()), sha, device, str(dtype))
        return _cached(key, lambda: CdcEngine.from_file(path, self.variant, expected, device, dtype))

    def compress(self, image: np.ndarray, quality: int, options: RunOptions) -> dict[str, Any]:
        """Encode once; the result can be decoded with any number of seeds."""
        from examiner.codecs.devices import resolve_device
        from examiner.codecs.neural_io import to_unit_tensor

        device = resolve_device(options.device, self.info)
        path, expected, origin = weight_source(self.info, quality, options)
        engine, sha = self.engine(path, expected, device, options.params.get("precision"))
        x01, notes = to_unit_tensor(image)
        limit = options.tile_budget_pixels or DEFAULT_TILE_BUDGET
        if x01.shape[-2] * x01.shape[-1] > limit:
            # Memory grows with the whole image and the U-Net's linear attention is global, so
            # tiles would change the result: refuse rather than run out of memory or mislead.
            raise CodecError(
                f"CDC runs on whole images only and this one has {x01.shape[-2]}x{x01.shape[-1]} pixels, "
                f"more than the budget of {limit}; crop the region of interest or raise --tile-budget"
            )
        t0 = time.perf_counter()
        latents = engine.analyse(x01)
        bitstream = engine.encode_bitstream(latents)
        return {
            "engine": engine, "sha": sha, "path": path, "origin": origin, "device": device, "latents": latents,
            "bitstream": bitstream, "encode_s": time.perf_counter() - t0, "notes": notes,
        }

    def decode(self, state: dict[str, Any], seed: int, steps: int, gamma: float, ctx: TaskContext,
               span: tuple[float, float, float] = (0.0, 1.0, 1.0)) -> tuple[np.ndarray, float]:
        from examiner.codecs.cdc.engine import initial_noise
        from examiner.codecs.neural_io import save_image_uint8

        engine = state["engine"]
        t0 = time.perf_counter()
        decoded = engine.decode_bitstream(state["bitstream"])
        if not np.array_equal(decoded.y_symbols, state["latents"].y_symbols):
            raise CodecError("CDC bitstream did not decode to the encoded symbols on this machine")
        context = engine.context(decoded.y_hat())
        init = initial_noise((1, 3, *decoded.padded), seed, gamma)
        start, stop, total = span
        raw = engine.sample(
            context, init, steps,
            on_step=lambda n, k: ctx.progress(start + (stop - start) * n / k, total, f"sampling step {n}/{k}"),
        )
        x_hat = engine.postprocess(raw, decoded.height, decoded.width)
        return save_image_uint8(x_hat, normalize=False), time.perf_counter() - t0

    def run(self, image: np.ndarray, quality: int, options: RunOptions, ctx: TaskContext) -> Reconstruction:
        ctx.progress(0, 1, "loading CDC checkpoint")
        state = self.compress(image, quality, options)
        engine = state["engine"]
        seed = int(options.seed) if options.seed is not None else secrets.randbelow(2**31)
        steps = int(options.steps) if options.steps else engine.variant.default_steps
        gamma = float(options.params.get("gamma", 0.8))
        pixels, decode_s = self.decode(state, seed, steps, gamma, ctx, (0.05, 1.0, 1.0))
        lat = state["latents"]
        height, width = lat.height, lat.width
        bitstream = state["bitstream"]
        notes = list(state["notes"])
        if lat.padded != (height, width):
            notes.append(
                f"padded by reflection (bottom, right) from {height}x{width} to {lat.padded[0]}x{lat.padded[1]} "
                "and cropped back; the reference implementation does not pad and rejects sizes that are not "
                "multiples of 64"
            )
        notes += [
            f"decoding is stochastic: DDIM (eta 0) with {steps} steps from initial noise N(0,1) x {gamma} drawn "
            f"with seed {seed} (CPU generator, as torch.manual_seed({seed}) followed by randn_like); "
            "the same seed reproduces the same output",
            f"bpp from this tool's own range-coded bitstream ({len(bitstream)} bytes); the reference reports only "
            "the theoretical rate from its likelihoods, recorded as theoretical_bpp",
        ]
        return Reconstruction(
            codec_id=self.info.id,
            quality=quality,
            pixels=pixels,
            bitstream=bitstream,
            bpp=bits_per_pixel(len(bitstream), height, width),
            encode_s=state["encode_s"],
            decode_s=decode_s,
            device=state["device"],
            versions=_versions(),
            weights_sha256={state["path"].name: state["sha"]},
            params={
                "weights_file": str(state["path"]),
                "weights_origin": state["origin"],
                "parameterisation": engine.variant.label,
                "seed": seed,
                "steps": steps,
                "gamma": gamma,
                "eta": 0.0,
                "parameters": engine.n_parameters,
                "precision": str(engine.dtype).replace("torch.", ""),
                "padded_to": list(lat.padded),
                "theoretical_bpp": engine.theoretical_bits(lat) / (height * width),
            },
            notes=notes,
        )
