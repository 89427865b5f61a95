"""The leave-one-family-out tables of a detector model, as Markdown (for docs/validation/detector.md and the card).

    python bench/detector_v3_tables.py [examiner/data/detector_v3.json] [--cards /work/detector-data/codecs]

With ``--cards`` the project-trained codecs' cards (architecture, up-sampling, loss, steps, rate,
PSNR) are listed too.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default=str(Path(__file__).resolve().parents[1] / "examiner" / "data" / "detector_v3.json"))
    ap.add_argument("--cards", type=Path, default=None)
    args = ap.parse_args()
    m = json.loads(Path(args.model).read_text())
    r = m["measured"]["leave_one_family_out"]
    cv = r.get("source_folds_only", {})
    print(f"Leave-one-family-out, {r['n_positives']} positives, {r['n_negatives']} negatives.\n")
    print("| family left out | n | TPR | TNR | balanced accuracy | inconclusive | found: decoded / JPEG q90 / crop | TPR, family in training |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for fam, row in r["families_left_out"].items():
        v = row["found_per_variant"]
        found = " / ".join(v.get(k, "-") for k in ("decoded", "jpeg q90", "crop 3,5"))
        seen = cv.get("families", {}).get(fam, {}).get("true_positive_rate")
        print(f"| {fam} | {row['n']} | {row['true_positive_rate']:.3f} | {row['true_negative_rate']:.3f} | "
              f"**{row['balanced_accuracy']:.3f}** | {row['inconclusive']} | {found} | "
              f"{'-' if seen is None else f'{seen:.3f}'} |")
    print("\n| negative group | n | called neural, group left out | FPR (95 % upper) | called neural, group in training | FPR (95 % upper) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for grp, row in r["negative_groups_left_out"].items():
        seen = cv.get("negative_groups", {}).get(grp, {})
        left = "not measurable" if row.get("error") else f"{row['called_neural']} | {row['false_positive_rate']:.3f} ({row['fpr_upper_95']:.3f})"
        inside = f"{seen.get('called_neural', '-')} | {seen.get('false_positive_rate', 0):.3f} ({seen.get('fpr_upper_95', 0):.3f})" if seen else "- | -"
        print(f"| {grp} | {row['n']} | {left} | {inside} |")
    print(f"\nDecision level (LR a `neural` verdict needs): {m['lr_neural']:g} without JPEG evidence, "
          f"{(m.get('jpeg_branch') or {}).get('lr_neural', float('nan')):g} with it.")
    if args.cards:
        print("\n| codec family | architecture | decoder up-sampling | loss | lambda | steps | bpp (est.) | PSNR dB | parameters |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for card in sorted(args.cards.glob("*/card.json")):
            c = json.loads(card.read_text())
            print(f"| {c['family']} | {c['architecture']} | {c['decoder_upsampling']} | {c['loss']} | {c['lambda']:g} | "
                  f"{c['steps']} | {c['mean_bpp_estimated']:.3f} | {c['mean_psnr_db']:.2f} | {c['parameters']:,} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
