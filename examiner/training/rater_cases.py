"""Several examiners' cases on the same evidence, read for inter-rater agreement."""

from __future__ import annotations

from pathlib import Path

from examiner.core.regions import Region
from examiner.errors import ExaminerError


def normalise_sha(sha: str) -> str:
    s = sha.strip().lower()
    if len(s) < 8 or any(c not in "0123456789abcdef" for c in s):
        raise ExaminerError("the evidence needs a SHA-256 in hex (at least 8 digits)")
    return s


def load_rater(path: str | Path, sha: str) -> tuple[str, list[Region]]:
    """The examiner's name and regions on the evidence whose SHA-256 starts with ``sha``."""
    from examiner.core.case import Case

    p = Path(path)
    if not p.is_file():
        raise ExaminerError(f"{p}: no such case file")
    with Case.open(p, read_only=True) as case:
        items = [e for e in case.evidence() if e.sha256.lower().startswith(sha)]
        if not items:
            raise ExaminerError(f"{p}: no evidence with SHA-256 {sha} in this case")
        if len(items) > 1:
            raise ExaminerError(f"{p}: the prefix {sha} matches several evidence items; give more digits")
        return case.details.examiner or p.stem, case.regions(items[0].id)


def load_raters(paths: list[str | Path], sha: str) -> tuple[list[str], list[list[Region]]]:
    """Names (made unique) and regions of every case, in order."""
    if len(paths) < 2:
        raise ExaminerError("agreement needs at least two case files")
    sha = normalise_sha(sha)
    names: list[str] = []
    regions: list[list[Region]] = []
    for p in paths:
        name, regs = load_rater(p, sha)
        if name in names:
            name = f"{name} ({Path(p).name})"
        names.append(name)
        regions.append(regs)
    return names, regions
