"""The "Screening" window: the rows of a results file, sortable and filterable, and any image
opened as a case in the workbench.

The table reads the results file read-only, a page of rows at a time, sorted and filtered by
SQLite. Those queries, the counts, verifying the file and making a case (an intake that hashes
the image again) all run as jobs, off the GUI thread. The window only gets a menu
entry in the main window (:func:`install_screening_menu`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QCloseEvent, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from examiner.core.formats import DEFAULT_MAX_PIXELS
from examiner.errors import ExaminerError
from examiner.gui.menu_action import add_action
from examiner.gui.window_host import CaseHost
from examiner.gui.workers import JobManager
from examiner.screening import store
from examiner.screening.store import ResultsFile

PAGE = 500
# (header, row key, SQL order expression)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Row", "id", "f.id"),
    ("Rank", "rank", "a.rank"),
    ("Verdict", "verdict", "a.verdict"),
    ("Score", "score", "a.score"),
    ("LR", "lr", "a.lr"),
    ("Outcome", "outcome", "outcome"),
    ("Duplicate of", "duplicate_of", "first_id"),
    ("Path", "path", "f.path"),
    ("SHA-256", "sha256", "f.sha256"),
    ("Reason", "reason", "reason"),
)
FILTERS: dict[str, str] = {
    "All files": "",
    "Results": "outcome = 'result'",
    "Neural": "a.verdict = 'neural'",
    "Inconclusive": "a.verdict = 'inconclusive'",
    "Not neural": "a.verdict = 'not-neural'",
    "Refused": "outcome = 'refused'",
    "Errors": "outcome = 'error'",
    "Duplicates": "first_id IS NOT NULL AND first_id != f.id",
    "Pending": "outcome = 'pending'",
}
VERDICT_COLOURS = {"neural": QColor(200, 40, 40), "inconclusive": QColor(190, 120, 0), "not-neural": QColor(30, 130, 60)}


def _text(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key == "rank" and isinstance(value, float):
        return "-inf" if value == -math.inf or value <= -1e308 else f"{value:.4f}"
    if key == "score" and isinstance(value, float):
        return f"{value:.4f}"
    if key == "lr" and isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


class ResultsModel(QAbstractTableModel):
    """Rows of a results file, fetched a page at a time in the current sort order.

    Every query runs in a job on its own read-only connection: sorting or filtering a file of
    hundreds of thousands of rows takes SQLite a second or more, which must not stall the window.
    A page that arrives after the sort or filter changed again is dropped (``generation``).
    """

    def __init__(self, path: Path, jobs: JobManager) -> None:
        super().__init__()
        self.path = path
        self.jobs = jobs
        self.rows: list[dict[str, Any]] = []
        self.order = "a.rank DESC, a.rank_uncapped DESC, f.id"
        self.where = ""
        self.closed = False
        self.exhausted = False
        self.loading = False
        self.generation = 0
        self.on_error: Callable[[str], None] | None = None
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self.rows = []
        self.exhausted = False
        self.generation += 1
        self.endResetModel()
        self._request()

    def _request(self) -> None:
        if self.closed or self.exhausted or self.loading:
            return
        self.loading = True
        path, where, order, offset, gen, page = self.path, self.where, self.order, len(self.rows), self.generation, PAGE

        def job(ctx: Any) -> tuple[int, list[dict[str, Any]]]:
            with ResultsFile.open(path, read_only=True) as rf:
                return gen, list(store.iter_rows(rf.conn, where, order=order, limit=page, offset=offset))

        self.jobs.submit(f"Rows of {path.name}", job, on_done=self._arrived, on_error=self._failed)

    def _arrived(self, result: tuple[int, list[dict[str, Any]]]) -> None:
        gen, more = result
        self.loading = False
        if self.closed:
            return
        if gen != self.generation:
            self._request()  # the order or filter changed while this page was on its way
            return
        if len(more) < PAGE:
            self.exhausted = True
        if more:
            start = len(self.rows)
            self.beginInsertRows(QModelIndex(), start, start + len(more) - 1)
            self.rows.extend(more)
            self.endInsertRows()

    def _failed(self, message: str) -> None:
        self.loading = False
        self.exhausted = True
        if self.on_error is not None:
            self.on_error(message)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not self.closed and not parent.isValid() and not self.exhausted and not self.loading

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        self._request()

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][0]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        key = COLUMNS[index.column()][1]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return _text(key, row.get(key))
        if role == Qt.ItemDataRole.ForegroundRole and key == "verdict":
            return VERDICT_COLOURS.get(str(row.get("verdict")))
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        direction = "DESC" if order == Qt.SortOrder.DescendingOrder else "ASC"
        # Rows without a value (refusals, errors) go last in either direction; ties by row id.
        expr = COLUMNS[column][2]
        # Images at the LR cap are ordered by their uncapped strength, as in the report.
        then = f", a.rank_uncapped {direction}" if expr in ("a.rank", "a.lr") else ""
        self.order = f"({expr}) IS NULL, {expr} {direction}{then}, f.id"
        self.reload()

    def set_filter(self, name: str) -> None:
        self.where = FILTERS[name]
        self.reload()


class ScreeningWindow(QMainWindow):
    """One results file. ``workbench`` (the main window) opens the cases made from rows."""

    def __init__(self, results: str | Path, workbench: CaseHost | None = None, jobs: JobManager | None = None) -> None:
        super().__init__()
        self.path = Path(results)
        self.workbench = workbench
        self.jobs = jobs or JobManager(self)
        self.messages: list[str] = []
        with ResultsFile.open(self.path, read_only=True) as rf:  # refuses what is no results file, at once
            self.meta = rf.meta()
        self.setWindowTitle(f"Screening - {self.path.name}")
        self.resize(1300, 700)
        self.model = ResultsModel(self.path, self.jobs)
        self.model.on_error = self.show_error
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(1, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((60, 80, 100, 70, 70, 80, 90, 420, 160, 300)):
            self.table.setColumnWidth(col, width)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        self.filter_box = QComboBox()
        self.filter_box.addItems(list(FILTERS))
        self.filter_box.currentTextChanged.connect(self._filter)
        self.open_button = QPushButton("Open as case...")
        self.open_button.clicked.connect(self.open_selected)
        self.verify_button = QPushButton("Verify")
        self.verify_button.clicked.connect(self.verify)
        self.summary = QLabel("counting...")
        self.integrity = QLabel("log: checking...")
        top = QHBoxLayout()
        for w in (QLabel("Show:"), self.filter_box, self.open_button, self.verify_button):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.integrity)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.setCentralWidget(central)
        self.verify()

    # ------------------------------------------------------------------ display
    def _summary_text(self, c: dict[str, Any]) -> str:
        meta = self.meta
        v = meta["versions"]
        verdicts = ", ".join(f"{k} {n}" for k, n in sorted(c["verdicts"].items())) or "none"
        outcomes = ", ".join(f"{k} {n}" for k, n in sorted(c["outcomes"].items()))
        return (f"{c['files']} files ({c['duplicates']} duplicates), {c['distinct_images_analysed']} distinct images "
                f"analysed. Verdicts: {verdicts}. Outcomes: {outcomes}. Model {v['model_version']}, program "
                f"{v['tool_version']}. Sources: {'; '.join(meta['sources'])}")  # fmt: skip

    def _filter(self, name: str) -> None:
        self.model.set_filter(name)

    def show_error(self, message: str) -> None:
        self.messages.append(message)
        self.statusBar().showMessage(message.splitlines()[0], 15000)
        if self.workbench is not None:
            self.workbench.show_error(message)

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return int(self.model.rows[rows[0].row()]["id"])

    # ------------------------------------------------------------------ jobs
    def verify(self) -> None:
        from examiner.screening.custody import verify

        path = self.path

        def job(ctx: Any) -> tuple[bool, str, dict[str, Any]]:
            with ResultsFile.open(path, read_only=True) as rf:
                report = verify(rf)
                head = f"\nlog head {report.head} (keep it: examiner screen --verify --expect-head checks it)"
                return report.ok, report.summary() + (head if report.head else ""), store.counts(rf.conn)

        def done(result: tuple[bool, str, dict[str, Any]]) -> None:
            ok, text, counts = result
            self.summary.setText(self._summary_text(counts))
            self.integrity.setText(("log: OK - " if ok else "log: PROBLEM - ") + text[:120])
            self.integrity.setToolTip(text)
            self.integrity.setStyleSheet("" if ok else "color: #e05050; font-weight: bold;")
            self.verified = ok

        self.integrity.setText("log: checking...")
        self.jobs.submit(f"Verify {path.name}", job, on_done=done, on_error=self.show_error)

    def open_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            self.show_error("select a row first")
            return
        default = Path(self.path).with_name(f"{self.path.stem}-row{row}.mcase")
        target, _ = QFileDialog.getSaveFileName(self, "Case file for this image", str(default), "Cases (*.mcase)")
        if target:
            self.open_row_as_case(row, target)

    def open_row_as_case(self, row: int, case_path: str | Path, examiner: str | None = None) -> None:
        """Make a case of the row's image in a job, then open it in the workbench."""
        from examiner.screening.open_case import make_case

        results = self.path
        limit = self.workbench.settings.max_pixels if self.workbench is not None else DEFAULT_MAX_PIXELS

        def job(ctx: Any) -> dict[str, Any]:
            return make_case(results, row, case_path, examiner=examiner, max_pixels=limit)

        def done(info: dict[str, Any]) -> None:
            self.statusBar().showMessage(f"created {info['case']}", 8000)
            self.last_case = info
            if self.workbench is not None:
                self.workbench.open_case(info["case"])

        self.jobs.submit(f"Case from row {row}", job, on_done=done, on_error=self.show_error)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.jobs.wait(5000)
        self.model.closed = True  # the view may still ask for rows while it goes
        super().closeEvent(event)


class ScreeningController:
    """The main window's side: the open screening windows."""

    def __init__(self, window: CaseHost) -> None:
        self.w = window
        self.windows: list[ScreeningWindow] = []

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.w.widget(), "Open screening results", "", "Screening results (*.mscreen);;All files (*)")
        if path:
            self.open_results(path)

    def open_results(self, path: str | Path) -> ScreeningWindow | None:
        try:
            win = ScreeningWindow(path, workbench=self.w, jobs=self.w.jobs)
        except ExaminerError as exc:
            self.w.show_error(exc.message)
            return None
        self.windows.append(win)
        win.show()
        return win


def install_screening_menu(window: CaseHost, menu: QMenu) -> ScreeningController:
    """Add the screening entry to ``menu``; the window keeps the controller returned."""
    c = ScreeningController(window)
    add_action(window.widget(), menu, "Open &screening results...", c.open_dialog, "Ctrl+Shift+R",
               tip="the rows of an 'examiner screen' results file; open any image as a case")  # fmt: skip
    return c
