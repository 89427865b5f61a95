"""Keep PySide6 6.12 from freeing ``None``, ``True`` and ``False`` on CPython 3.11.

The pinned PySide6 build returns ``None`` from every void C++ method, and passes booleans through
signal emission, without taking the reference it later gives back. CPython 3.12 and later make
these singletons immortal, so nothing happens there; on 3.11 each call lowers their reference
count by one, and after a few thousand repaints the interpreter aborts with "deallocating None".
(Measured here: ``QPainter.setRenderHint`` and ``QGraphicsView.scale`` drop one reference to
``None`` per call; ``Signal.emit`` drops one to ``True``.)

The guard gives these objects the same immortality 3.12 has: it adds 2**40 to their reference
counts once, before any Qt call. They are statically allocated and never freed anyway, so the
only effect is that the missing references can no longer reach zero (at a million calls a
second that would take twelve days).
"""

from __future__ import annotations

import ctypes
import sys

GUARD = 1 << 40
_installed = False


def install() -> None:
    global _installed
    if _installed or sys.version_info >= (3, 12):
        return
    for obj in (None, True, False, Ellipsis, NotImplemented):
        # ob_refcnt is the first field of every object in CPython's release builds.
        ctypes.c_ssize_t.from_address(id(obj)).value += GUARD
    _installed = True
