"""Names of the project's own demonstration codec pack (``codecs/examiner-demo``).

The training commands write these into the pack they build, and the demo case, the starter
exercise pack and the symbol test set look the codec up by them, so each is defined once here.
Nothing is imported: front ends can read the names without loading the codec machinery.
"""

from __future__ import annotations

DEMO_CODEC_ID = "examiner-demo-mbt2018-mean"
DEMO_PACK_NAME = "Examiner demonstration codecs (project-trained)"
# Prefix of the weight files' names; older training records do not state theirs.
DEMO_FILE_PREFIX = "examiner-demo"
