"""Background jobs: core task functions run in thread pools, results come back as signals.

A job is any callable taking a :class:`~examiner.core.tasks.TaskContext`, the same function the
CLI runs in the foreground. Workers never touch widgets: they only emit signals, which Qt
delivers to the GUI thread through queued connections, where the ``on_done`` / ``on_error``
callbacks then run. Codec and GPU work goes to a pool with a single thread, so two neural models
never compete for the device or for memory; everything else shares a general pool.
"""

from __future__ import annotations

import contextlib
import itertools
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from examiner.core.tasks import CancelToken, Progress, TaskContext
from examiner.errors import Cancelled, ExaminerError

GENERAL = "general"
CODEC = "codec"  # single worker: codec runs, GPU work, anything that holds a big model

DoneCallback = Callable[[Any], None]
ErrorCallback = Callable[[str], None]


@dataclass
class JobInfo:
    id: str
    title: str
    queue: str
    state: str = "queued"  # queued | running | done | failed | cancelled
    fraction: float = 0.0
    message: str = ""
    error: str = ""
    started: float = field(default_factory=time.monotonic)
    cancel: CancelToken = field(default_factory=CancelToken)


class _Signals(QObject):
    started = Signal(str)
    progress = Signal(str, float, str)
    finished = Signal(str, object)
    failed = Signal(str, str)
    cancelled = Signal(str)


class _Runnable(QRunnable):
    def __init__(self, info: JobInfo, fn: Callable[[TaskContext], Any], signals: _Signals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._info = info
        self._fn = fn
        self._signals = signals
        self._last_emit = 0.0

    def _on_progress(self, p: Progress) -> None:
        # At most ~25 updates a second: a chatty task must not flood the GUI thread's queue.
        now = time.monotonic()
        if now - self._last_emit < 0.04 and p.fraction < 1.0:
            return
        self._last_emit = now
        self._signals.progress.emit(self._info.id, p.fraction, p.message)

    def run(self) -> None:  # runs in a pool thread
        info = self._info
        if info.cancel.cancelled:
            self._signals.cancelled.emit(info.id)
            return
        self._signals.started.emit(info.id)
        ctx = TaskContext(cancel=info.cancel, on_progress=self._on_progress)
        try:
            result = self._fn(ctx)
        except Cancelled:
            self._signals.cancelled.emit(info.id)
        except ExaminerError as exc:
            self._signals.failed.emit(info.id, exc.message)
        except MemoryError:
            self._signals.failed.emit(info.id, "out of memory; try a smaller image or the tiled mode")
        except Exception as exc:  # noqa: BLE001 - a failing job must never take the app down
            detail = traceback.format_exc(limit=3)
            self._signals.failed.emit(info.id, f"internal error: {type(exc).__name__}: {exc}\n{detail}")
        else:
            self._signals.finished.emit(info.id, result)


def _child_main(conn: Any, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """Entry point of a job's worker process: run ``target(ctx, *args)``, report over ``conn``."""
    import os
    import threading

    with contextlib.suppress(OSError):
        # The examiner's window comes first when the CPU is busy: at the lowest priority a job
        # still gets every idle cycle, but never delays the GUI thread's next paint.
        os.nice(19)
    # Leave one core to the window: libraries imported from here on (torch, OpenCV) otherwise
    # start a thread per core.
    threads = str(max(1, (os.cpu_count() or 1) - 1))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, threads)
    token = CancelToken()

    def listen() -> None:
        try:
            while True:
                if conn.recv() == "cancel":
                    token.cancel()
        except (EOFError, OSError):
            token.cancel()  # the GUI went away: stop

    threading.Thread(target=listen, name="cancel-listener", daemon=True).start()
    last = [0.0]

    def progress(p: Progress) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.04 or p.fraction >= 1.0:
            last[0] = now
            conn.send(("progress", p.fraction, p.message))

    try:
        result = target(TaskContext(cancel=token, on_progress=progress), *args)
        conn.send(("done", result))
    except Cancelled:
        conn.send(("cancelled",))
    except ExaminerError as exc:
        conn.send(("error", exc.message))
    except MemoryError:
        conn.send(("error", "out of memory; try a smaller image or the tiled mode"))
    except BaseException as exc:  # noqa: BLE001 - reported to the GUI, never raised there
        conn.send(("error", f"internal error: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"))
    finally:
        conn.close()


class _ProcessRunnable(QRunnable):
    """Runs a job in its own process, so code that holds the GIL (entropy coders, model
    compilation) or crashes cannot freeze or kill the window. The pool thread only relays."""

    CANCEL_GRACE_S = 5.0

    def __init__(self, info: JobInfo, target: Callable[..., Any], args: tuple[Any, ...], signals: _Signals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._info, self._target, self._args, self._signals = info, target, args, signals

    def run(self) -> None:  # runs in a pool thread
        import multiprocessing

        info = self._info
        if info.cancel.cancelled:
            self._signals.cancelled.emit(info.id)
            return
        self._signals.started.emit(info.id)
        mp = multiprocessing.get_context("spawn")  # no inherited Qt state in the child
        parent, child = mp.Pipe()
        proc = mp.Process(target=_child_main, args=(child, self._target, self._args), daemon=True, name=info.title)
        try:
            proc.start()
        except Exception as exc:  # noqa: BLE001
            self._signals.failed.emit(info.id, f"could not start a worker process: {exc}")
            return
        child.close()
        cancel_deadline: float | None = None
        outcome: tuple[Any, ...] | None = None
        try:
            while outcome is None:
                if info.cancel.cancelled and cancel_deadline is None:
                    cancel_deadline = time.monotonic() + self.CANCEL_GRACE_S
                    with contextlib.suppress(OSError):
                        parent.send("cancel")
                if cancel_deadline is not None and time.monotonic() > cancel_deadline:
                    proc.terminate()
                    outcome = ("cancelled",)
                    break
                if parent.poll(0.05):
                    try:
                        msg = parent.recv()
                    except (EOFError, OSError):
                        msg = None
                    if msg is None:
                        proc.join(1.0)
                        outcome = ("error", f"the worker process stopped unexpectedly (exit code {proc.exitcode})")
                    elif msg[0] == "progress":
                        self._signals.progress.emit(info.id, float(msg[1]), str(msg[2]))
                    else:
                        outcome = msg
                elif not proc.is_alive():
                    outcome = ("error", f"the worker process stopped unexpectedly (exit code {proc.exitcode})")
        finally:
            parent.close()
            proc.join(2.0)
            if proc.is_alive():
                proc.kill()
                proc.join()
        kind = outcome[0]
        if kind == "done":
            self._signals.finished.emit(info.id, outcome[1])
        elif kind == "cancelled":
            self._signals.cancelled.emit(info.id)
        else:
            self._signals.failed.emit(info.id, str(outcome[1]))


class JobManager(QObject):
    """Owns the pools and the bookkeeping of every job the GUI started."""

    job_added = Signal(object)  # JobInfo
    job_changed = Signal(object)  # JobInfo
    job_finished = Signal(object)  # JobInfo (state done/failed/cancelled)

    def __init__(self, parent: QObject | None = None, general_threads: int | None = None) -> None:
        super().__init__(parent)
        self.general = QThreadPool(self)
        ideal = QThreadPool.globalInstance().maxThreadCount()
        self.general.setMaxThreadCount(general_threads or max(1, min(4, ideal - 1)))
        self.codec = QThreadPool(self)
        self.codec.setMaxThreadCount(1)
        self.jobs: dict[str, JobInfo] = {}
        self._callbacks: dict[str, tuple[DoneCallback | None, ErrorCallback | None]] = {}
        self._ids = itertools.count(1)
        self._signals = _Signals()
        self._signals.started.connect(self._on_started)
        self._signals.progress.connect(self._on_progress)
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)
        self._signals.cancelled.connect(self._on_cancelled)

    def submit(
        self,
        title: str,
        fn: Callable[[TaskContext], Any],
        *,
        queue: str = GENERAL,
        on_done: DoneCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> JobInfo:
        info = JobInfo(id=f"job-{next(self._ids)}", title=title, queue=queue)
        self.jobs[info.id] = info
        self._callbacks[info.id] = (on_done, on_error)
        self.job_added.emit(info)
        pool = self.codec if queue == CODEC else self.general
        pool.start(_Runnable(info, fn, self._signals))
        return info

    def submit_process(
        self,
        title: str,
        target: Callable[..., Any],
        args: tuple[Any, ...] = (),
        *,
        queue: str = GENERAL,
        on_done: DoneCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> JobInfo:
        """Like :meth:`submit`, but ``target(ctx, *args)`` runs in a separate process.

        ``target`` must be a module-level function and its arguments and result picklable.
        Cancelling asks the process to stop at its next progress call and ends it after a
        grace period; a crash of the process becomes a failed job, never a crash of the GUI.
        """
        info = JobInfo(id=f"job-{next(self._ids)}", title=title, queue=queue)
        self.jobs[info.id] = info
        self._callbacks[info.id] = (on_done, on_error)
        self.job_added.emit(info)
        pool = self.codec if queue == CODEC else self.general
        pool.start(_ProcessRunnable(info, target, tuple(args), self._signals))
        return info

    def cancel(self, job_id: str) -> None:
        info = self.jobs.get(job_id)
        if info is not None and info.state in ("queued", "running"):
            info.cancel.cancel()
            info.message = "cancelling..."
            self.job_changed.emit(info)

    def cancel_all(self) -> None:
        for job_id in list(self.jobs):
            self.cancel(job_id)

    def active(self) -> list[JobInfo]:
        return [j for j in self.jobs.values() if j.state in ("queued", "running")]

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until both pools are idle (tests, shutdown). Queued signals still need the event loop."""
        ok_general = self.general.waitForDone(timeout_ms)
        ok_codec = self.codec.waitForDone(timeout_ms)
        return ok_general and ok_codec

    @Slot(str)
    def _on_started(self, job_id: str) -> None:
        info = self.jobs[job_id]
        info.state = "running"
        info.started = time.monotonic()
        self.job_changed.emit(info)

    @Slot(str, float, str)
    def _on_progress(self, job_id: str, fraction: float, message: str) -> None:
        info = self.jobs[job_id]
        if info.state == "queued":
            info.state = "running"
        info.fraction = fraction
        if message:
            info.message = message
        self.job_changed.emit(info)

    def _finish(self, info: JobInfo) -> tuple[DoneCallback | None, ErrorCallback | None]:
        self.job_finished.emit(info)
        return self._callbacks.pop(info.id, (None, None))

    @Slot(str, object)
    def _on_finished(self, job_id: str, result: object) -> None:
        info = self.jobs[job_id]
        info.state, info.fraction, info.message = "done", 1.0, "done"
        on_done, on_error = self._finish(info)
        if on_done is not None:
            try:
                on_done(result)
            except ExaminerError as exc:
                info.state, info.error = "failed", exc.message
                if on_error is not None:
                    on_error(exc.message)

    @Slot(str, str)
    def _on_failed(self, job_id: str, message: str) -> None:
        info = self.jobs[job_id]
        info.state, info.error, info.message = "failed", message, message.splitlines()[0]
        _, on_error = self._finish(info)
        if on_error is not None:
            on_error(message)

    @Slot(str)
    def _on_cancelled(self, job_id: str) -> None:
        info = self.jobs[job_id]
        info.state, info.message = "cancelled", "cancelled"
        self._finish(info)
