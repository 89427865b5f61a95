"""The Qt side of undo: a QUndoCommand that runs one Qt-free region edit.

The edits themselves (:mod:`examiner.workflows.region_edits`) know nothing of Qt, so they can be
tested, and driven, without a window.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from examiner.workflows.region_edits import RegionCommand


class QtCommand(QUndoCommand):
    """Pushes onto a QUndoStack; Qt calls ``redo`` once on push, which is the command's ``do``."""

    def __init__(self, command: RegionCommand) -> None:
        super().__init__(command.text)
        self.command = command

    def redo(self) -> None:
        self.command.do()

    def undo(self) -> None:
        self.command.undo()
