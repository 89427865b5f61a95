"""The real-data protocol for several combiners side by side, on cached features:

    python bench/detector_v4_compare.py DATA baseline v3-refit v4-linear v4-mlp [--out FILE.json]

Same protocol, folds and decision rule as ``examiner evaluate-detector --real`` (which fits the
shipped combiner and the baseline); reads ``DATA/features.json`` and any ``features-*.json`` left
by ``bench/detector_v4_features.py``, and computes no features itself.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from examiner.analysis import lofo, real_validation
from examiner.commands.evaluate_real import print_tables


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("combiners", nargs="+", choices=real_validation.COMBINERS)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    feats: dict[str, dict[str, float]] = {}
    for f in [args.data / "features.json", *sorted(args.data.glob("features-*.json"))]:
        if f.is_file():
            feats.update(json.loads(f.read_text()))
    items = [it for it in lofo.load_items(args.data / "images") if it.rel in feats]
    reports = {}
    for name in args.combiners:
        t0 = time.perf_counter()
        reports[name] = real_validation.run(items, feats, real_validation.combiner(name), log=lambda s: None)
        print(f"{name}: {time.perf_counter() - t0:.0f} s", flush=True)
    print_tables(reports)
    if args.out:
        args.out.write_text(json.dumps(reports, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
