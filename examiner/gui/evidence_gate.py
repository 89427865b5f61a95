"""Actions and controls that need a case or an evidence item: disabled until there is one, and
their tool tip says why, so an empty window never offers a button that can only fail."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

NEEDS_CASE = "case"
NEEDS_EVIDENCE = "evidence"
REASONS = {
    NEEDS_CASE: "Open an image or a case first (File > Open image...)",
    NEEDS_EVIDENCE: "Needs an evidence image: open an image, or add evidence to this case (File > Add evidence...)",
}


class EvidenceGate:
    """Keeps each registered action or widget enabled only while what it needs is there."""

    def __init__(self) -> None:
        self._items: list[tuple[QAction | QWidget, str, str]] = []  # (target, need, own tool tip)
        self.has_case = False
        self.has_evidence = False

    def needs(self, target: QAction | QWidget, need: str = NEEDS_EVIDENCE) -> QAction | QWidget:
        tip = target.toolTip()
        if isinstance(target, QAction) and tip == target.text().replace("&&", "\0").replace("&", "").replace("\0", "&"):
            tip = ""  # Qt's default tool tip (the text): restored by clearing, so menus show none
        self._items.append((target, need, tip))
        self._apply(target, need, tip)
        return target

    def update(self, has_case: bool, has_evidence: bool) -> None:
        self.has_case, self.has_evidence = has_case, has_evidence
        for target, need, tip in self._items:
            self._apply(target, need, tip)

    def reason(self, need: str) -> str:
        ok = self.has_evidence if need == NEEDS_EVIDENCE else self.has_case
        return "" if ok else REASONS[need]

    def _apply(self, target: QAction | QWidget, need: str, tip: str) -> None:
        why = self.reason(need)
        target.setEnabled(not why)
        if isinstance(target, QAction):
            target.setToolTip(why or tip)
            target.setStatusTip(why)
        else:
            target.setToolTip(f"{why}\n{tip}".strip() if why else tip)

    def disabled(self) -> list[tuple[Any, str]]:
        """What is disabled now and why (for tests and the status bar)."""
        return [(t, self.reason(n)) for t, n, _ in self._items if self.reason(n)]
