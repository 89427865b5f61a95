"""Features of every image of a detector v4 data folder, cached and resumable, in N processes:

    python bench/detector_v4_features.py /work/detector-data/v4 [--workers 2]

Each worker keeps its own cache (``features-<k>.json``) so none waits on another; at the end
they are merged into ``features.json``, which ``examiner evaluate-detector --real DATA`` reads
(and would complete itself, in one process, if this script was not run).
"""

from __future__ import annotations

import argparse
import json
from multiprocessing import Process
from pathlib import Path

from examiner.analysis import lofo


def work(data: Path, k: int, n: int, only: str, tag: str) -> None:
    items = [it for it in lofo.load_items(data / "images") if it.rel.startswith(only)]
    done = json.loads((data / "features.json").read_text()) if (data / "features.json").is_file() else {}
    mine = [it for i, it in enumerate(items) if i % n == k and it.rel not in done]
    lofo.extract_cached(data / "images", mine, data / f"features-{tag}{k}.json",
                        lambda s: print(f"[{tag}{k}] {s}", flush=True))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="", help="only images whose path in DATA/images starts with this")
    args = ap.parse_args()
    tag = "".join(c for c in args.only if c.isalnum())
    procs = [Process(target=work, args=(args.data, k, args.workers, args.only, tag)) for k in range(args.workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    merged = json.loads((args.data / "features.json").read_text()) if (args.data / "features.json").is_file() else {}
    for part in sorted(args.data.glob("features-*.json")):
        merged.update(json.loads(part.read_text()))
    tmp = args.data / "features.tmp"
    tmp.write_text(json.dumps(merged))
    tmp.replace(args.data / "features.json")
    print(f"{len(merged)} images with features in {args.data / 'features.json'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
