"""Adapter of the hific pack: the in-process HiFiC engine."""

from examiner.codecs.api import CodecInfo
from examiner.codecs.generative import HificCodec


def create(info: CodecInfo) -> HificCodec:
    return HificCodec(info)
