"""CompressAI models in process, with the reference pre- and post-processing.

Reference behaviour (``compressai.utils.eval_model``): RGB scaled to [0, 1], centred zero
padding to a multiple of 64, ``compress`` then ``decompress`` with the real entropy coder
(never ``forward()``: for the autoregressive models it is not the codec), the padding cropped
off, the output clamped to [0, 1] and rounded to 8 bits. The strings and latent shape are
serialised into one byte string, and the decoder reads from those bytes, so bpp is the size
of what a file would hold.

Models are built from a verified state dict (see :mod:`examiner.codecs.weights`) with the
architecture named in the manifest's ``[codec.compressai]`` table, so a pack that ships its own
trained ``ScaleHyperprior``/``MeanScaleHyperprior`` reuses this adapter unchanged.
"""

from __future__ import annotations

import struct
import threading
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from examiner.codecs import weights as weight_store
from examiner.codecs.api import CodecInfo, Reconstruction, RunOptions, bits_per_pixel
from examiner.core.tasks import TaskContext
from examiner.errors import CodecError, WeightsError

ARCHITECTURES = {
    "bmshj2018-factorized": "FactorizedPrior",
    "bmshj2018-factorized-relu": "FactorizedPriorReLU",
    "bmshj2018-hyperprior": "ScaleHyperprior",
    "mbt2018-mean": "MeanScaleHyperprior",
    "mbt2018": "JointAutoregressiveHierarchicalPriors",
    "cheng2020-anchor": "Cheng2020Anchor",
    "cheng2020-attn": "Cheng2020Attention",
}
AUTOREGRESSIVE = {"mbt2018", "cheng2020-anchor", "cheng2020-attn"}
PAD_MULTIPLE = 64  # six stride-2 stages between image and hyper-latent
BITSTREAM_MAGIC = b"EXCA"
BITSTREAM_VERSION = 1


# --- bitstream container ------------------------------------------------------------------


def pack_bitstream(strings: list[list[bytes]], shape: Any, height: int, width: int) -> bytes:
    """Magic, version, image size, latent shape, then each latent's strings with lengths."""
    dims = [int(d) for d in shape]
    out = [BITSTREAM_MAGIC, struct.pack(">BIIB", BITSTREAM_VERSION, height, width, len(dims))]
    out += [struct.pack(">I", d) for d in dims]
    out.append(struct.pack(">B", len(strings)))
    for group in strings:
        if len(group) != 1:
            raise CodecError("expected one image per batch")
        s = group[0]
        out += [struct.pack(">I", len(s)), s]
    return b"".join(out)


def unpack_bitstream(data: bytes) -> tuple[list[list[bytes]], list[int], int, int]:
    try:
        if data[:4] != BITSTREAM_MAGIC:
            raise ValueError("bad magic")
        version, height, width, ndims = struct.unpack_from(">BIIB", data, 4)
        if version != BITSTREAM_VERSION:
            raise ValueError(f"version {version}")
        pos = 4 + struct.calcsize(">BIIB")
        dims = list(struct.unpack_from(f">{ndims}I", data, pos))
        pos += 4 * ndims
        (n,) = struct.unpack_from(">B", data, pos)
        pos += 1
        strings = []
        for _ in range(n):
            (m,) = struct.unpack_from(">I", data, pos)
            pos += 4
            if pos + m > len(data):
                raise ValueError("truncated")
            strings.append([data[pos : pos + m]])
            pos += m
        if pos != len(data):
            raise ValueError("trailing bytes")
    except (struct.error, ValueError) as exc:
        raise CodecError(f"not a valid CompressAI bitstream of this tool ({exc})") from exc
    return strings, dims, height, width


# --- model loading ------------------------------------------------------------------------


def import_compressai() -> ModuleType:
    """Import CompressAI without the deprecation notice torch prints for its TorchScript use,
    which would otherwise reach the examiner's terminal on every run."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
        import compressai
        import compressai.entropy_models
        import compressai.models
        import compressai.ops
        import compressai.zoo.pretrained  # noqa: F401 - loaded here under the filter
    return compressai


def _entropy_tables_missing(model: Any) -> bool:
    import_compressai()
    from compressai.entropy_models import EntropyModel

    return any(
        isinstance(m, EntropyModel) and m._quantized_cdf.numel() == 0  # noqa: SLF001 - CompressAI's own buffer
        for m in model.modules()
    )


def build_model(architecture: str, state_dict: dict[str, Any], where: str) -> tuple[Any, list[str]]:
    """A CompressAI model from a state dict, with entropy-coder tables ready."""
    import_compressai()
    import compressai.models as cm
    from compressai.zoo.pretrained import load_pretrained

    cls_name = ARCHITECTURES.get(architecture)
    if cls_name is None:
        raise CodecError(f"{where}: unknown CompressAI architecture {architecture!r} (known: {', '.join(ARCHITECTURES)})")
    cls = getattr(cm, cls_name)
    notes: list[str] = []
    state = load_pretrained(state_dict)  # the zoo's own key renaming (DataParallel, old layouts)
    try:
        model = cls.from_state_dict(state)
    except (RuntimeError, KeyError, IndexError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"{where}: these weights do not fit the {architecture} architecture ({first})") from exc
    if _entropy_tables_missing(model):
        # Training checkpoints carry no CDF tables; CompressAI's eval computes them the same way.
        model.update(force=True)
        notes.append("entropy-coder tables computed at load time with update(force=True)")
    return model.eval(), notes


def _lay_over(state: dict[str, Any], decoder: dict[str, Any], where: str) -> None:
    """Replace the synthesis transform's tensors of ``state`` with those of ``decoder``. Only
    ``g_s`` may change, and every tensor must exist with the same shape: a decoder file cannot
    alter the encoder or the entropy model, so the bitstream stays that of the base weights."""
    if not decoder:
        raise WeightsError(f"{where}: the decoder file holds no tensors")
    for key, value in decoder.items():
        if not key.startswith("g_s.") or key not in state or tuple(state[key].shape) != tuple(value.shape):
            raise WeightsError(f"{where}: tensor {key!r} is not part of the base model's decoder g_s")
        state[key] = value.to(state[key].dtype)


class CompressAICodec:
    """One CompressAI architecture; weights per quality come from the manifest and store."""

    def __init__(self, info: CodecInfo) -> None:
        cfg = info.extra.get("compressai")
        if not isinstance(cfg, dict) or "architecture" not in cfg:
            raise CodecError(f"codec {info.id!r}: the manifest needs [codec.compressai] architecture = ...")
        if cfg["architecture"] not in ARCHITECTURES:
            raise CodecError(f"codec {info.id!r}: unknown CompressAI architecture {cfg['architecture']!r}")
        self.info = info
        self.architecture: str = cfg["architecture"]
        self.metric: str = str(cfg.get("metric", ""))
        self._lock = threading.Lock()
        # One model kept warm: tiles and repeated runs at one quality reuse it, and the
        # weight file's hash is still checked on every run before the cached model is used.
        self._cached: tuple[str, str, Any, list[str]] | None = None

    def available(self) -> tuple[bool, str]:
        if not self.info.extra.get("weights"):
            return True, ""
        if weight_store.installed_qualities(self.info):
            return True, ""
        return False, "no weight files installed (examiner codecs import FILE...)"

    def _decoder_overlay(self, quality: int, options: RunOptions) -> tuple[Path, str] | None:
        """The fine-tuned decoder the manifest lays over the base weights, if any."""
        entry = weight_store.manifest_entry(self.info, quality)
        if entry is None or "decoder_file" not in entry or options.weights is not None:
            return None
        path = Path(self.info.pack_dir) / entry["decoder_file"]
        if not path.is_file():
            raise WeightsError(f"{path}: the decoder weights named in the pack manifest are missing")
        return path, str(entry["decoder_sha256"])

    def _model(
        self, quality: int, options: RunOptions, device: str
    ) -> tuple[Any, dict[str, str], weight_store.ResolvedWeights, list[str]]:
        resolved = weight_store.resolve(self.info, quality, options.weights)
        overlay = self._decoder_overlay(quality, options)
        with self._lock:
            cached = self._cached
            # Hashed before the cache is consulted: a file changed on disk must not be served
            # from a model built out of its earlier contents.
            checks = [(resolved.path, resolved.expected_sha256, resolved.expected_prefix)]
            if overlay is not None:
                checks.append((overlay[0], overlay[1], None))
            files: dict[str, str] = {}
            for path, expected, prefix in checks:
                files[path.name] = weight_store.sha256_file(path)
                weight_store.check_digest(path, files[path.name], expected, prefix)
            key = "+".join(files.values())
            if cached is not None and cached[0] == key and cached[1] == device:
                return cached[2], files, resolved, cached[3]
            self._cached = None  # free the previous model before building the next
            state, digest = weight_store.load_verified(resolved.path, resolved.expected_sha256, resolved.expected_prefix)
            notes: list[str] = []
            if overlay is not None:
                decoder, _ = weight_store.load_verified(overlay[0], overlay[1])
                _lay_over(state, decoder, str(overlay[0]))
                notes.append(f"decoder g_s from {overlay[0].name} laid over {resolved.path.name}")
            model, build_notes = build_model(self.architecture, state, str(resolved.path))
            del state
            model = model.to(device)
            notes += build_notes
            self._cached = (key, device, model, notes)
            return model, files, resolved, notes

    def run(self, image: np.ndarray, quality: int, options: RunOptions, ctx: TaskContext) -> Reconstruction:
        compressai = import_compressai()
        import torch
        import torch.nn.functional as F
        from compressai.ops import compute_padding

        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise CodecError(f"{self.info.id}: expects 8-bit RGB pixels, got {image.dtype} {image.shape}")
        device = options.device if options.device in ("cpu", "cuda") else "cpu"
        ctx.progress(0, 3, f"{self.info.id}: loading weights")
        model, files, resolved, load_notes = self._model(quality, options, device)
        height, width = image.shape[:2]
        pad, unpad = compute_padding(height, width, min_div=PAD_MULTIPLE)
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(image)).to(device)
            x = x.permute(2, 0, 1).unsqueeze(0).float().div_(255.0)
            x = F.pad(x, pad, mode="constant", value=0)
            ctx.progress(1, 3, f"{self.info.id}: encoding")
            t0 = time.perf_counter()
            enc = model.compress(x)
            if device == "cuda":
                torch.cuda.synchronize()
            data = pack_bitstream(enc["strings"], enc["shape"], height, width)
            encode_s = time.perf_counter() - t0
            del x, enc
            ctx.progress(2, 3, f"{self.info.id}: decoding")
            t1 = time.perf_counter()
            strings, shape, h2, w2 = unpack_bitstream(data)
            dec = model.decompress(strings, shape)
            x_hat = F.pad(dec["x_hat"], unpad).clamp_(0, 1)
            pixels_t = x_hat.mul_(255.0).round_().to(torch.uint8).squeeze(0).permute(1, 2, 0)
            if device == "cuda":
                torch.cuda.synchronize()
            pixels = pixels_t.cpu().numpy().copy()
            decode_s = time.perf_counter() - t1
            del dec, x_hat, pixels_t
        if (h2, w2) != (height, width) or pixels.shape != image.shape:
            raise CodecError(f"{self.info.id}: decoded {pixels.shape}, expected {image.shape}")
        notes = list(load_notes)
        if resolved.note:
            notes.append(resolved.note)
        return Reconstruction(
            codec_id=self.info.id,
            quality=quality,
            pixels=pixels,
            bitstream=data,
            bpp=bits_per_pixel(len(data), height, width),
            encode_s=encode_s,
            decode_s=decode_s,
            device=device,
            versions={
                "compressai": compressai.__version__,
                "torch": torch.__version__,
                "numpy": np.__version__,
                **({"cuda": str(torch.version.cuda)} if device == "cuda" else {}),
            },
            weights_sha256=files,
            params={
                "architecture": self.architecture,
                "metric": self.metric,
                "weights_file": resolved.path.name,
                **({"decoder_file": list(files)[1]} if len(files) > 1 else {}),
                "weights_origin": resolved.origin,
                "weights_official": resolved.official,
                "padding": {"multiple": PAD_MULTIPLE, "left_right_top_bottom": list(pad), "mode": "centred zeros"},
                "postprocess": "crop, clamp [0,1], x255, round",
                "entropy_coding": "compress/decompress" + (" (autoregressive context model)" if self.architecture in AUTOREGRESSIVE else ""),
                "bitstream_header_bytes": len(data) - sum(len(s[0]) for s in strings),
            },
            notes=notes,
        )
