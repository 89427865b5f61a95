"""Output paths that must never land on a file the case depends on.

A report, a preview image or a result PDF written over an evidence file, a reference original
or the case file itself would destroy what the examination rests on. Paths are compared after
resolving links, and by device and inode, so a symlink or a hard link to evidence is caught too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from examiner.errors import ExaminerError


def case_files(case: Any) -> list[Path]:
    """The case file and every evidence and reference file it references."""
    out = [Path(case.path)]
    for item in case.evidence():
        out.append(Path(item.path))
        if item.reference_path:
            out.append(Path(item.reference_path))
    return out


def _identity(p: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(p)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def refuse_protected(out: str | Path, protected: Iterable[str | Path], what: str = "output") -> None:
    """ExaminerError if writing ``out`` would touch one of ``protected``."""
    target = Path(out)
    resolved = target.resolve()
    ident = _identity(target)
    for p in protected:
        pp = Path(p)
        if resolved == pp.resolve() or (ident is not None and ident == _identity(pp)):
            raise ExaminerError(
                f"{target}: the {what} would land on {pp}, a file the case depends on (case file, evidence "
                "or reference); refusing to overwrite it"
            )
