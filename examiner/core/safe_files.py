"""Opening files whose paths came from people or from case files, without surprises.

A path may name a FIFO, a device such as ``/dev/zero``, a socket or a folder. ``open()`` on a
FIFO blocks until a writer appears, and reading a device never ends, so every file the program
hashes or reads as evidence is checked with ``os.stat`` first, opened with ``O_NONBLOCK`` (a
FIFO swapped in after the check then cannot block the open) and checked again on the open
handle before a byte is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from examiner.errors import EvidenceError


def kind_name(mode: int) -> str:
    """What a file that is not a regular file is, as a noun phrase for messages."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    name = kind_name(mode)
    return f"is {name}, not a regular file" if name != "not a regular file" else "is not a regular file"


def require_regular(path: str | Path) -> os.stat_result:
    """``os.stat`` of a path that must be a regular file; EvidenceError naming it otherwise."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise EvidenceError(path, "file not found") from None
    except OSError as exc:
        raise EvidenceError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise EvidenceError(path, _kind(st.st_mode))
    return st


def open_regular(path: str | Path) -> BinaryIO:
    """A read-only binary handle on a regular file, never blocking on a FIFO or device."""
    require_regular(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise EvidenceError(path, "file not found") from None
    except IsADirectoryError:
        raise EvidenceError(path, "is a directory, not a file") from None
    except OSError as exc:
        raise EvidenceError(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise EvidenceError(path, _kind(st.st_mode))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
