"""The Codecs dialog: every codec pack and model, which weight files are installed or missing, and
importing weight files the examiner has (the same checks as ``examiner codecs import``).

Importing hashes and test-loads each file, so it runs in a worker thread with a busy bar; the
list and the analysis panel's codec chooser are read again when it is done.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from examiner.core.tasks import TaskContext
from examiner.core.text_safety import safe_text
from examiner.errors import ExaminerError
from examiner.gui.workers import GENERAL

if TYPE_CHECKING:
    from examiner.gui.window_host import MenuHost

WEIGHT_FILTER = "Weight files (*.pth.tar *.pth *.pt *.safetensors);;All files (*)"
MISSING = QColor(230, 150, 60)
READY = QColor(80, 180, 110)


def weights_text(entry: Any) -> tuple[str, str]:
    """("3/8 installed", tool tip naming the missing files) for a codec; ("not needed", "") when
    it needs no weight files."""
    if entry.weights_installed is None:
        return "not needed", ""
    from examiner.codecs.weights import manifest_entry

    have = set(entry.weights_installed)
    missing = [q for q in entry.info.qualities if q not in have]
    lines = []
    for q in missing:
        m = manifest_entry(entry.info, q) or {}
        lines.append(f"quality {q}: {safe_text(m.get('file') or 'file named in the pack', 200)}")
    tip = ("Missing weight files:\n" + "\n".join(lines)) if lines else "All weight files installed."
    return f"{len(have)}/{len(entry.info.qualities)} installed", tip


class CodecsDialog(QDialog):
    def __init__(self, w: MenuHost) -> None:
        super().__init__(w.widget())
        self.w = w
        self.setWindowTitle("Codecs and weight files")
        self.resize(1120, 640)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Neural codecs need their published weight files. Import files you have downloaded (or "
            "brought from another machine); each is checked against the hash in its name and test-loaded "
            "before anything is copied."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Codec", "Family", "Weight files", "Status"])
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.tree)
        self.store = QLabel("")
        self.store.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.store.setStyleSheet("color: #a0a4aa;")
        layout.addWidget(self.store)
        row = QHBoxLayout()
        self.import_button = QPushButton("Import weight files...")
        self.import_button.clicked.connect(self.ask_import)
        row.addWidget(self.import_button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setVisible(False)
        row.addWidget(self.progress, 1)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        row.addWidget(self.result, 2)
        layout.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        from examiner.codecs.registry import clear_cache, list_codecs
        from examiner.codecs.weights import store_dir

        clear_cache()
        self.tree.clear()
        try:
            entries, problems = list_codecs(self.w.settings)
        except ExaminerError as exc:
            self.result.setText(exc.message)
            return
        packs: dict[str, QTreeWidgetItem] = {}
        for e in sorted(entries, key=lambda e: (e.pack.name, e.info.id)):
            top = packs.get(e.pack.name)
            if top is None:
                top = QTreeWidgetItem([f"{safe_text(e.pack.name, 80)} pack", "", "", safe_text(e.pack.origin, 80)])
                top.setToolTip(0, safe_text(e.pack.directory, 500))
                font = top.font(0)
                font.setBold(True)
                top.setFont(0, font)
                packs[e.pack.name] = top
                self.tree.addTopLevelItem(top)
            weights, tip = weights_text(e)
            status = "ready" if e.available else safe_text(e.reason, 300)
            if not e.available and e.weights_installed == ():
                status = "missing weight files: Import weight files..."
            if e.info.demonstration:
                status += " (demonstration only)"
            it = QTreeWidgetItem([f"{safe_text(e.info.name, 120)}  ({e.info.id})", e.info.family.value, weights, status])
            it.setData(0, Qt.ItemDataRole.UserRole, e.info.id)
            it.setToolTip(0, safe_text(e.info.description, 2000))
            it.setToolTip(2, tip)
            it.setForeground(3, QBrush(READY if e.available else MISSING))
            it.setToolTip(3, safe_text(e.reason, 1000) if e.reason else "")
            top.addChild(it)
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        self.tree.setColumnWidth(0, min(self.tree.columnWidth(0), 620))
        self.tree.resizeColumnToContents(2)
        note = f"Weight store: {store_dir()}"
        if problems:
            note += f"; {len(problems)} unreadable pack(s): " + "; ".join(safe_text(p, 200) for p in problems[:3])
        self.store.setText(note)

    def rows(self) -> dict[str, tuple[str, str]]:
        """codec id -> (weight files, status) as shown (tests read this)."""
        out = {}
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                c = top.child(j)
                out[str(c.data(0, Qt.ItemDataRole.UserRole))] = (c.text(2), c.text(3))
        return out

    def ask_import(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Import weight files", "", WEIGHT_FILTER)
        if files:
            self.import_files(files)

    def import_files(self, files: list[str]) -> None:
        """Check and copy ``files`` into the store in a worker thread (all or nothing)."""
        from examiner.codecs.registry import codec_infos
        from examiner.codecs.weights import import_weights

        settings = self.w.settings

        def work(ctx: TaskContext) -> Any:
            ctx.progress(0, 1, f"checking {len(files)} weight file(s)")
            out = import_weights(list(files), codec_infos(settings))
            ctx.progress(1, 1, "imported")
            return out

        self.import_button.setEnabled(False)
        self.progress.setVisible(True)
        self.result.setText(f"Checking {len(files)} file(s)...")
        self.w.jobs.submit("Importing weight files", work, queue=GENERAL, on_done=self._imported, on_error=self._failed)

    def _finished(self) -> None:
        self.import_button.setEnabled(True)
        self.progress.setVisible(False)

    def _imported(self, results: list[Any]) -> None:
        self._finished()
        lines = []
        for r in results:
            state = "already present" if r.already_present else "imported"
            users = ", ".join(r.used_by) if r.used_by else "no codec pack lists this model and quality"
            lines.append(f"{state}: {safe_text(Path(r.name).name, 200)} ({users})")
        self.result.setText("\n".join(lines))
        self.refresh()
        self.w.analysis.load_codecs()

    def _failed(self, message: str) -> None:
        self._finished()
        self.result.setText(f"Nothing imported: {message}")
        self.w.show_error(message)


def open_codecs_dialog(w: MenuHost) -> CodecsDialog:
    dlg = CodecsDialog(w)
    dlg.open()
    return dlg
