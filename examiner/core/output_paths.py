"""Output paths that must never land on a file a case depends on.

A report, a preview image or a result PDF written over an evidence file, a reference original
or a case file would destroy what an examination rests on. That holds for every case the
program knows of, not only the one being reported on: the case named, the cases in the output's
folder, and the recently used cases the front end passes in. The names SQLite keeps beside a
case (``-journal``, ``-wal``, ``-shm``) are refused too: SQLite would take a file there for the
case's rollback journal, and use or delete it. Paths are compared after resolving links, and
by device and inode, so a symlink or a hard link to evidence is caught too.

:func:`guard_output` is the one check every command calls before it writes a file.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from examiner.core.store import APPLICATION_ID
from examiner.errors import ExaminerError

CASE_SUFFIX = ".mcase"
SQLITE_COMPANIONS = ("-journal", "-wal", "-shm")
_COMPANION_NAME = re.compile(r".*\.mcase-(journal|wal|shm)", re.IGNORECASE | re.DOTALL)
# Bounds on what is read from other cases: a folder of thousands of cases must not stall a report.
MAX_NEIGHBOUR_CASES = 200
MAX_ROWS_PER_CASE = 100_000


def case_files(case: Any) -> list[Path]:
    """The case file and every evidence and reference file it references."""
    out = [Path(case.path)]
    for item in case.evidence():
        out.append(Path(item.path))
        if item.reference_path:
            out.append(Path(item.reference_path))
    return out


def companions(case_path: str | Path) -> list[Path]:
    """The files SQLite may keep beside a case file."""
    return [Path(f"{case_path}{suffix}") for suffix in SQLITE_COMPANIONS]


def is_case_file(p: Path) -> bool:
    """True for a file that carries the case file's SQLite header and application id."""
    try:
        if not p.is_file():
            return False
        with open(p, "rb") as fh:
            head = fh.read(72)
    except OSError:
        return False
    return head.startswith(b"SQLite format 3\x00") and len(head) == 72 and int.from_bytes(head[68:72], "big") == APPLICATION_ID


def stored_files(case_path: Path) -> list[Path]:
    """The evidence and reference paths a case file records, read without opening it as a case
    (no checks, no log entry); empty when it cannot be read."""
    if not is_case_file(case_path):
        return []
    try:
        conn = sqlite3.connect(f"{case_path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
    except (sqlite3.Error, OSError, ValueError):
        return []
    try:
        rows = conn.execute("SELECT path, reference_path FROM evidence LIMIT ?", (MAX_ROWS_PER_CASE,)).fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return [Path(v) for row in rows for v in row if isinstance(v, str) and v]


def known_cases(out: Path, case_paths: Iterable[str | Path] = (), recent_cases: Iterable[str | Path] = ()) -> list[Path]:
    """The cases an output must keep clear of: those named, those in the output's folder, and
    the recent ones."""
    found: list[Path] = [Path(p) for p in case_paths]
    try:
        neighbours = sorted(out.parent.glob(f"*{CASE_SUFFIX}"))[:MAX_NEIGHBOUR_CASES]
    except OSError:
        neighbours = []
    found += neighbours
    found += [Path(p) for p in recent_cases]
    seen: set[Path] = set()
    unique = []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def guard_output(
    out: str | Path,
    protected: Iterable[str | Path] = (),
    case_paths: Iterable[str | Path] = (),
    recent_cases: Iterable[str | Path] = (),
    what: str = "output",
) -> None:
    """ExaminerError if writing ``out`` would touch a case file, a file SQLite keeps beside one,
    or an evidence or reference file of any case the program knows (see :func:`known_cases`);
    ``protected`` adds files of the caller's own (the open case's, an input image)."""
    target = Path(out)
    cases = known_cases(target, case_paths, recent_cases)
    if _COMPANION_NAME.fullmatch(target.name) or any(
        target.resolve() == c.resolve() for case in cases for c in companions(case)
    ):
        raise ExaminerError(
            f"{target}: the {what} would take a name SQLite keeps for a case file's journal; SQLite would "
            "use or delete it; choose another name"
        )
    files: list[Path] = [Path(p) for p in protected]
    for case in cases:
        files.append(case)
        files += stored_files(case)
    refuse_protected(target, files, what)
    if is_case_file(target):
        raise ExaminerError(f"{target}: the {what} would land on a case file; refusing to overwrite it")


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
                f"{target}: the {what} would land on {pp}, a file a case depends on (case file, evidence "
                "or reference); refusing to overwrite it"
            )
