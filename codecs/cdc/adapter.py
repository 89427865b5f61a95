"""Adapter of the cdc pack: the in-process CDC engine (variant from the manifest)."""

from examiner.codecs.api import CodecInfo
from examiner.codecs.generative import CdcCodec


def create(info: CodecInfo) -> CdcCodec:
    return CdcCodec(info)
