"""Starting work from the window: open an image (a case is made for it), a case, or the demo.

The examiner's name is asked once, the first time a case is made, and kept in the settings; it
is the name every region, finding and export of that case is credited to.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit

from examiner.core.case import Case
from examiner.core.tasks import TaskContext
from examiner.gui.case_dialogs import IMAGE_FILTER
from examiner.gui.guards import attempt
from examiner.gui.window_host import CaseHost
from examiner.gui.workers import GENERAL
from examiner.workflows.image_case import case_for_image, cases_dir
from examiner.workflows.session import CaseSession


def examiner_name(w: CaseHost, given: str | None = None) -> str | None:
    """The name to make a case under: ``given``, else the remembered one, else asked (once)."""
    name = (given or "").strip() or w.settings.examiner_name.strip()
    if not name and w.interactive:
        text, ok = QInputDialog.getText(
            w.widget(), "Your name",
            "Your name, as the examiner of the cases you make\n(asked once; change it in Edit > Preferences):",
            QLineEdit.EchoMode.Normal, "",
        )  # fmt: skip
        name = text.strip() if ok else ""
    if not name:
        w.show_error("a case needs the examiner's name: set it in Edit > Preferences, or give it when asked")
        return None
    if name != w.settings.examiner_name:
        w.settings.examiner_name = name
        attempt(w, w.settings.save)
    return name


def open_image(w: CaseHost, path: str | Path, examiner: str | None = None) -> bool:
    """Make a case for the image in the cases folder and open it. The intake (hashing, decoding)
    runs in a worker thread; returns False when it could not start (no name given)."""
    name = examiner_name(w, examiner)
    if name is None:
        return False
    settings = w.settings
    folder = cases_dir()

    def make(ctx: TaskContext) -> Case:
        return case_for_image(path, name, settings.max_pixels, folder=folder, ctx=ctx)

    def made(case: Case) -> None:
        w.set_session(CaseSession(case, Path(case.path), settings))
        w.info(f"New case {case.path.name} in {case.path.parent}; {Path(path).name} taken in read-only")

    w.jobs.submit(f"Opening {Path(path).name}", make, queue=GENERAL, on_done=made, on_error=w.show_error)
    return True


def ask_open_image(w: CaseHost) -> None:
    path, _ = QFileDialog.getOpenFileName(w.widget(), "Open image (a new case is made for it; the image is only read)", "", IMAGE_FILTER)
    if path:
        open_image(w, path)


def ask_open_case(w: CaseHost) -> None:
    path, _ = QFileDialog.getOpenFileName(w.widget(), "Open case", str(cases_dir()), "Case files (*.mcase);;All files (*)")
    if path:
        w.open_case(path)


def open_demo(w: CaseHost) -> None:
    """The demo case; its first build runs a neural codec, so in a worker process."""
    from examiner.gui.analysis_tasks import build_demo

    w.jobs.submit_process("Building the demo case", build_demo, on_done=lambda p: w.open_case(p), on_error=w.show_error)


def dropped_file(urls: list[QUrl]) -> str | None:
    """The one local file among dropped URLs, or None (several files, or none, are not taken)."""
    files = [u.toLocalFile() for u in urls if u.isLocalFile()]
    return files[0] if len(files) == 1 else None


def open_dropped(w: CaseHost, path: str) -> None:
    """A file dropped on the window: a case is opened, an image gets a new case."""
    from examiner.workflows.image_case import looks_like_case

    if looks_like_case(path):
        w.open_case(path)
    else:
        open_image(w, path)
