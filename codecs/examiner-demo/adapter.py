"""Adapter of a pack of project-trained CompressAI models: the shared CompressAI runner
builds each model from the pack's SHA-256-checked safetensors file."""

from examiner.codecs.api import CodecInfo
from examiner.codecs.compressai_models import CompressAICodec


def create(info: CodecInfo) -> CompressAICodec:
    return CompressAICodec(info)
