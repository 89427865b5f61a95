"""The Screening window, offscreen: list a results file, sort, filter, page, open a row as a case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from detection_images import decoder_output, natural, png_bytes

from examiner.gui.main_window import MainWindow


def make_results(folder: Path) -> Path:
    """A small results file, screened on an in-process Dask cluster."""
    from distributed import Client, LocalCluster

    from examiner.screening import run as screening
    from examiner.screening.engine import ScreenOptions

    src = folder / "src"
    src.mkdir(parents=True)
    for i in range(5):
        (src / f"p{i}.png").write_bytes(png_bytes(natural(128, 128, seed=i)))
    (src / "gen.png").write_bytes(png_bytes(decoder_output(256, 256, seed=3)))
    (src / "copy-of-gen.png").write_bytes((src / "gen.png").read_bytes())
    (src / "notes.txt").write_text("not an image\n")
    out = folder / "seizure.mscreen"
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    client = Client(cluster)
    try:
        rf = screening.create(out, [str(src)], ScreenOptions(top=5), "tester")
        try:
            screening.screen(rf, client)
        finally:
            rf.close()
    finally:
        client.close()
        cluster.close()
    return out


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_results(tmp_path_factory.mktemp("screen"))


def _window(qtbot: Any) -> MainWindow:
    w = MainWindow(interactive=False)
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    return w


def _load_all(qtbot: Any, model: Any) -> None:
    qtbot.waitUntil(lambda: not model.loading, timeout=20000)
    while model.canFetchMore():
        model.fetchMore()
        qtbot.waitUntil(lambda: not model.loading, timeout=20000)


def _column(model: Any, key: str) -> list[Any]:
    return [r[key] for r in model.rows]


def test_screening_window_lists_sorts_filters_and_opens_a_case(qtbot: Any, results: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from PySide6.QtCore import Qt

    from examiner.gui import screening_window

    w = _window(qtbot)
    file_menu = w.menuBar().actions()[0].menu()
    assert "Open &screening results..." in [a.text() for a in file_menu.actions()]
    monkeypatch.setattr(screening_window, "PAGE", 3)
    win = w.screening.open_results(results)
    assert win is not None
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.integrity.text().startswith("log: OK"), timeout=20000)
    alone = screening_window.ResultsModel(results, win.jobs)  # rows come a page at a time, from jobs
    qtbot.waitUntil(lambda: not alone.loading, timeout=20000)
    assert alone.rowCount() == 3 and alone.canFetchMore()
    alone.fetchMore()
    qtbot.waitUntil(lambda: not alone.loading, timeout=20000)
    assert alone.rowCount() == 6
    model = win.model
    _load_all(qtbot, model)
    assert model.rowCount() == 8
    assert "8 files (1 duplicates)" in win.summary.text()
    win.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # best-ranked first: the neural image and its copy
    _load_all(qtbot, model)
    assert Path(model.rows[0]["path"]).name in ("gen.png", "copy-of-gen.png")
    assert model.rows[0]["verdict"] == "neural"
    win.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    _load_all(qtbot, model)
    assert _column(model, "id") == list(range(1, 9))
    win.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)  # score; the refused text file goes last
    _load_all(qtbot, model)
    assert model.rows[-1]["score"] is None
    scores = [s for s in _column(model, "score") if s is not None]
    assert scores == sorted(scores)
    win.filter_box.setCurrentText("Refused")
    _load_all(qtbot, model)
    assert len(model.rows) == 1 and model.rows[0]["reason"] == "the file is text, not an image"
    win.filter_box.setCurrentText("Duplicates")
    _load_all(qtbot, model)
    assert len(model.rows) == 1 and model.rows[0]["duplicate_of"] is not None
    win.filter_box.setCurrentText("All files")
    win.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    _load_all(qtbot, model)
    win.table.selectRow(0)
    row = win.selected_row()
    assert row == model.rows[0]["id"]
    png = tmp_path / "screening.png"
    assert win.grab().save(str(png)) and png.stat().st_size > 1000
    case = tmp_path / "from-row.mcase"
    win.open_row_as_case(row, case, examiner="E. X.")
    qtbot.waitUntil(lambda: w.session is not None, timeout=30000)
    assert w.session is not None and w.session.path == case
    assert [f.kind for f in w.session.case.findings()] == ["screening"]
    assert not win.messages


def test_a_file_that_is_no_results_file_gives_a_message(qtbot: Any, tmp_path: Path) -> None:
    w = _window(qtbot)
    bad = tmp_path / "x.mscreen"
    bad.write_text("hello")
    assert w.screening.open_results(bad) is None
    assert "not a screening results file" in w.messages[-1]
