"""Adapter of the JPEG XL pack: the external-codec protocol, configured by the manifest."""

from examiner.codecs.api import CodecInfo
from examiner.codecs.external import ExternalCodec


def create(info: CodecInfo) -> ExternalCodec:
    return ExternalCodec(info)
