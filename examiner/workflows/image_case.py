"""Start from an image: a new case for it in the user's cases folder, the image taken in as evidence.

This is what ``examiner gui IMAGE`` and the window's *File > Open image...* do, so that a new
examiner can start working without first learning what a case file is. The evidence goes through
the same intake as ``case add-evidence`` (read-only, hashed, decode-checked); the case is named
after the image and the day, and an existing case file is never overwritten.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import re
from pathlib import Path

from examiner.core.case import CASE_SUFFIX, Case
from examiner.core.settings import data_dir
from examiner.core.tasks import TaskContext, silent
from examiner.errors import CaseError

SQLITE_MAGIC = b"SQLite format 3\x00"
# SQLite may leave these beside a case file it created; they go with it when an intake fails.
_SIDECARS = ("-wal", "-shm", "-journal")


def cases_dir() -> Path:
    """Where cases made from an opened image are kept (under the data directory, which
    ``EXAMINER_DATA_DIR`` overrides)."""
    return data_dir() / "cases"


def looks_like_case(path: str | Path) -> bool:
    """True for a case file (by suffix or by the database header), False for anything else, so
    that ``examiner gui FILE`` can take either a case or an image."""
    p = Path(path)
    if p.suffix.lower() == CASE_SUFFIX:
        return True
    try:
        with open(p, "rb") as fh:
            return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    return slug[:60] or "image"


def case_id_for(image: str | Path, day: _dt.date) -> str:
    return f"{_slug(Path(image).stem)}-{day.isoformat()}"


def case_path_for(image: str | Path, day: _dt.date, folder: Path) -> Path:
    """A free file name in ``folder``: ``<image name>-<date>.mcase``, then ``-2``, ``-3``..."""
    base = case_id_for(image, day)
    candidate = folder / f"{base}{CASE_SUFFIX}"
    n = 2
    while candidate.exists() or any(Path(f"{candidate}{s}").exists() for s in _SIDECARS):
        candidate = folder / f"{base}-{n}{CASE_SUFFIX}"
        n += 1
    return candidate


def case_for_image(
    image: str | Path,
    examiner: str,
    max_pixels: int,
    folder: Path | None = None,
    day: _dt.date | None = None,
    ctx: TaskContext | None = None,
) -> Case:
    """Create a case for ``image`` and take the image in as its first evidence item.

    Returns the open case (integrity checked, not recorded: the case was just made). An image
    that intake refuses raises its usual one-line error, and the case file made for it is removed
    again, so a failed attempt leaves nothing behind in the cases folder.
    """
    ctx = ctx or silent()
    if not examiner.strip():
        raise CaseError("a case needs the examiner's name; set it in Edit > Preferences")
    src = Path(image)
    if not src.is_file():
        raise CaseError(f"{src}: file not found")
    target_dir = folder or cases_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    day = day or _dt.date.today()
    path = case_path_for(src, day, target_dir)
    ctx.progress(0, 3, "creating the case")
    case = Case.create(path, case_id=case_id_for(src, day), examiner=examiner.strip(), actor=examiner.strip(), max_pixels=max_pixels)
    try:
        ctx.progress(1, 3, "taking the image in (hashing, decoding)")
        case.add_evidence(src)
        ctx.progress(2, 3, "checking integrity")
        case.integrity_check(record=False)
    except BaseException:
        case.close()
        # Only the files made a moment ago by Case.create (it refuses an existing name).
        for p in (path, *(Path(f"{path}{s}") for s in _SIDECARS)):
            with contextlib.suppress(OSError):
                p.unlink()
        raise
    ctx.progress(3, 3, "case ready")
    return case
