"""Measured quality of the assisted symbol checks on the generated test set.

Prints the detection rate of altered symbols (a glyph changed, blurred or removed; a person
removed) and the false-proposal rate on unchanged pairs (the same scene re-saved as JPEG or
passed through the demonstration codec), overall and by alteration, character size and codec.

    python bench/bench_symbol_checks.py            # the full set
    python bench/bench_symbol_checks.py --quick    # two sizes, JPEG q90 only
    python bench/bench_symbol_checks.py --json out.json --verbose
    python bench/bench_symbol_checks.py --photos ../shared/data/kodak   # also natural photos

With ``--photos DIR`` (default: the Kodak folder of the development data when it is present),
every PNG there is compared with its own JPEG re-saves: photographs without altered symbols,
so every proposal there is a false one.
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
    ap.add_argument("--photos", type=Path, default=None, help="a folder of PNG photographs for false proposals")
    ap.add_argument("--no-photos", action="store_true", help="skip the photographs")
    ap.add_argument("--sizes", default=None, help="capital heights in pixels, comma-separated (default: all)")
    ap.add_argument("--jpeg", default="90,75,50", help="JPEG qualities, comma-separated (default 90,75,50)")
    ap.add_argument("--demo-qualities", default=None,
                    help="qualities of the demonstration codec (default: its lowest and highest; 'none' to skip)")
    args = ap.parse_args()
    ok, engine = tesseract_status()
    print(f"OCR engine: {engine}")
    if args.quick:
        sizes, codecs, people = (14, 32), {"jpeg q90": lambda a: ts.jpeg(a, 90)}, (160,)
    else:
        sizes = tuple(int(v) for v in args.sizes.split(",")) if args.sizes else ts.CHAR_SIZES
        people = ts.PERSON_HEIGHTS
        codecs = {f"jpeg q{q}": (lambda a, q=int(q): ts.jpeg(a, q)) for q in args.jpeg.split(",") if q.strip()}
        if args.demo_qualities != "none":
            wanted = None if args.demo_qualities is None else [int(v) for v in args.demo_qualities.split(",")]
            codecs.update(ts.demo_codecs(wanted) or {})
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
    photos = args.photos or Path(__file__).resolve().parents[2] / "shared" / "data" / "kodak"
    photo_summary = None if args.no_photos or not photos.is_dir() else _photos(photos, args.verbose, args.quick, args.jpeg)
    if args.json:
        args.json.write_text(
            json.dumps({"summary": summary, "photos": photo_summary, "pairs": [o.__dict__ for o in outcomes]}, indent=1)
        )
    return 0


def _photos(folder: Path, verbose: bool, quick: bool, jpeg: str) -> dict[str, object]:
    import numpy as np
    from PIL import Image

    files = sorted(folder.glob("*.png"))[: 4 if quick else None]
    qualities = (90,) if quick else tuple(int(q) for q in jpeg.split(",") if q.strip())
    flagged: dict[str, int] = {}
    counts: dict[str, int] = {}
    seconds = {"ocr": 0.0, "objects": 0.0}
    for f in files:
        with Image.open(f) as im:
            original = np.asarray(im.convert("RGB")).copy()
        for q in qualities:
            results = run_checks(ts.jpeg(original, q), original)
            for r in results:
                seconds[r.check] += r.seconds
                key = f"{r.check} jpeg q{q}"
                flagged[key] = flagged.get(key, 0) + (1 if r.proposals else 0)
                counts[key] = counts.get(key, 0) + len(r.proposals)
                if verbose and r.proposals:
                    print(f"  {f.name} q{q} {r.check}: " + "; ".join(
                        f"{p.evidence_reading!r}/{p.comparison_reading!r} {p.category.value} {list(p.box)}" for p in r.proposals))
    n = len(files)
    print(f"photographs: {n} from {folder} against their JPEG re-saves (every proposal is false)")
    for key in sorted(flagged):
        print(f"  {key}: {flagged[key]}/{n} photographs with proposals ({counts[key]} proposals)")
    runs = max(1, n * len(qualities))
    print(f"  mean time per photograph: OCR {seconds['ocr'] / runs:.1f} s, objects {seconds['objects'] / runs:.1f} s")
    return {"photographs": n, "with_proposals": flagged, "proposals": counts,
            "mean_seconds": {k: v / runs for k, v in seconds.items()}}


if __name__ == "__main__":
    sys.exit(main())
