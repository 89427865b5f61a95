"""Help > Keyboard shortcuts: every action of the window that has a shortcut, read from the
actions themselves when the sheet opens, so it can never list a key that no longer does that."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").removesuffix("...")


def shortcut_rows(w: QWidget) -> list[tuple[str, str, str]]:
    """(menu, action, keys) for every action with a shortcut: those in the menus under their
    menu's name, then any other action of the window (tool bars, views) under "Window"."""
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()

    def walk(menu: QMenu, path: str) -> None:
        for a in menu.actions():
            sub = a.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{path} > {_plain(a.text())}")
                continue
            add(a, path)

    def add(a: QAction, where: str) -> None:
        if id(a) in seen or a.isSeparator():
            return
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts() if not k.isEmpty()]
        if keys:
            seen.add(id(a))
            rows.append((where, _plain(a.text()), ", ".join(keys)))

    menu_bar = getattr(w, "menuBar", None)
    if menu_bar is not None:
        for top in menu_bar().actions():
            if isinstance(top.menu(), QMenu):
                walk(top.menu(), _plain(top.text()))
    for a in w.findChildren(QAction):
        add(a, "Window")
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, w: QWidget) -> None:
        super().__init__(w)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(620, 640)
        layout = QVBoxLayout(self)
        rows = shortcut_rows(w)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Menu", "Action", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.resizeRowsToContents()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
