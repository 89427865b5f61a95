"""In-tree runners that a pack manifest names instead of shipping an adapter file.

A pack either names one of these (``runner = "compressai"`` in its ``[pack]`` table) or ships its
own ``adapter.py``. The built-in packs all use runners, so the only Python that codec packs carry
is third-party code, and that code needs nothing but :mod:`examiner.codecs.api`. Each factory
imports its engine lazily: listing codecs must never load torch.
"""

from __future__ import annotations

from collections.abc import Callable

from examiner.codecs.api import Codec, CodecInfo
from examiner.errors import CodecError


def _pillow(info: CodecInfo) -> Codec:
    from examiner.codecs.pillow_codecs import PillowCodec

    fmt = info.extra.get("pillow_format")
    if not isinstance(fmt, str) or not fmt:
        raise CodecError(f"codec {info.id!r}: the pillow runner needs pillow_format in its [[codec]] table")
    return PillowCodec(info, pillow_format=fmt)


def _compressai(info: CodecInfo) -> Codec:
    from examiner.codecs.compressai_models import CompressAICodec

    return CompressAICodec(info)


def _hific(info: CodecInfo) -> Codec:
    from examiner.codecs.generative import HificCodec

    return HificCodec(info)


def _cdc(info: CodecInfo) -> Codec:
    from examiner.codecs.generative import CdcCodec

    return CdcCodec(info)


def _external(info: CodecInfo) -> Codec:
    from examiner.codecs.external import ExternalCodec

    return ExternalCodec(info)


RUNNERS: dict[str, Callable[[CodecInfo], Codec]] = {
    "pillow": _pillow,
    "compressai": _compressai,
    "hific": _hific,
    "cdc": _cdc,
    "external": _external,
}
