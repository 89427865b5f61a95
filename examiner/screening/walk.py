"""A streaming walk over the sources that names everything it will not screen.

Memory stays bounded by the largest single folder (each folder's entries are sorted, so every
walk of the same tree yields the same order, which keeps row ids stable across a resume).
Symbolic links are never followed: a link to a file inside a source is screened through the
link (the bytes are those of its target, so its hash matches the target's row and it is listed
as a duplicate); a link that leads out of the sources, a link to a folder, a dangling link and
anything that is not a regular file (FIFO, socket, device) become rows with their reason. A
FIFO is never opened: opening one would block the walk.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from examiner.core.safe_files import kind_name

FILE = "file"  # a regular file to hash and analyse
REFUSED = "refused"  # not screened, with the reason
ERROR = "error"  # could not be looked at (unreadable folder, vanished entry)


@dataclass(frozen=True)
class Entry:
    path: str  # absolute, as walked (under the resolved source root)
    source: str
    kind: str
    size: int = 0
    mtime: float = 0.0
    reason: str = ""


def resolve_sources(sources: list[str]) -> list[str]:
    """Absolute, resolved source roots, without repeats or roots nested inside another root
    (a nested root would count its files twice)."""
    roots: list[str] = []
    for s in sources:
        r = str(Path(s).resolve())
        if r not in roots:
            roots.append(r)
    kept = [r for r in roots if not any(o != r and _inside(r, o) for o in roots)]
    return kept


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _link_entry(path: str, source: str, roots: list[str]) -> Entry:
    try:
        target = os.readlink(path)
    except OSError as exc:
        return Entry(path, source, ERROR, reason=f"symbolic link that cannot be read ({exc.strerror or exc})")
    resolved = os.path.realpath(path)
    try:
        st = os.stat(path)
    except OSError:
        return Entry(path, source, REFUSED, reason=f"dangling symbolic link to {target!s}; nothing to screen")
    if not any(_inside(resolved, r) for r in roots):
        return Entry(path, source, REFUSED,
                     reason=f"symbolic link to {resolved} outside the sources; not followed")  # fmt: skip
    if stat.S_ISDIR(st.st_mode):
        return Entry(path, source, REFUSED,
                     reason=f"symbolic link to the folder {resolved} inside the sources; not followed "
                     "(its files are screened under their own paths)")  # fmt: skip
    if not stat.S_ISREG(st.st_mode):
        return Entry(path, source, REFUSED, reason=f"symbolic link to {kind_name(st.st_mode)}; not opened")
    return Entry(path, source, FILE, size=st.st_size, mtime=st.st_mtime)


def walk(sources: list[str]) -> Iterator[Entry]:
    """Every entry under the (resolved) sources, depth first, in sorted order."""
    roots = resolve_sources(sources)
    for root in roots:
        yield from _walk_root(root, roots)


def _walk_root(root: str, roots: list[str]) -> Iterator[Entry]:
    try:
        st = os.lstat(root)
    except OSError as exc:
        yield Entry(root, root, ERROR, reason=f"source cannot be read ({exc.strerror or exc})")
        return
    if stat.S_ISREG(st.st_mode):
        yield Entry(root, root, FILE, size=st.st_size, mtime=st.st_mtime)
        return
    if not stat.S_ISDIR(st.st_mode):
        yield Entry(root, root, REFUSED, reason=f"source is {kind_name(st.st_mode)}; not opened")
        return
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield Entry(folder, root, ERROR,
                        reason=f"folder cannot be read ({exc.strerror or exc}); its contents were not screened")  # fmt: skip
            continue
        subfolders: list[str] = []
        for e in entries:
            path = e.path
            try:
                st = e.stat(follow_symlinks=False)
            except OSError as exc:
                yield Entry(path, root, ERROR, reason=f"cannot be examined ({exc.strerror or exc})")
                continue
            if stat.S_ISLNK(st.st_mode):
                yield _link_entry(path, root, roots)
            elif stat.S_ISDIR(st.st_mode):
                subfolders.append(path)
            elif stat.S_ISREG(st.st_mode):
                yield Entry(path, root, FILE, size=st.st_size, mtime=st.st_mtime)
            else:
                yield Entry(path, root, REFUSED, reason=f"{kind_name(st.st_mode)}; not opened")
        # Reversed onto the stack so folders come out in sorted order.
        stack.extend(reversed(subfolders))
