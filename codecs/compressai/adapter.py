"""Adapter of the CompressAI zoo pack: models are built from imported official weights."""

from examiner.codecs.api import CodecInfo
from examiner.codecs.compressai_models import CompressAICodec


def create(info: CodecInfo) -> CompressAICodec:
    return CompressAICodec(info)
