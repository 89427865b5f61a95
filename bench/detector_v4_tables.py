"""The model card's tables, printed as Markdown from the shipped model file itself:

    python bench/detector_v4_tables.py [examiner/data/detector_v4.json]

so the figures in docs/validation/detector.md are the ones the model and the report quote.
``examiner evaluate-detector --real DATA --combiners v4-linear baseline`` recomputes them from the
data (``bench/make_detector_v4_data.py``).
"""

from __future__ import annotations

import sys
from typing import Any

from examiner.analysis.detector import load_model


def _neg(r: dict[str, Any]) -> str:
    return (f"{r['called_neural']}/{r['n']} ({100 * r['false_positive_rate']:.1f}%, <= {100 * r['fpr_upper_95']:.1f}%); "
            f"photos {r['photos_called_neural']}/{r['n_photos']}")


def _pos(r: dict[str, Any]) -> str:
    return f"{r['found']}/{r['n']} ({r['true_positive_rate']:.2f}, >= {r['tpr_lower_95']:.2f})"


def main() -> int:
    model = load_model(sys.argv[1] if len(sys.argv) > 1 else None)
    real, base = model.measured["real_data"], model.measured["baseline"]
    print(f"Model {model.version} ({model.measured['combiner']}), SHA-256 `{model.sha256}`; "
          f"{real['n_positives']} positives, {real['n_negatives']} negatives "
          f"(+{real['n_augmentation']} simulated augmentation images, never tested).\n")
    lv, bl = real["decision_levels"], base["decision_levels"]
    print(f"Decision level (LR for `neural`): {lv['jpeg']:g} with JPEG evidence, {lv['no_jpeg']:g} without "
          f"(baseline: {bl['jpeg']:g} and {bl['no_jpeg']:g}).\n")
    print("**Camera photos, each make left out of training in turn** (images called neural, rate, 95% upper bound; "
          "photos with any of their images called neural):\n")
    print("| make | model | baseline (12 grid peaks) |\n| --- | --- | --- |")
    for make, r in real["camera_makes_left_out"].items():
        print(f"| {make} | {_neg(r)} | {_neg(base['camera_makes_left_out'][make])} |")
    print(f"| **all makes** | **{_neg(real['camera_pooled'])}** | {_neg(base['camera_pooled'])} |\n")
    print("**Real codec families, each left out of training in turn** (found as neural, rate, 95% lower bound):\n")
    print("| family | model | baseline |\n| --- | --- | --- |")
    for fam, r in real["families_left_out"].items():
        print(f"| {fam} | {_pos(r)} | {_pos(base['families_left_out'][fam])} |")
    print("\n**Classical processing of the Kodak scans, each kind left out in turn** (called neural):\n")
    print("| processing | model | baseline |\n| --- | --- | --- |")
    for grp, r in real["kodak_groups_left_out"].items():
        b = base["kodak_groups_left_out"][grp]
        print(f"| {grp} | {r['called_neural']}/{r['n']} | {b['called_neural']}/{b['n']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
