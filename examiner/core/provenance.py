"""What an image file says about its own making: XMP/IPTC statements and Content Credentials.

These are claims recorded from the file, never conclusions: a statement that a learned codec made
the pixels is evidence for it; the absence of a statement, or a broken credential, is evidence of
nothing by itself (metadata is stripped by almost every upload and re-save).
"""

from __future__ import annotations

from typing import Any

INFERENCE_NOTE = (
    "A statement in the file that a learned codec or a trained model made or changed the pixels is "
    "evidence that it did (signed statements more so than unsigned XMP, which anyone can write). "
    "An absent, stripped or broken statement is evidence of nothing by itself: most tools and "
    "uploads drop metadata. These are recorded facts, beside the detector's verdict, never in place of it."
)


def read_provenance(data: bytes, fmt: str) -> dict[str, Any]:
    """XMP/IPTC provenance and Content Credentials of the bytes that were hashed at intake."""
    from examiner.core.credentials import credential_statements, read_credentials
    from examiner.core.xmp import read_xmp

    xmp = read_xmp(data, fmt)
    c2pa = read_credentials(data, fmt)
    statements = credential_statements(c2pa) + (list(xmp["statements"]) if xmp else [])
    return {
        "c2pa": c2pa,
        "xmp": xmp,
        "statements": statements,
        "inference": INFERENCE_NOTE,
    }
