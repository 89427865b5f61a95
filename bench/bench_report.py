"""Report export speed: a case with 20 marked regions, exported to PDF (target: at most 3 s).

Prints wall-clock and CPU time for the whole export (integrity re-check, model, layout, write,
audit entry) over several runs, the page count, and whether the runs gave identical bytes.
Run: ``.venv/bin/python bench/bench_report.py [REGIONS] [RUNS] [WIDTHxHEIGHT]`` (default 20 regions,
5 runs, a 320x240 evidence image; e.g. ``20 3 4000x3000`` for a 12-megapixel one).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    regions = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    width, height = (int(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "320x240").split("x"))
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        base = Path(tmp)
        os.environ.setdefault("EXAMINER_CONFIG_DIR", str(base / "config"))
        os.environ.setdefault("EXAMINER_DATA_DIR", str(base / "data"))
        from report_cases import make_case

        from examiner.core.case import Case
        from examiner.report.export import export_report
        from examiner.report.pdf_style import register_fonts

        register_fonts()  # one-off font loading is not part of an export
        case_path = make_case(base / "case", n_regions=regions, size=(width, height))
        walls: list[float] = []
        cpus: list[float] = []
        hashes: set[str] = set()
        pages = 0
        with Case.open(case_path) as case:
            for i in range(runs):
                w0, c0 = time.perf_counter(), time.process_time()
                result = export_report(case, base / f"r{i}.pdf")
                walls.append(time.perf_counter() - w0)
                cpus.append(time.process_time() - c0)
                hashes.add(result.sha256)
                pages = result.pages
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"report export, {width}x{height} evidence, {regions} regions, {pages} pages, {runs} runs (load average {load:.1f}, {os.cpu_count()} CPUs)")
    print(f"  wall  median {statistics.median(walls):.2f} s  min {min(walls):.2f} s  max {max(walls):.2f} s")
    print(f"  CPU   median {statistics.median(cpus):.2f} s  min {min(cpus):.2f} s")
    print(f"  identical bytes across runs: {'yes' if len(hashes) == 1 else 'NO'}")
    target = 3.0
    ok = min(walls) <= target
    print(f"  target <= {target:.1f} s: {'met' if ok else 'NOT met'} (best run)")
    return 0 if len(hashes) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
