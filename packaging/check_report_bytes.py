"""Check that a change to the report code leaves the report's bytes as they were.

Builds the PDF report of fixed cases twice, once with the ``examiner`` package of a git ref (by
default ``main``) and once with this working tree, and compares the files byte for byte. The
cases are the demo case (built into the user data folder if it is not there yet) and the case the
report tests use (``tests/report_cases.py``: a reference original, a detection, a re-compression
and three regions). reportlab runs in invariant mode and the issue date is given, so the same
model must give the same bytes.

    .venv/bin/python packaging/check_report_bytes.py [--ref main] [--case CASE.mcase ...]

Exit status 0 when every report is identical, 1 when one differs (its SHA-256s are printed).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ISSUED = "2026-01-01T00:00:00"


def _export_ref(ref: str, dest: Path) -> Path:
    """The ``examiner`` package and the codec packs (found beside pyproject.toml) as they are at
    ``ref``, unpacked under ``dest``."""
    dest.mkdir(parents=True)
    archive = dest / "ref.tar"
    with archive.open("wb") as f:
        subprocess.run(["git", "-C", str(REPO), "archive", ref, "examiner", "codecs", "pyproject.toml"], stdout=f, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return dest


def _fixture_case(dest: Path) -> Path:
    sys.path.insert(0, str(REPO / "tests"))
    from report_cases import make_case  # the report tests' case

    return make_case(dest / "fixture")


def _demo_case() -> Path:
    from examiner.demo import ensure_demo_case

    return ensure_demo_case()


def _report(tree: Path, case: Path, out: Path) -> bytes:
    # A fresh copy each time: exporting records an entry in the case (one the report leaves out).
    copy = out.with_suffix(".mcase")
    shutil.copyfile(case, copy)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "examiner", "report", str(copy), "--out", str(out), "--issued", ISSUED]
    result = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{case}: the report failed with {tree}:\n{result.stderr}")
    return out.read_bytes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default="main", help="git ref to compare with (default: main)")
    parser.add_argument("--case", type=Path, action="append", help="a case to report on (default: demo and fixture)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="report-bytes-") as tmp:
        work = Path(tmp)
        before = _export_ref(args.ref, work / "ref")
        cases = args.case or [_demo_case(), _fixture_case(work)]
        differ = 0
        for n, case in enumerate(cases):
            old = _report(before, case, work / f"before-{n}.pdf")
            new = _report(REPO, case, work / f"after-{n}.pdf")
            same = old == new
            differ += not same
            print(f"{'identical' if same else 'DIFFERENT'}  {case}  ({len(new)} bytes)")
            if not same:
                print(f"  {args.ref}: {hashlib.sha256(old).hexdigest()}\n  tree: {hashlib.sha256(new).hexdigest()}")
        return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
