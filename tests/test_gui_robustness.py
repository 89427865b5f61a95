"""Bad input, tampered cases, failing jobs: the GUI shows a clear message and keeps running."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from examiner.core.tasks import TaskContext
from examiner.errors import ExaminerError
from examiner.gui.main_window import MainWindow
from examiner.gui.workers import CODEC, JobManager
from tests.gui_fixtures import make_case


def _window(qtbot: object) -> MainWindow:
    w = MainWindow(interactive=False)
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    w.resize(1100, 750)
    w.show()
    return w


def test_corrupt_image_is_refused_with_a_message(qtbot: object, tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "case")
    w = _window(qtbot)
    assert w.open_case(case_path)
    good = tmp_path / "case" / "evidence.png"
    bad = tmp_path / "truncated.png"
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    assert not w.add_evidence(bad)
    assert "truncated.png" in w.messages[-1]
    text = tmp_path / "notes.jpg"
    text.write_text("this is not an image\n")
    assert not w.add_evidence(text)
    assert "notes.jpg" in w.messages[-1]
    # Still working: the original evidence is shown and a region can be added.
    assert len(w.session.evidence()) == 1  # type: ignore[union-attr]
    assert w.regions.add_region("rect", [(1, 1), (20, 20)]) is not None


def test_tampered_audit_log_shows_in_red_and_the_app_keeps_running(qtbot: object, tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "case")
    with sqlite3.connect(case_path) as conn:
        # What a forger would do: remove the append-only guard, then edit an entry.
        conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
        (seq, params) = conn.execute("SELECT seq, params FROM audit ORDER BY seq LIMIT 1 OFFSET 1").fetchone()
        conn.execute("UPDATE audit SET params = ? WHERE seq = ?", (params.replace("T-1", "T-2") if "T-1" in params else params + " ", seq))
    w = _window(qtbot)
    assert w.open_case(case_path)  # opens, so the problem can be shown
    assert "BROKEN" in w.messages[-1] and f"entry {seq}" in w.messages[-1]
    assert "INTEGRITY PROBLEM" in w.integrity_label.text()
    assert "c62828" in w.integrity_label.styleSheet()
    assert "BROKEN" in w.audit_panel.chain.text()
    assert "INTEGRITY PROBLEM" in w.evidence_panel.integrity.text()
    # The window still works on a good case.
    good = make_case(tmp_path / "other")
    assert w.open_case(good)
    assert w.integrity_label.text().strip() == "Integrity OK"


def test_changed_evidence_file_is_flagged(qtbot: object, tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "case")
    ev = tmp_path / "case" / "evidence.png"
    stat = ev.stat()
    arr = np.array(Image.open(ev))
    arr[0, 0] ^= 1
    Image.fromarray(arr).save(ev)
    os.utime(ev, (stat.st_atime, stat.st_mtime))
    w = _window(qtbot)
    assert w.open_case(case_path)
    assert any("MISMATCH" in m for m in w.messages)
    assert "INTEGRITY PROBLEM" in w.integrity_label.text()
    item = w.evidence_panel.list.item(0)
    assert "MISMATCH" in item.text()


def test_not_a_case_file(qtbot: object, tmp_path: Path) -> None:
    junk = tmp_path / "junk.mcase"
    junk.write_bytes(b"\x00garbage" * 100)
    w = _window(qtbot)
    assert not w.open_case(junk)
    assert "junk.mcase" in w.messages[-1]
    assert w.session is None


def test_different_sizes_give_a_clear_message(qtbot: object, tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "case")
    other = tmp_path / "smaller.png"
    Image.fromarray(np.zeros((100, 150, 3), np.uint8)).save(other)
    w = _window(qtbot)
    assert w.open_case(case_path)
    assert w.set_reference(other)
    assert "same width and height" in w.messages[-1]
    assert w.compare.comparison is None
    assert not w.set_compare_mode("difference")
    assert w.compare.mode == "evidence"


def test_failing_and_cancelled_jobs(qtbot: object) -> None:
    jobs = JobManager()
    errors: list[str] = []
    results: list[object] = []

    def bad(ctx: TaskContext) -> None:
        raise ExaminerError("codec pack is broken")

    def crash(ctx: TaskContext) -> None:
        raise RuntimeError("boom")

    def slow(ctx: TaskContext) -> str:
        for i in range(500):
            ctx.progress(i, 500, "working")
            time.sleep(0.005)
        return "finished"

    jobs.submit("bad", bad, on_error=errors.append)
    jobs.submit("crash", crash, on_error=errors.append)
    info = jobs.submit("slow", slow, on_done=results.append)
    qtbot.waitUntil(lambda: info.state == "running", timeout=5000)  # type: ignore[attr-defined]
    jobs.cancel(info.id)
    qtbot.waitUntil(lambda: not jobs.active(), timeout=10_000)  # type: ignore[attr-defined]
    assert errors[0] == "codec pack is broken" or errors[1] == "codec pack is broken"
    assert any("internal error: RuntimeError: boom" in e for e in errors)
    assert info.state == "cancelled" and results == []


def test_a_job_whose_result_cannot_be_taken_in_shows_as_failed(qtbot: object) -> None:
    """The job ran to the end, but recording its result failed: the Jobs panel must say failed,
    keep the row, and the finished signal must carry that state, never "done" first."""
    from examiner.gui.jobs_panel import JobsPanel

    jobs = JobManager()
    panel = JobsPanel(jobs)
    qtbot.addWidget(panel)  # type: ignore[attr-defined]
    announced: list[str] = []
    jobs.job_finished.connect(lambda info: announced.append(info.state))
    errors: list[str] = []

    def refuse(result: object) -> None:
        raise ExaminerError("the case file is read-only")

    info = jobs.submit("record", lambda ctx: 42, on_done=refuse, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(announced), timeout=5000)  # type: ignore[attr-defined]
    assert announced == ["failed"]
    assert info.state == "failed" and info.error == "the case file is read-only"
    assert errors == ["the case file is read-only"]
    row = panel.rows[info.id]
    assert row.state.text().startswith("failed")
    assert "read-only" in row.state.text()


def test_codec_jobs_run_one_at_a_time(qtbot: object) -> None:
    jobs = JobManager(general_threads=4)
    lock = threading.Lock()
    running = [0]
    peak = [0]

    def job(ctx: TaskContext) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    infos = [jobs.submit(f"codec {i}", job, queue=CODEC) for i in range(4)]
    qtbot.waitUntil(lambda: all(i.state == "done" for i in infos), timeout=10_000)  # type: ignore[attr-defined]
    assert peak[0] == 1


def test_layout_is_remembered_in_the_config_dir(qtbot: object) -> None:
    w = _window(qtbot)
    w.audit_dock.hide()
    w.close()
    assert (Path(os.environ["EXAMINER_CONFIG_DIR"]) / "gui-layout.ini").is_file()
    w2 = _window(qtbot)
    assert not w2.audit_dock.isVisible()
    assert w2.regions_dock.isVisible()


def test_status_bar_reads_16_bit_values(qtbot: object, tmp_path: Path) -> None:
    import cv2

    from examiner.core.case import Case

    img = (np.arange(40 * 60 * 3, dtype=np.uint32).reshape(40, 60, 3) * 37 % 65536).astype(np.uint16)
    path = tmp_path / "deep.png"
    cv2.imwrite(str(path), img[:, :, ::-1])
    case_path = tmp_path / "c.mcase"
    with Case.create(case_path, case_id="X", examiner="E") as c:
        c.add_evidence(path)
    w = _window(qtbot)
    assert w.open_case(case_path)
    assert w.compare.evidence is not None and w.compare.evidence.dtype == np.uint16
    w._cursor_moved(5, 7)
    v = img[7, 5]
    assert f"16-bit ({v[0]}, {v[1]}, {v[2]})" in w.value_label.text()
    assert w.pos_label.text() == "x 5, y 7"


@pytest.mark.parametrize("mode", ["difference", "swipe"])
def test_screenshot_mode_writes_a_png(tmp_path: Path, mode: str, qapp: object) -> None:
    from examiner.gui.app import run_gui

    case_path = make_case(tmp_path / "case")
    out = tmp_path / "shot.png"
    assert run_gui(str(case_path), screenshot=str(out), compare=mode, size=(1000, 700)) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    shot = Image.open(out)
    assert shot.size[0] >= 1000


def test_process_jobs_report_errors_crashes_results_and_cancel(qtbot: object) -> None:
    from tests import gui_fixtures as fx

    jobs = JobManager()
    errors: list[str] = []
    results: list[object] = []
    jobs.submit_process("fails", fx.job_fails, on_error=errors.append)
    jobs.submit_process("dies", fx.job_dies, on_error=errors.append)
    done = jobs.submit_process("pid", fx.job_pid, queue=CODEC, on_done=results.append)
    slow = jobs.submit_process("slow", fx.job_slow, (100_000,), on_done=results.append)
    qtbot.waitUntil(lambda: slow.state == "running" and slow.fraction > 0, timeout=60_000)  # type: ignore[attr-defined]
    jobs.cancel(slow.id)
    qtbot.waitUntil(lambda: not jobs.active(), timeout=60_000)  # type: ignore[attr-defined]
    assert "codec pack is broken" in errors
    assert any("stopped unexpectedly (exit code 3)" in e for e in errors)
    assert done.state == "done" and results == [results[0]] and results[0] != os.getpid()
    assert slow.state == "cancelled"


def test_worker_processes_are_started_ahead_and_reused(qtbot: object) -> None:
    from examiner.gui import workers
    from tests import gui_fixtures as fx

    workers.prewarm_workers(1)
    qtbot.waitUntil(lambda: workers._POOL.idle_count() >= 1, timeout=120_000)  # type: ignore[attr-defined]
    jobs = JobManager()
    pids: list[int] = []
    first = jobs.submit_process("pid", fx.job_pid, queue=CODEC, on_done=pids.append)
    qtbot.waitUntil(lambda: first.state == "done", timeout=60_000)  # type: ignore[attr-defined]
    second = jobs.submit_process("pid", fx.job_pid, queue=CODEC, on_done=pids.append)
    qtbot.waitUntil(lambda: second.state == "done", timeout=60_000)  # type: ignore[attr-defined]
    assert pids[0] == pids[1] != os.getpid()  # one process served both jobs
    errors: list[str] = []
    dies = jobs.submit_process("dies", fx.job_dies, queue=CODEC, on_error=errors.append)
    qtbot.waitUntil(lambda: dies.state == "failed", timeout=60_000)  # type: ignore[attr-defined]
    third = jobs.submit_process("pid", fx.job_pid, queue=CODEC, on_done=pids.append)
    qtbot.waitUntil(lambda: third.state == "done", timeout=60_000)  # type: ignore[attr-defined]
    assert pids[2] not in pids[:2]  # the crashed worker was replaced, the app carried on


@pytest.mark.parametrize("size", [(1024, 768), (2048, 1536), (192, 128)])
def test_fitting_the_image_settles_instead_of_resizing_forever(qtbot: object, tmp_path: Path, size: tuple[int, int]) -> None:
    # Fitting to the current viewport made scroll bars come and go, each change resized the
    # view, and the window spun at full CPU (seen with a 1024x768 image in a 1600x1000 window).
    w = MainWindow(interactive=False)
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    w.resize(1600, 1000)
    w.show()
    assert w.open_case(make_case(tmp_path / "c", *size))
    fits = [0]
    original = w.view.fit

    def counting_fit() -> None:
        fits[0] += 1
        original()

    w.view.fit = counting_fit  # type: ignore[method-assign]
    w.resize(1500, 950)
    for _ in range(20):
        qtbot.wait(10)  # type: ignore[attr-defined]
    assert fits[0] <= 4
    assert not w.view.horizontalScrollBar().isVisible() and not w.view.verticalScrollBar().isVisible()


def test_case_writes_run_in_order_off_the_gui_thread(qtbot: object) -> None:
    from examiner.gui.workers import WRITER

    jobs = JobManager()
    seen: list[tuple[int, str]] = []

    def write(i: int) -> object:
        return lambda _ctx: seen.append((i, threading.current_thread().name))

    infos = [jobs.submit(f"write {i}", write(i), queue=WRITER) for i in range(6)]
    assert jobs.wait_writes(30_000)
    qtbot.waitUntil(lambda: all(i.state == "done" for i in infos), timeout=30_000)  # type: ignore[attr-defined]
    assert [i for i, _ in seen] == list(range(6))  # one writer thread: commit order is submit order
    assert all(name != threading.main_thread().name for _, name in seen)
