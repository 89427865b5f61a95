"""``examiner evaluate-detector``: measured error rates of the detector, and its calibration."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from examiner.errors import ExaminerError


def register(subparsers: argparse._SubParsersAction) -> None:
    from examiner.commands._output import add_json_flag

    p = subparsers.add_parser(
        "evaluate-detector",
        help="measure the detector's error rates on labelled folders (and calibrate it)",
        description="Runs the detector's spectral analysis over folders of known neural-codec outputs "
        "(--positives) and never-neural images (--negatives) and prints ROC AUC, the true-positive "
        "rate at 1%% and 5%% false-positive rate, and confusion tables per family (first sub-folder) "
        "and per bit-rate band. With --calibrate OUT.json the folders are the calibration set: a new "
        "model is fitted and written to OUT.json, with the rates measured on --test-positives/"
        "--test-negatives when given.",
    )
    p.add_argument("--positives", nargs="+", metavar="DIR", help="folders of images known to have passed through a neural codec")
    p.add_argument("--negatives", nargs="+", metavar="DIR", help="folders of images known never to have done so")
    p.add_argument("--lofo", metavar="DATA", default=None,
                   help="leave-one-family-out validation on a folder made by bench/make_detector_v3_data.py "
                   "(DATA/images); with --calibrate the model fitted on all of it is written too")
    p.add_argument("--real", metavar="DATA", default=None,
                   help="validation on real data (camera makes and real codec families left out) on a folder made "
                   "by bench/make_detector_v4_data.py (DATA/images), the plain baseline beside the model; with "
                   "--calibrate the shipped model is fitted on all of it and carries those figures")
    p.add_argument("--combiners", nargs="+", metavar="NAME", default=None,
                   help="with --real: the combiners to validate (baseline, v3-refit, v4-linear, v4-mlp; "
                   "default: the shipped one and the baseline)")
    p.add_argument("--features-cache", metavar="FILE", default=None,
                   help="with --lofo or --real: where the images' features are kept between runs "
                   "(default DATA/features.json)")
    p.add_argument("--calibrate", metavar="OUT.json", default=None,
                   help="fit a model and write it to OUT.json with the figures it was measured at")
    p.add_argument("--test-positives", nargs="+", metavar="DIR", default=None,
                   help="with --calibrate: held-out neural images to measure the new model on")
    p.add_argument("--test-negatives", nargs="+", metavar="DIR", default=None,
                   help="with --calibrate: held-out never-neural images to measure it on")
    p.add_argument("--model", default=None, help="model JSON to evaluate (default: the shipped one)")
    p.add_argument("--description", default="", help="free text describing the sets, stored with a calibration")
    add_json_flag(p)
    p.set_defaults(func=run)


def _measure(pos: list[str], neg: list[str], ctx: Any) -> Any:
    from examiner.analysis.calibration import collect, extract

    for d in pos + neg:
        if not Path(d).exists():
            raise ExaminerError(f"{d}: no such folder")
    items = collect(pos, 1) + collect(neg, 0)
    if not items:
        raise ExaminerError("no images found in the given folders")
    return extract(items, ctx)


def run(args: argparse.Namespace) -> int:
    from examiner.analysis import calibration
    from examiner.analysis.detector import load_model
    from examiner.commands._output import print_json
    from examiner.core.tasks import StderrProgress, TaskContext

    if args.real:
        from examiner.commands.evaluate_real import run_real

        return run_real(args)
    if args.lofo:
        from examiner.commands.evaluate_lofo import run_lofo

        return run_lofo(args)
    if not args.positives or not args.negatives:
        raise ExaminerError("--positives and --negatives are needed (or --lofo DATA)")
    ctx = TaskContext(on_progress=StderrProgress(force=True))
    measured = _measure(args.positives, args.negatives, ctx)
    if args.calibrate:
        try:
            model = calibration.train(measured)
        except ValueError as exc:
            raise ExaminerError(str(exc)) from exc
        report: dict[str, Any] = {"calibration": calibration.evaluate(model, measured)}
        if args.test_positives and args.test_negatives:
            test = _measure(args.test_positives, args.test_negatives, ctx)
            report["test"] = calibration.evaluate(model, test)
        model.measured = report
        model.composition = {
            "description": args.description,
            "calibration_sets": {"positives": args.positives, "negatives": args.negatives},
            "test_sets": {"positives": args.test_positives, "negatives": args.test_negatives},
        }
        Path(args.calibrate).write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
        result = {"model": args.calibrate, "weights": dict(zip(model.features, model.weights.round(4).tolist(), strict=True)),
                  "threshold_neural": model.threshold_neural, "threshold_not_neural": model.threshold_not_neural,
                  "jpeg_branch": None if model.jpeg_branch is None else {
                      "weights": dict(zip(model.jpeg_branch.features, model.jpeg_branch.weights.round(4).tolist(), strict=True)),
                      "threshold_neural": model.jpeg_branch.threshold_neural,
                      "threshold_not_neural": model.jpeg_branch.threshold_not_neural},
                  **report}
    else:
        model = load_model(args.model)
        result = {"model_version": model.version, "evaluation": calibration.evaluate(model, measured)}
    if measured.errors:
        result["unreadable"] = measured.errors
    if args.json:
        print_json(result)
    else:
        _print_text(result)
    return 0


def _print_text(result: dict[str, Any]) -> None:
    for name in ("calibration", "test", "evaluation"):
        r = result.get(name)
        if not r:
            continue
        print(f"== {name}: {r['n_positives']} positives, {r['n_negatives']} negatives")
        print(f"ROC AUC {r['roc_auc']:.3f}; TPR at FPR 1%: {r['tpr_at_fpr_1pct']:.3f}; "
              f"TPR at FPR 5%: {r['tpr_at_fpr_5pct']:.3f}")
        s = r["with_shipped_thresholds"]
        print(f"with the model's thresholds: FPR {s['false_positive_rate']}, TPR {s['true_positive_rate']}")
        for title, key in (("family", "per_family"), ("bpp band", "per_bpp_band")):
            print(f"{title:<40} {'n':>5} {'neural':>7} {'inconcl':>7} {'not-neu':>7}")
            for k, row in r[key].items():
                print(f"{k:<40} {row['n']:>5} {row['neural']:>7} {row['inconclusive']:>7} {row['not-neural']:>7}")
    for e in result.get("unreadable", []):
        print(f"unreadable: {e['path']}: {e['error']}")
