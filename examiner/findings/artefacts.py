"""Names under which a finding's artefacts are stored in the case (name -> artefact SHA-256)."""

from __future__ import annotations

RECONSTRUCTION = "reconstruction.png"  # a re-compression's decoded image
BITSTREAM = "bitstream.bin"  # the codec's real bitstream
SPECTRUM = "spectrum.png"  # a detection's averaged residual spectrum
TILE_MAP = "tile_map.json"  # a detection's per-tile scores
VARIABILITY_MAP = "variability_map.png"  # a seed-variability map (8-bit, white = largest spread)

# What a reader should show when it wants "the image" of a finding, in order of preference.
IMAGE_ARTEFACTS = (RECONSTRUCTION, VARIABILITY_MAP)
