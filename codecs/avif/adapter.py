"""Adapter of the avif pack: the shared Pillow codec, configured by the manifest."""

from examiner.codecs.api import CodecInfo
from examiner.codecs.pillow_codecs import PillowCodec


def create(info: CodecInfo) -> PillowCodec:
    return PillowCodec(info, pillow_format="AVIF")
