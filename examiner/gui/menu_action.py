"""One menu entry: the QAction every menu of the program is built from."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

# A key sequence as text ("Ctrl+E") or one of Qt's standard keys (QKeySequence.StandardKey.Open).
Shortcut = str | QKeySequence | QKeySequence.StandardKey


def add_action(
    parent: QObject,
    menu: QMenu,
    text: str,
    slot: Callable[..., object],
    shortcut: Shortcut | None = None,
    checkable: bool = False,
    tip: str = "",
) -> QAction:
    a = QAction(text, parent)
    if shortcut is not None:
        a.setShortcut(QKeySequence(shortcut))
    a.setCheckable(checkable)
    if tip:
        a.setStatusTip(tip)
    a.triggered.connect(slot)
    menu.addAction(a)
    return a
