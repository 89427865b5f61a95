"""Measured quality of the assisted symbol checks on the generated test set.

Prints the detection rate of altered symbols (a glyph changed, blurred or removed; a person
removed) and the false-proposal rate on unchanged pairs (the same scene re-saved as JPEG or
passed through the demonstration codec), overall and by alteration, character size and codec.

    python bench/bench_symbol_checks.py            # the full set
    python bench/bench_symbol_checks.py --quick    # two sizes, JPEG q90 only
    python bench/bench_symbol_checks.py --json out.json --verbose
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examiner.analysis import symbol_testset as ts  # noqa: E402
from examiner.analysis.symbols import run_checks, tesseract_status  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two sizes and JPEG q90 only")
    ap.add_argument("--json", type=Path, help="write every pair's outcome here")
    ap.add_argument("--verbose", action="store_true", help="print misses and false proposals")
    args = ap.parse_args()
    ok, engine = tesseract_status()
    print(f"OCR engine: {engine}")
    if args.quick:
        sizes, codecs, people = (14, 32), {"jpeg q90": lambda a: ts.jpeg(a, 90)}, (160,)
    else:
        sizes, codecs, people = ts.CHAR_SIZES, ts.default_codecs(), ts.PERSON_HEIGHTS
    print(f"codecs: {', '.join(codecs)}; character heights: {', '.join(map(str, sizes))} px")
    outcomes: list[ts.PairOutcome] = []
    started = time.monotonic()
    for pair in ts.pairs(sizes, codecs, people):
        checks = ("objects",) if pair.scene.kind == "person" else ("ocr", "objects")
        results = run_checks(pair.evidence, pair.comparison, checks)
        proposals = [p for r in results for p in r.proposals]
        o = ts.score_pair(pair, proposals)
        outcomes.append(o)
        if args.verbose and (o.detected is False or o.false_proposals):
            print(f"  {o.pair}: detected={o.detected} false={o.false_proposals} "
                  + "; ".join(f"{p['evidence_reading']!r}/{p['comparison_reading']!r} {p['category']} {p['box']}" for p in o.proposals))
    elapsed = time.monotonic() - started
    summary = ts.summarise(outcomes)
    a, u = summary["altered"], summary["unchanged"]
    print(f"pairs: {len(outcomes)} in {elapsed:.0f} s ({elapsed / max(1, len(outcomes)):.2f} s per pair)")
    print(f"detection rate of altered symbols: {a['detected']}/{a['pairs']} = {a['rate']:.1%}")
    for key in ("by_alteration", "by_char_px", "by_codec"):
        for name, r in summary[key].items():
            print(f"  {key[3:]} {name}: {r['detected']}/{r['pairs']} = {r['rate']:.1%}")
    print(f"false-proposal rate on unchanged pairs: {u['with_proposals']}/{u['pairs']} = "
          f"{u['false_proposal_rate']:.1%} ({u['proposals']} proposals)")
    for name, r in summary["unchanged_by_codec"].items():
        print(f"  codec {name}: {r['with_proposals']}/{r['pairs']} pairs with proposals")
    print(f"stray proposals on altered pairs (not touching the altered symbol): {summary['stray_proposals_on_altered_pairs']}")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "pairs": [o.__dict__ for o in outcomes]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
