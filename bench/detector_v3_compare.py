"""Leave-one-family-out figures of other combiners on the detector v3 data, for the choice of v3's.

    python bench/detector_v3_compare.py /work/detector-data v2 linear mlp-free [mlp-monotone]

Same protocol and cached features as ``examiner evaluate-detector --lofo`` (which fits
``mlp-monotone``, the shipped combiner); prints one table per combiner:

* ``v2``: model v2's linear non-negative combiner over its 16 features (JPEG branch: 8);
* ``linear``: a linear combiner over v3's features (non-negative on trace features);
* ``mlp-free``: v3's hidden layer without the monotonicity constraint;
* ``mlp-monotone``: v3's combiner.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from examiner.analysis import calibration, lofo


def combiner(name: str) -> Any:
    c = calibration
    if name == "v2":
        return lambda m: c.train(m, features=c.DEFAULT_FEATURES, version="x", jpeg_features=c.JPEG_BRANCH_FEATURES)
    kw: dict[str, Any] = {"features": c.V3_FEATURES, "jpeg_features": c.V3_JPEG_FEATURES, "version": "x"}
    if name == "linear":
        return lambda m: c.train(m, **kw)
    return lambda m: c.train(m, hidden=c.V3_HIDDEN, monotone=name == "mlp-monotone", **kw)


def main() -> int:
    data = Path(sys.argv[1])
    items = lofo.load_items(data / "images")
    feats = json.loads((data / "features.json").read_text())
    items = [it for it in items if it.rel in feats]
    for name in sys.argv[2:]:
        t0 = time.perf_counter()
        r = lofo.run(items, feats, combiner(name), log=lambda s: None)
        print(f"== {name} ({time.perf_counter() - t0:.0f} s): worst family balanced accuracy "
              f"{r['worst_family_balanced_accuracy']:.3f}", flush=True)
        for fam, row in r["families_left_out"].items():
            print(f"  {fam:<32} balanced accuracy {row['balanced_accuracy']:.3f}  TPR {row['true_positive_rate']:.3f}  "
                  f"TNR {row['true_negative_rate']:.3f}", flush=True)
        for grp, row in r["negative_groups_left_out"].items():
            fpr = "not measurable" if row.get("error") else f"{row['false_positive_rate']:.3f} (upper {row['fpr_upper_95']:.3f})"
            print(f"  left out {grp:<23} FPR {fpr}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
