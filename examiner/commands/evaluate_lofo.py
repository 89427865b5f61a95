"""``examiner evaluate-detector --lofo DATA``: leave-one-family-out validation, and with
``--calibrate OUT.json`` the model fitted on all of DATA with those figures as its measured rates."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from examiner.errors import ExaminerError


def fitter(version: str = "3") -> Any:
    from examiner.analysis import calibration

    def fit(m: calibration.Measured) -> Any:
        return calibration.train(m, features=calibration.V3_FEATURES, version=version,
                                 jpeg_features=calibration.V3_JPEG_FEATURES, hidden=calibration.V3_HIDDEN)

    return fit


def run_lofo(args: argparse.Namespace) -> int:
    from examiner.analysis import lofo
    from examiner.commands._output import print_json

    root = Path(args.lofo) / "images"
    if not root.is_dir():
        raise ExaminerError(f"{root}: no such folder (make it with bench/make_detector_v3_data.py)")
    items = lofo.load_items(root)
    if not items:
        raise ExaminerError(f"{root}: no manifest*.json with images")
    cache = Path(args.features_cache) if args.features_cache else Path(args.lofo) / "features.json"

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    feats = lofo.extract_cached(root, items, cache, log)
    fit = fitter()
    report = lofo.run(items, feats, fit, log)
    result: dict[str, Any] = {"leave_one_family_out": report}
    if args.calibrate:
        model = lofo.fit_final(items, feats, fit)
        model.measured = {"leave_one_family_out": report}
        model.composition = {"description": args.description, "data": str(Path(args.lofo)),
                             "counts": lofo.family_counts(items)}
        Path(args.calibrate).write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
        result["model"] = args.calibrate
        result["lr_neural"] = model.lr_neural
        result["jpeg_branch_lr_neural"] = None if model.jpeg_branch is None else model.jpeg_branch.lr_neural
    if args.json:
        print_json(result)
    else:
        print_table(report)
    return 0


def print_table(report: dict[str, Any]) -> None:
    print(f"leave-one-family-out: {report['n_positives']} positives, {report['n_negatives']} negatives")
    print(f"{'family left out':<34} {'n':>5} {'TPR':>6} {'TNR':>6} {'bal.acc':>7} {'incon':>5}  found per variant")
    for fam, r in report["families_left_out"].items():
        print(f"{fam:<34} {r['n']:>5} {r['true_positive_rate']:>6.3f} {r['true_negative_rate']:>6.3f} "
              f"{r['balanced_accuracy']:>7.3f} {r['inconclusive']:>5}  {r['found_per_variant']}")
    print(f"{'negative group left out':<34} {'n':>5} {'neural':>6} {'FPR':>6} {'upper95':>7} {'incon':>5}")
    for grp, r in report["negative_groups_left_out"].items():
        if r.get("error"):
            print(f"{grp:<34} {r['n']:>5} not measurable: {r['error']}")
            continue
        print(f"{grp:<34} {r['n']:>5} {r['called_neural']:>6} {r['false_positive_rate']:>6.3f} "
              f"{r['fpr_upper_95']:>7.3f} {r['inconclusive']:>5}")
    cv = report.get("source_folds_only", {})
    if cv:
        print("with every family and group in training, source images held out:")
        for grp, r in cv["negative_groups"].items():
            print(f"  {grp:<32} {r['n']:>5} {r['called_neural']:>6} {r['false_positive_rate']:>6.3f} "
                  f"{r['fpr_upper_95']:>7.3f} {r['inconclusive']:>5}")
        for fam, r in cv["families"].items():
            print(f"  {fam:<32} {r['n']:>5} TPR {r['true_positive_rate']:.3f} bal.acc {r['balanced_accuracy']:.3f}")
