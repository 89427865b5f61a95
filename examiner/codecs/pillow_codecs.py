"""Classical codecs through Pillow: JPEG (libjpeg-turbo), lossy WebP and AVIF.

The bitstream is exactly the file Pillow writes, decoded again by Pillow from those bytes, so
bits per pixel are those of a real file.
"""

from __future__ import annotations

import io
import time
from typing import Any

import numpy as np

from examiner.codecs.api import CodecInfo, Reconstruction, RunOptions, bits_per_pixel
from examiner.core.tasks import TaskContext
from examiner.errors import CodecError

SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}
_LIB_FEATURE = {"JPEG": "jpg", "WEBP": "webp", "AVIF": "avif"}


def _save_kwargs(fmt: str, quality: int, params: dict[str, Any], grey: bool) -> dict[str, Any]:
    if fmt == "JPEG":
        kw: dict[str, Any] = {"quality": quality, "optimize": bool(params.get("optimize", False))}
        sub = str(params.get("subsampling", "4:2:0"))
        if sub not in SUBSAMPLING:
            raise CodecError(f"JPEG subsampling must be one of {', '.join(SUBSAMPLING)}, not {sub!r}")
        if not grey:
            kw["subsampling"] = SUBSAMPLING[sub]
        # Baseline sequential, no EXIF/ICC: the run is about the coding, not the container.
        return kw
    if fmt == "WEBP":
        method = int(params.get("method", 4))
        if not 0 <= method <= 6:
            raise CodecError(f"WebP method must be 0..6, not {method}")
        return {"quality": quality, "method": method, "lossless": False}
    if fmt == "AVIF":
        sub = str(params.get("subsampling", "4:2:0"))
        if sub not in SUBSAMPLING:
            raise CodecError(f"AVIF subsampling must be one of {', '.join(SUBSAMPLING)}, not {sub!r}")
        speed = int(params.get("speed", 6))
        if not 0 <= speed <= 10:
            raise CodecError(f"AVIF speed must be 0..10, not {speed}")
        return {"quality": quality, "subsampling": sub, "speed": speed}
    raise CodecError(f"unsupported Pillow format {fmt!r}")


class PillowCodec:
    """A codec whose encoder and decoder are Pillow's ``save``/``open`` for one format."""

    def __init__(self, info: CodecInfo, pillow_format: str) -> None:
        if pillow_format not in _LIB_FEATURE:
            raise CodecError(f"unsupported Pillow format {pillow_format!r}")
        self.info = info
        self.pillow_format = pillow_format

    def available(self) -> tuple[bool, str]:
        from PIL import features

        feature = _LIB_FEATURE[self.pillow_format]
        if not features.check(feature):
            return False, f"this Pillow build lacks {feature} support"
        return True, ""

    def versions(self) -> dict[str, str]:
        import PIL
        from PIL import features

        out = {"Pillow": PIL.__version__}
        lib = features.version(_LIB_FEATURE[self.pillow_format])
        if lib:
            out[{"JPEG": "libjpeg", "WEBP": "libwebp", "AVIF": "libavif"}[self.pillow_format]] = str(lib)
        if self.pillow_format == "JPEG" and features.check_feature("libjpeg_turbo"):
            out["libjpeg-turbo"] = str(features.version("libjpeg_turbo"))
        return out

    def run(self, image: np.ndarray, quality: int, options: RunOptions, ctx: TaskContext) -> Reconstruction:
        from PIL import Image

        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise CodecError(f"{self.info.id}: expects 8-bit grey or RGB pixels, got {image.dtype} {image.shape}")
        grey = image.ndim == 2
        kwargs = _save_kwargs(self.pillow_format, quality, options.params, grey)
        ctx.progress(0, 2, f"{self.info.id}: encoding")
        t0 = time.perf_counter()
        buf = io.BytesIO()
        try:
            Image.fromarray(image, mode="L" if grey else "RGB").save(buf, self.pillow_format, **kwargs)
        except (OSError, ValueError) as exc:
            raise CodecError(f"{self.info.id}: the encoder failed ({exc})") from exc
        data = buf.getvalue()
        encode_s = time.perf_counter() - t0
        ctx.progress(1, 2, f"{self.info.id}: decoding")
        t1 = time.perf_counter()
        try:
            with Image.open(io.BytesIO(data)) as decoded:
                decoded.load()
                want = "L" if grey else "RGB"
                pixels = np.asarray(decoded if decoded.mode == want else decoded.convert(want), dtype=np.uint8).copy()
        except (OSError, ValueError) as exc:
            raise CodecError(f"{self.info.id}: could not decode its own bitstream ({exc})") from exc
        decode_s = time.perf_counter() - t1
        if pixels.shape != image.shape:
            raise CodecError(f"{self.info.id}: decoded {pixels.shape}, expected {image.shape}")
        params = {"format": self.pillow_format, **{k: v for k, v in kwargs.items() if k != "quality"}}
        if self.pillow_format == "JPEG":
            sub = str(options.params.get("subsampling", "4:2:0"))
            params["subsampling"] = "none (single channel)" if grey else sub
        return Reconstruction(
            codec_id=self.info.id,
            quality=quality,
            pixels=pixels,
            bitstream=data,
            bpp=bits_per_pixel(len(data), image.shape[0], image.shape[1]),
            encode_s=encode_s,
            decode_s=decode_s,
            device="cpu",
            versions=self.versions(),
            params=params,
        )
