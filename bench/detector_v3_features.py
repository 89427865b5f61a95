"""Features of every image of a detector v3 data folder, cached (resumable), in the background:

    nice -n 10 python bench/detector_v3_features.py /work/detector-data

``examiner evaluate-detector --lofo DATA`` does the same before validating; this script lets the
slow part run while the data are still being made.
"""

from __future__ import annotations

import sys
from pathlib import Path

from examiner.analysis import lofo


def main() -> int:
    data = Path(sys.argv[1])
    items = lofo.load_items(data / "images")
    print(f"{len(items)} images", flush=True)
    lofo.extract_cached(data / "images", items, data / "features.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
