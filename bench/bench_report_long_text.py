"""Report layout time against the length of a region's text (target: 100k line breaks in under 5 s).

Builds one case per size whose single region has notes of N short lines, exports the report and
prints the wall-clock time, so growth that is not linear in N shows at once.
Run: ``.venv/bin/python bench/bench_report_long_text.py [N ...]`` (default 2000 10000 100000).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    sizes = [int(v) for v in sys.argv[1:]] or [2000, 10000, 100000]
    with tempfile.TemporaryDirectory(prefix="bench-report-text-") as tmp:
        base = Path(tmp)
        os.environ.setdefault("EXAMINER_CONFIG_DIR", str(base / "config"))
        os.environ.setdefault("EXAMINER_DATA_DIR", str(base / "data"))
        from report_cases import make_case

        from examiner.core.case import Case
        from examiner.report.export import export_report
        from examiner.report.pdf_style import register_fonts

        register_fonts()
        ok = True
        for n in sizes:
            note = "\n".join(f"line {i}" for i in range(n))
            case_path = make_case(base / f"case{n}", n_regions=1, note=note, with_findings=False)
            with Case.open(case_path) as case:
                t0 = time.perf_counter()
                result = export_report(case, base / f"r{n}.pdf")
                wall = time.perf_counter() - t0
            print(f"{n:>7} line breaks: {wall:6.2f} s wall, {result.pages} pages", flush=True)
            if n >= 100_000 and wall > 5.0:
                ok = False
    print(f"target: 100k line breaks in under 5 s: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
