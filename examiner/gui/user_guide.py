"""Help > User guide: open the locally built documentation site, never anything on the network."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

# `make docs` builds the site from docs/ into build/site of the source tree (see mkdocs.yml).
SOURCE_ROOT = Path(__file__).resolve().parents[2]
SITE_DIR = Path("build") / "site"


def guide_index(root: Path = SOURCE_ROOT) -> tuple[Path | None, str]:
    """The built site's ``index.html``, or ``None`` and a message saying how to build it."""
    index = root / SITE_DIR / "index.html"
    if index.is_file():
        return index, ""
    return None, (
        f"The user guide has not been built yet.\n\n"
        f"Build it with `make docs` in {root} (it writes {root / SITE_DIR}).\n\n"
        f"Its pages are plain Markdown files in {root / 'docs'} and can be read as they are."
    )


def open_user_guide(
    parent: QWidget,
    root: Path = SOURCE_ROOT,
    open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl,
) -> bool:
    """Show the guide in the desktop's browser as a local file, or explain why it cannot."""
    index, why = guide_index(root)
    if index is None:
        QMessageBox.information(parent, "User guide", why)
        return False
    if not open_url(QUrl.fromLocalFile(str(index))):
        QMessageBox.warning(parent, "User guide", f"No program to show {index} was found; open it in a web browser.")
        return False
    return True
