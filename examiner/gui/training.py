"""Training in the window: open an exercise pack in training mode, submit for a score, review the
key over the trainee's marks, and an agreement table between several examiners' cases.

The window only gets a "Training" menu (:func:`install_training_menu`); everything else lives
here. The answer key never enters the training case: it is read from the pack when the trainee
submits, and shown only in the score and review dialogs.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from examiner.core.regions import Region
from examiner.errors import ExaminerError
from examiner.gui.guards import reported
from examiner.gui.menu_action import add_action
from examiner.gui.region_items import region_path
from examiner.gui.tiles import numpy_to_qimage
from examiner.gui.window_host import CaseHost
from examiner.training.agreement import AgreementReport
from examiner.training.exercise_pack import PACK_SUFFIX, ExercisePack, start_training_case, training_info
from examiner.training.scoring import DEFAULT_IOU, Match, ScoreResult, score_case, write_score_pdf
from examiner.workflows.state import NothingOpen

KEY_COLOUR = QColor(40, 220, 90)
MISS_COLOUR = QColor(255, 60, 60)
TRAINEE_HIT = QColor(0, 190, 255)
FALSE_ALARM = QColor(255, 170, 0)


def _table(headers: list[str], rows: list[list[str]]) -> QTableWidget:
    t = QTableWidget(len(rows), len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.verticalHeader().setVisible(False)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            t.setItem(r, c, item)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


def describe(r: Region | None) -> str:
    if r is None:
        return "-"
    cats = "+".join(c.value for c in r.categories) or "no category"
    return cats + (", Symbol" if r.symbol else "")


def instructor_words(r: Region | None) -> str:
    if r is None:
        return ""
    parts = [f"shows: {r.evidence_says}" if r.evidence_says else "", f"original: {r.comparison_says}" if r.comparison_says else "", r.notes]
    return "; ".join(p for p in parts if p)


def _pct(v: float | None) -> str:
    return "not graded" if v is None else f"{100 * v:.1f} %"


class ScoreDialog(QDialog):
    """The score, its breakdown and every match, with a PDF export and the review view."""

    def __init__(self, result: ScoreResult, controller: TrainingController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result = result
        self.controller = controller
        self.setWindowTitle("Training result")
        self.resize(900, 560)
        lay = QVBoxLayout(self)
        self.headline = QLabel(
            f"<h2>{result.score:.1f} / 100</h2>{result.hits} hit(s), {result.misses} miss(es), "
            f"{result.false_alarms} false alarm(s); a mark hits a key region at IoU &ge; {result.iou_threshold:g}"
        )
        lay.addWidget(self.headline)
        labels = {"detection": "Detection D", "categories": "Categories C", "symbol": "Symbol flag S"}
        self.breakdown = _table(["Part", "Value"], [[labels[k], _pct(v)] for k, v in result.components.items()])
        self.breakdown.setMaximumHeight(120)
        lay.addWidget(self.breakdown)
        lay.addWidget(QLabel("score = 100 x (0.5 D + 0.3 C + 0.2 S) / (sum of the weights that apply)"))
        self.matches = _table(
            ["Item", "Outcome", "IoU", "Key", "Instructor's description", "Your mark"],
            [[m.item_id, m.outcome, "-" if m.iou is None else f"{m.iou:.2f}", describe(m.key),
              instructor_words(m.key), describe(m.trainee)] for m in result.matches],  # fmt: skip
        )
        lay.addWidget(self.matches, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        review = buttons.addButton("Review key over my marks", QDialogButtonBox.ButtonRole.ActionRole)
        pdf = buttons.addButton("Save PDF result...", QDialogButtonBox.ButtonRole.ActionRole)
        review.clicked.connect(lambda: self.controller.review())
        pdf.clicked.connect(self._save_pdf)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _save_pdf(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the training result", "training-result.pdf", "PDF (*.pdf)")
        if path:
            self.controller.save_pdf(path)


class ReviewDialog(QDialog):
    """The evidence with the key (green dashed; red dashed where missed) over the trainee's marks
    (blue for hits, orange for false alarms), and the instructor's descriptions beside it."""

    def __init__(self, pixels: np.ndarray, matches: list[Match], title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Review: {title}")
        self.resize(1200, 700)
        self.scene = QGraphicsScene(self)
        self.scene.addPixmap(QPixmap.fromImage(numpy_to_qimage(_rgb8(pixels))))
        self.key_items: list[QGraphicsPathItem] = []
        self.mark_items: list[QGraphicsPathItem] = []
        for m in matches:
            if m.key is not None:
                colour = KEY_COLOUR if m.outcome == "hit" else MISS_COLOUR
                item = self._add(m.key, colour, Qt.PenStyle.DashLine, 3)
                item.setToolTip(f"Key: {describe(m.key)}\n{instructor_words(m.key)}")
                self.key_items.append(item)
            if m.trainee is not None:
                colour = TRAINEE_HIT if m.outcome == "hit" else FALSE_ALARM
                item = self._add(m.trainee, colour, Qt.PenStyle.SolidLine, 2)
                item.setToolTip(f"Your mark: {describe(m.trainee)} ({m.outcome})")
                self.mark_items.append(item)
        self.view = QGraphicsView(self.scene)
        self.view.setBackgroundBrush(QBrush(QColor(40, 40, 40)))
        self.table = _table(
            ["Outcome", "IoU", "Key", "Instructor's description", "Your mark", "Categories", "Symbol"],
            [[m.outcome, "-" if m.iou is None else f"{m.iou:.2f}", describe(m.key), instructor_words(m.key),
              describe(m.trainee), "-" if m.category_agreement is None else f"{m.category_agreement:.2f}",
              "-" if m.symbol_agreement is None else ("agrees" if m.symbol_agreement else "differs")]
             for m in matches],  # fmt: skip
        )
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(self.table)
        split.setSizes([700, 500])
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Green dashed: key region found; red dashed: key region missed; blue: your hit; "
                             "orange: your false alarm. Hover a shape for the instructor's description."))  # fmt: skip
        lay.addWidget(split, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        lay.addWidget(close)
        self.view.fitInView(QRectF(0, 0, pixels.shape[1], pixels.shape[0]), Qt.AspectRatioMode.KeepAspectRatio)

    def _add(self, r: Region, colour: QColor, style: Qt.PenStyle, width: float) -> QGraphicsPathItem:
        item = QGraphicsPathItem(region_path(r.kind, r.points))
        pen = QPen(colour, width, style)
        pen.setCosmetic(True)
        item.setPen(pen)
        item.setZValue(2 if style is Qt.PenStyle.DashLine else 1)
        self.scene.addItem(item)
        return item


def _rgb8(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype != np.uint8:
        from examiner.codecs.engine import to_8bit

        pixels = to_8bit(pixels)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    return np.ascontiguousarray(pixels[:, :, :3])


class AgreementDialog(QDialog):
    """Choose several examiners' cases and one evidence hash; show the agreement table and the
    per-place disagreement list."""

    def __init__(self, parent: QWidget | None = None, evidence_sha: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Agreement between examiners")
        self.resize(1000, 640)
        self.report: AgreementReport | None = None
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.cases = QListWidget()
        self.cases.setMaximumHeight(110)
        add = QPushButton("Add case files...")
        add.clicked.connect(self._add_cases)
        row = QHBoxLayout()
        row.addWidget(self.cases, 1)
        row.addWidget(add)
        holder = QWidget()
        holder.setLayout(row)
        form.addRow("Cases (one per examiner)", holder)
        self.sha = QLineEdit(evidence_sha)
        form.addRow("Evidence SHA-256 (or prefix)", self.sha)
        self.iou = QDoubleSpinBox()
        self.iou.setRange(0.05, 1.0)
        self.iou.setSingleStep(0.05)
        from examiner.training.agreement import DEFAULT_IOU as AGREEMENT_IOU

        self.iou.setValue(AGREEMENT_IOU)
        form.addRow("IoU to match regions", self.iou)
        lay.addLayout(form)
        go = QPushButton("Compute agreement")
        go.clicked.connect(lambda: self.compute())
        lay.addWidget(go)
        self.summary = QLabel("")
        lay.addWidget(self.summary)
        self.table = _table(["Question", "Kappa", "Value", "95% CI", "Units", "Krippendorff's alpha", "95% CI", "Units"], [])
        lay.addWidget(self.table, 1)
        lay.addWidget(QLabel("Places where the examiners disagree:"))
        self.disagreements = _table(["Place", "Box (x, y, w, h)"], [])
        lay.addWidget(self.disagreements, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        lay.addWidget(close)

    def _add_cases(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Examiners' case files", "", "Cases (*.mcase)")
        for p in paths:
            self.cases.addItem(p)

    def set_cases(self, paths: list[str | Path]) -> None:
        self.cases.clear()
        for p in paths:
            self.cases.addItem(str(p))

    def compute(self) -> bool:
        from examiner.training.agreement import agreement
        from examiner.training.rater_cases import load_raters

        paths = [self.cases.item(i).text() for i in range(self.cases.count())]
        try:
            names, regions = load_raters(paths, self.sha.text())
            report = agreement(regions, names, float(self.iou.value()))
        except ExaminerError as exc:
            self.summary.setText(f"<span style='color:#a11d2b'>{_html(exc.message)}</span>")
            return False
        self.report = report

        def f(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.3f}"

        def ci(c: tuple[float, float] | None) -> str:
            return "-" if c is None else f"[{c[0]:.2f}, {c[1]:.2f}]"

        rows = [[q.question, q.kappa_name, f(q.kappa), ci(q.kappa_ci), str(q.kappa_units), f(q.alpha), ci(q.alpha_ci),
                 str(q.alpha_units)] for q in report.questions]  # fmt: skip
        _fill(self.table, ["Question", "Kappa", "Value", "95% CI", "Units", "Krippendorff's alpha", "95% CI", "Units"], rows)
        dis = [[str(d["unit"]), ", ".join(str(v) for v in d["box"]), *(d["ratings"][n] for n in names)] for d in report.disagreements]
        _fill(self.disagreements, ["Place", "Box (x, y, w, h)", *names], dis)
        self.summary.setText(f"{len(names)} examiners, {len(report.units)} matched places, "
                             f"{len(report.disagreements)} with disagreement")  # fmt: skip
        return True


def _fill(t: QTableWidget, headers: list[str], rows: list[list[str]]) -> None:
    t.clear()
    t.setColumnCount(len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            t.setItem(r, c, item)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class TrainingController:
    """Training actions for one main window."""

    def __init__(self, window: CaseHost) -> None:
        self.w = window
        self.pack: ExercisePack | None = None
        self.result: ScoreResult | None = None
        self.dialogs: list[QDialog] = []  # kept alive while shown

    # -- opening ---------------------------------------------------------------------------------
    def open_pack_dialog(self) -> None:
        pack, _ = QFileDialog.getOpenFileName(self.w.widget(), "Open an exercise pack", "", f"Exercise packs (*{PACK_SUFFIX});;All files (*)")
        if not pack:
            return
        default = self.w.settings.examiner_name
        trainee, ok = QInputDialog.getText(self.w.widget(), "Training", "Your name (trainee):", text=default)
        if not ok or not trainee.strip():
            return
        case, _ = QFileDialog.getSaveFileName(self.w.widget(), "Where to keep your training case", str(Path(pack).with_suffix(".mcase")),
                                              "Cases (*.mcase)")  # fmt: skip
        if case:
            self.open_pack(pack, trainee, case)

    def open_pack(self, pack_path: str | Path, trainee: str, case_path: str | Path) -> bool:
        """Start a training-mode case from the pack (no key inside) and open it."""
        try:
            case = start_training_case(pack_path, trainee, case_path)
            self.pack = ExercisePack.open(pack_path)
        except ExaminerError as exc:
            self.w.show_error(exc.message)
            return False
        self.result = None
        if not self.w.open_case(case):
            return False
        self.w.info(f"Training mode: {self.pack.title} ({len(self.pack.items)} exercise(s)); the answer key stays "
                    "in the pack until you submit")  # fmt: skip
        return True

    def show_error(self, message: str) -> None:
        self.w.show_error(message)

    @reported(None)
    def _pack_for_case(self) -> ExercisePack | None:
        session = self.w.state.require_session("open a training case first (Training > Open exercise pack)")
        info = training_info(session.case)
        if info is None:
            self.w.show_error(f"{session.path}: this is not a training case (it was not started from an exercise pack)")
            return None
        if self.pack is not None and self.pack.digest == info.get("pack_digest"):
            return self.pack
        guess = session.path.parent / str(info.get("pack_file", ""))
        if guess.is_file():
            try:
                pack = ExercisePack.open(guess)
                if pack.digest == info.get("pack_digest"):
                    self.pack = pack
                    return pack
            except ExaminerError:
                pass
        if not self.w.interactive:
            self.w.show_error("the exercise pack of this training case is not open")
            return None
        path, _ = QFileDialog.getOpenFileName(self.w.widget(), "The exercise pack this case was started from", "",
                                              f"Exercise packs (*{PACK_SUFFIX});;All files (*)")  # fmt: skip
        if not path:
            return None
        try:
            self.pack = ExercisePack.open(path)
        except ExaminerError as exc:
            self.w.show_error(exc.message)
            return None
        return self.pack

    # -- scoring -----------------------------------------------------------------------------------
    def submit(self, iou: float = DEFAULT_IOU) -> ScoreResult | None:
        """Score the open training case against its pack and show the result."""
        pack = self._pack_for_case()
        if pack is None:
            return None
        try:
            session = self.w.state.require_session()
            self.result = score_case(pack.path, session.path, iou)
        except ExaminerError as exc:
            self.w.show_error(exc.message)
            return None
        session.case.log_action("training.submitted", {
            "pack_digest": pack.digest, "score": round(self.result.score, 2), "hits": self.result.hits,
            "misses": self.result.misses, "false_alarms": self.result.false_alarms, "iou_threshold": iou,
        })  # fmt: skip
        self.w.state.case_changed()
        self._show(ScoreDialog(self.result, self, self.w.widget()))
        return self.result

    def save_pdf(self, path: str | Path) -> bool:
        if self.result is None:
            return False
        try:
            from examiner.core.output_paths import case_files

            protected = [*case_files(self.w.state.require_session().case), *([self.pack.path] if self.pack is not None else [])]
            write_score_pdf(self.result, path, protected)
        except (ExaminerError, OSError) as exc:
            self.w.show_error(f"{path}: could not write the result ({exc})")
            return False
        self.w.info(f"Training result written to {path}")
        return True

    @reported(None)
    def review(self) -> ReviewDialog | None:
        """The key over the trainee's marks on the evidence now shown."""
        not_scored = "submit the training case first; the review shows the key after scoring"
        session, evidence_id = self.w.state.require_evidence(not_scored)
        if self.result is None or self.pack is None:
            raise ExaminerError(not_scored)
        item = session.case.evidence_item(evidence_id)
        by_sha = {it.reconstruction.sha256: it for it in self.pack.items}
        pack_item = by_sha.get(item.sha256)
        if pack_item is None:
            self.w.show_error(f"{item.name} is not one of the pack's exercises")
            return None
        matches = [m for m in self.result.matches if m.item_id == pack_item.id]
        pixels = self.pack.image(pack_item, "reconstruction")
        dialog = ReviewDialog(pixels, matches, f"{pack_item.id} {pack_item.title}", self.w.widget())
        self._show(dialog)
        return dialog

    # -- agreement ---------------------------------------------------------------------------------
    def agreement_dialog(self) -> AgreementDialog:
        # Without a case the dialog still opens, empty, for case files chosen in it.
        sha, cases = "", []
        with contextlib.suppress(NothingOpen):
            session = self.w.state.require_session()
            cases = [session.path]
            sha = session.case.evidence_item(self.w.state.require_evidence()[1]).sha256
        dialog = AgreementDialog(self.w.widget(), sha)
        if cases:
            dialog.set_cases(cases)
        self._show(dialog)
        return dialog

    def _show(self, dialog: QDialog) -> None:
        self.dialogs = [d for d in self.dialogs if d.isVisible()] + [dialog]
        if self.w.interactive:
            dialog.show()


def install_training_menu(window: CaseHost, menu: QMenu) -> TrainingController:
    """Add the training actions to ``menu``; the window keeps the controller returned."""
    c = TrainingController(window)
    parent = window.widget()
    add_action(parent, menu, "&Open exercise pack (training mode)...", c.open_pack_dialog,
               tip="start a training case from a pack; the answer key stays hidden")  # fmt: skip
    add_action(parent, menu, "&Submit for scoring", lambda: c.submit(), tip="score your marks against the pack's key")
    add_action(parent, menu, "&Review key over my marks", lambda: c.review())
    menu.addSeparator()
    add_action(parent, menu, "&Agreement between examiners...", lambda: c.agreement_dialog())
    return c
