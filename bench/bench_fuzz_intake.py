"""Long fuzz run of evidence intake: mutated JPEG/PNG/TIFF/WebP/BMP files must either decode
completely or be refused with the project's own error. Prints the counts; exits 1 on any other
outcome, listing a replay line (seed file + mutation ops) for each.

    python bench/bench_fuzz_intake.py [--cases 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from intake_fuzzing import MUTATIONS, check_intake, mutate, seed_files  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    seeds = seed_files()
    names = sorted(seeds)
    rng = random.Random(args.seed)
    outcomes: Counter[str] = Counter()
    by_format: Counter[tuple[str, str]] = Counter()
    by_mutation: Counter[tuple[str, str]] = Counter()
    failures: list[str] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        for case in range(args.cases):
            name = rng.choice(names)
            ops = [(rng.choice(sorted(MUTATIONS)), rng.randrange(1 << 32)) for _ in range(rng.randint(1, 3))]
            path = Path(d) / f"case{case}-{name}"
            path.write_bytes(mutate(seeds[name], ops))
            try:
                result = check_intake(path)
            except BaseException as exc:  # noqa: BLE001 - counting what escaped is the point
                if isinstance(exc, KeyboardInterrupt):
                    raise
                result = "FAILURE"
                failures.append(f"{name} {ops}: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")
            path.unlink()
            outcomes[result] += 1
            by_format[(name.split("-")[0], result)] += 1
            for op, _ in ops:
                by_mutation[(op, result)] += 1
    elapsed = time.perf_counter() - start
    total = sum(outcomes.values())
    print(f"fuzz intake: {total} cases in {elapsed:.1f} s ({1000 * elapsed / max(1, total):.1f} ms/case), seed {args.seed}")
    print(f"  decoded completely: {outcomes['ok']}")
    print(f"  refused with a clear error: {outcomes['refused']}")
    print(f"  other outcomes (bugs): {outcomes['FAILURE']}")
    print("  by format (ok / refused / bugs):")
    for fmt in sorted({f for f, _ in by_format}):
        print(f"    {fmt:<5} {by_format[(fmt, 'ok')]:>5} / {by_format[(fmt, 'refused')]:>5} / {by_format[(fmt, 'FAILURE')]:>3}")
    print("  by mutation (ok / refused / bugs):")
    for op in sorted(MUTATIONS):
        print(f"    {op:<11} {by_mutation[(op, 'ok')]:>5} / {by_mutation[(op, 'refused')]:>5} / {by_mutation[(op, 'FAILURE')]:>3}")
    for f in failures[:20]:
        print("FAILURE:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
