"""What the window shows when no case is open: how to start, in one screen.

Open an image (a case is made for it), open a case, open the demo, a recent case, or read the
guide. Buttons only: each calls the window's own action, so the page adds no second way of doing
anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from examiner.core.text_safety import safe_text
from examiner.gui import user_guide

if TYPE_CHECKING:
    from examiner.gui.window_host import MenuHost


class WelcomePage(QWidget):
    def __init__(self, w: MenuHost) -> None:
        super().__init__()
        self.w = w
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        card = QFrame()
        card.setObjectName("welcome-card")
        card.setStyleSheet("#welcome-card { background: #26292e; border: 1px solid #3c4047; border-radius: 8px; }")
        card.setMaximumWidth(720)
        lay = QVBoxLayout(card)
        lay.setContentsMargins(28, 24, 28, 24)
        lay.setSpacing(10)
        title = QLabel("Miscompression Examiner")
        title.setStyleSheet("font-size: 22px; font-weight: bold;")
        lay.addWidget(title)
        intro = QLabel(
            "Start by opening the image to examine. A case is made for it in your cases folder; the "
            "image is only read, and its SHA-256 is recorded before anything else happens."
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.buttons: dict[str, QPushButton] = {}
        for key, label, tip, slot in (
            ("image", "Open image...", "Make a new case for an image and take it in as evidence (Ctrl+Shift+O)", w.ask_open_image),
            ("case", "Open case...", "Open an existing case file (.mcase)", w.ask_open_case),
            ("demo", "Open the demo", "A ready-made case with a changed licence plate, to try every step", w.open_demo),
            ("guide", "Read the guide", "The user guide (Help > User guide), opened locally", lambda: user_guide.open_user_guide(w.widget())),
        ):
            b = QPushButton(label)
            b.setToolTip(tip)
            b.setMinimumHeight(34)
            b.clicked.connect(slot)
            if key == "image":
                b.setDefault(True)
                b.setStyleSheet("font-weight: bold;")
            self.buttons[key] = b
        first = QHBoxLayout()
        for key in ("image", "case", "demo", "guide"):
            first.addWidget(self.buttons[key])
        lay.addLayout(first)
        self.recent_label = QLabel("Recent cases")
        self.recent_label.setStyleSheet("font-weight: bold; margin-top: 8px;")
        lay.addWidget(self.recent_label)
        self.recent = QListWidget()
        self.recent.setMaximumHeight(190)
        self.recent.itemClicked.connect(self._open_recent)
        lay.addWidget(self.recent)
        self.where = QLabel("")
        self.where.setWordWrap(True)
        self.where.setStyleSheet("color: #9aa0a6;")
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.where)
        row.addWidget(card, 3)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def refresh(self, recent: list[str], cases_folder: Path, examiner: str) -> None:
        self.recent.clear()
        for p in recent:
            path = Path(p)
            it = QListWidgetItem(f"{safe_text(path.name, 120)}    {safe_text(path.parent, 200)}")
            it.setData(Qt.ItemDataRole.UserRole, p)
            it.setToolTip(safe_text(p, 1000) + ("" if path.exists() else "\n(not found at this path now)"))
            if not path.exists():
                it.setForeground(Qt.GlobalColor.gray)
            self.recent.addItem(it)
        if not recent:
            self.recent.addItem(QListWidgetItem("(none yet)"))
            self.recent.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
        who = f"Examiner: {safe_text(examiner, 80)}." if examiner else "You will be asked your name once, for the cases you make."
        self.where.setText(f"New cases are kept in {safe_text(cases_folder, 300)}. {who}")

    def _open_recent(self, item: QListWidgetItem) -> None:
        path = item.data(Qt.ItemDataRole.UserRole)
        if path:
            self.w.open_case(path)
