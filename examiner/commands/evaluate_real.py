"""``examiner evaluate-detector --real DATA``: the detector validated on real data (camera makes
and real codec families left out, see :mod:`examiner.analysis.real_validation`), the plain
baseline beside it, and with ``--calibrate OUT.json`` the model fitted on all of DATA carrying
those figures."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from examiner.errors import ExaminerError

# The combiner that ships, and the baseline it must beat in the same folds.
SHIPPED = "v4-grid-bal"
BASELINE = "baseline"


def load(data: Path, cache: str | None) -> tuple[list[Any], dict[str, dict[str, float]]]:
    from examiner.analysis import lofo

    root = data / "images"
    if not root.is_dir():
        raise ExaminerError(f"{root}: no such folder (make it with bench/make_detector_v4_data.py)")
    items = lofo.load_items(root)
    if not items:
        raise ExaminerError(f"{root}: no manifest*.json with images")
    feats = lofo.extract_cached(root, items, Path(cache) if cache else data / "features.json", _log)
    return items, feats


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_real(args: argparse.Namespace) -> int:
    from examiner.analysis import lofo, real_validation
    from examiner.commands._output import print_json

    items, feats = load(Path(args.real), args.features_cache)
    names = [SHIPPED, BASELINE] if not args.combiners else list(args.combiners)
    reports: dict[str, Any] = {}
    for name in names:
        try:
            fit = real_validation.combiner(name)
        except ValueError as exc:
            raise ExaminerError(f"--combiners: {exc}; choose from {', '.join(real_validation.COMBINERS)}") from exc
        _log(f"== {name}")
        reports[name] = real_validation.run(items, feats, fit, _log)
    result: dict[str, Any] = {"real_data_validation": reports}
    if args.calibrate:
        if SHIPPED not in reports or BASELINE not in reports:
            raise ExaminerError(f"--calibrate fits {SHIPPED} and needs it and {BASELINE} in --combiners")
        pool = [it for it in items if it.rel in feats]
        model = lofo.fit_with_lr(pool, feats, real_validation.combiner(SHIPPED), n_bootstrap=200)
        levels = reports[SHIPPED]["decision_levels"]
        model.lr_neural = levels["no_jpeg"]
        if model.jpeg_branch is not None:
            model.jpeg_branch.lr_neural = levels["jpeg"]
        for branch in (model, model.jpeg_branch):
            if branch is not None and branch.lr_calibration is not None:
                branch.threshold_neural = round(branch.lr_calibration.score_for_lr(branch.lr_neural), 6)
        model.measured = {"real_data": reports[SHIPPED], "baseline": reports[BASELINE], "combiner": SHIPPED,
                          "family_profiles": real_validation.family_profiles(model, pool, feats)}
        model.composition = {"description": args.description, "data": str(Path(args.real)),
                             "counts": lofo.family_counts(pool)}
        Path(args.calibrate).write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
        result["model"] = args.calibrate
    if args.json:
        print_json(result)
    else:
        print_tables(reports)
    return 0


def _pct(k: int, n: int) -> str:
    return f"{k}/{n}"


def _camera_cell(r: dict[str, Any]) -> str:
    return (f"{_pct(r['called_neural'], r['n'])} ({r['photos_called_neural']}/{r['n_photos']}) "
            f"<= {100 * r['fpr_upper_95']:.1f}%")


def print_tables(reports: dict[str, Any]) -> None:
    names = list(reports)
    first = reports[names[0]]
    print(f"real-data validation: {first['n_positives']} positives, {first['n_negatives']} negatives "
          f"(+{first['n_augmentation']} augmentation, never tested)")
    for n in names:
        print(f"{n}: decision levels {reports[n]['decision_levels']}")
    print("\nCamera makes left out: images called neural (photos with any image called neural), 95% upper bound")
    print(f"{'make':<14}" + "".join(f"{n:>30}" for n in names))
    for make in first["camera_makes_left_out"]:
        cells = [_camera_cell(reports[n]["camera_makes_left_out"][make]) for n in names]
        print(f"{make:<14}" + "".join(f"{c:>30}" for c in cells))
    cells = [_camera_cell(reports[n]["camera_pooled"]) for n in names]
    print(f"{'all makes':<14}" + "".join(f"{c:>30}" for c in cells))
    print("\nReal codec families left out: found (true-positive rate, 95% lower bound)")
    print(f"{'family':<16}" + "".join(f"{n:>28}" for n in names))
    for fam in first["families_left_out"]:
        cells = []
        for n in names:
            r = reports[n]["families_left_out"][fam]
            cells.append(f"{_pct(r['found'], r['n'])} ({r['true_positive_rate']:.2f}, >= {r['tpr_lower_95']:.2f})")
        print(f"{fam:<16}" + "".join(f"{c:>28}" for c in cells))
    print("\nKodak scans, classical processing left out: called neural")
    print(f"{'group':<18}" + "".join(f"{n:>20}" for n in names))
    for grp in first["kodak_groups_left_out"]:
        cells = [_pct(reports[n]["kodak_groups_left_out"][grp]["called_neural"],
                      reports[n]["kodak_groups_left_out"][grp]["n"]) for n in names]
        print(f"{grp:<18}" + "".join(f"{c:>20}" for c in cells))
