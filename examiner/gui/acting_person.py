"""Who the window credits: the case's examiner, unless a person is named for this window.

The rule is the command line's: every action in a case is credited to the case's examiner
unless someone is named explicitly (``--actor`` there; ``examiner gui --actor`` or
Edit > Acting person here). The name chosen holds for this window until it is cleared, for the
open case and those opened after it; it is not stored in the settings, so it never outlives the
person at the keyboard. The status bar always says who is acting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QInputDialog, QLabel, QLineEdit

if TYPE_CHECKING:
    # The label is part of the window's status bar, built with it.
    from examiner.gui.main_window import MainWindow


def install(w: MainWindow) -> QLabel:
    """The status bar's "Acting as" label, for the window to keep as ``acting_label``; the
    window's ``acting_as`` starts unset (the case's examiner)."""
    label = QLabel("")
    label.setMargin(2)
    label.setToolTip("Who regions, findings, the conclusion and exports are credited to (Edit > Acting person...)")
    w.statusBar().addPermanentWidget(label)
    return label


def refresh(w: MainWindow) -> None:
    session = w.session
    if session is None:
        w.acting_label.setText("Acting as: the examiner of the case opened" if not w.acting_as else f"Acting as: {w.acting_as}")
        return
    whose = "named for this window" if session.acting_as else "the case's examiner"
    w.acting_label.setText(f"Acting as: {session.case.actor} ({whose})")


def set_acting_person(w: MainWindow, person: str | None) -> None:
    """Name who acts from now on (empty: the case's examiner), for the open case and later ones."""
    w.acting_as = (person or "").strip() or None
    if w.session is not None:
        w.session.act_as(w.acting_as)
    refresh(w)


def ask(w: MainWindow) -> None:
    current = w.acting_as or ""
    examiner = ""
    if w.session is not None:
        examiner = w.session.case.details.examiner
    text, ok = QInputDialog.getText(
        w, "Acting person",
        "Who is doing this work? Everything you do in a case is credited to this person.\n"
        f"Leave empty to act as the case's examiner{f' ({examiner})' if examiner else ''}.",
        QLineEdit.EchoMode.Normal, current,
    )  # fmt: skip
    if ok:
        set_acting_person(w, text)
        w.info(f"Acting as {w.session.case.actor if w.session is not None else (w.acting_as or 'the case examiner')}")
