"""The XMP statement written onto the images a dataset export or an exercise pack derives."""

from __future__ import annotations

from typing import Any

from examiner.core.provenance_write import MakingStatement, codec_is_learned, png_with_statement


def learned_codec(codec_id: str | None) -> bool | None:
    """Whether the codec with this id is a learned one; None when it is not installed here."""
    if not codec_id:
        return None
    from examiner.codecs.registry import get_info

    try:
        info, _pack = get_info(str(codec_id))
    except Exception:  # noqa: BLE001 - an unknown codec is recorded as unknown, not an error
        return None
    return codec_is_learned(info)


def annotate_png(png: bytes, kind: str, source_sha256: str | None, codec: dict[str, Any] | None) -> bytes:
    """``png`` with a statement of what made it: ``codec`` ({"codec", "quality", "bpp"}) when a
    codec made the pixels, None when they are the source's own (a crop of the evidence)."""
    codec_made = kind != "dataset crop" or codec is not None
    codec_id = (codec or {}).get("codec")
    quality = (codec or {}).get("quality")
    bpp = (codec or {}).get("bpp")
    st = MakingStatement(
        kind=kind,
        source_sha256=source_sha256,
        codec_id=str(codec_id) if codec_id else None,
        learned=learned_codec(codec_id),
        quality=int(quality) if isinstance(quality, int | float) else None,
        bpp=float(bpp) if isinstance(bpp, int | float) else None,
        codec_made=codec_made,
    )
    return png_with_statement(png, st)
