"""What ``examiner inspect`` reports of one image: intake facts and metadata from the same bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from examiner.core.evidence import open_evidence_with_bytes
from examiner.core.metadata import read_metadata


def inspect_image(path: str | Path, max_pixels: int | None = None) -> dict[str, Any]:
    """Intake facts plus metadata of one image, as JSON-ready data (what ``examiner inspect``
    prints). The file is read once; the metadata comes from the same bytes that were hashed."""
    ev, data = open_evidence_with_bytes(path, max_pixels)
    meta = read_metadata(data, ev.facts.format)
    out: dict[str, Any] = ev.facts.to_dict()
    out.update(
        {
            "exif": meta["exif"],
            "gps": meta["gps"],
            "maker_note_tags": meta["maker_note_tags"],
            "software": meta["software"],
            "camera": meta["camera"],
            "datetime_original": meta["datetime_original"],
            "thumbnail": meta["thumbnail"],
            "xmp": meta["xmp"],
            "text_chunks": meta["text_chunks"],
            "jpeg": meta["jpeg"],
            "metadata_errors": meta["errors"],
            "metadata_notices": meta["notices"],
        }
    )
    # Provenance statements (XMP/IPTC, Content Credentials) are recorded facts: they stand beside
    # any detector verdict and never replace it.
    from examiner.core.provenance import read_provenance

    out["provenance"] = read_provenance(data, ev.facts.format)
    return out
