"""Background jobs: core task functions run in thread pools, results come back as signals.

A job is any callable taking a :class:`~examiner.core.tasks.TaskContext`, the same function the
CLI runs in the foreground. Workers never touch widgets: they only emit signals, which Qt
delivers to the GUI thread through queued connections, where the ``on_done`` / ``on_error``
callbacks then run. Codec and GPU work goes to a pool with a single thread, so two neural models
never compete for the device or for memory; everything else shares a general pool.

Heavy jobs run in worker *processes* (:meth:`JobManager.submit_process`): a pool thread relays
progress and the result. The processes are long-lived and reused (:class:`_WorkerPool`), started
ahead of the first job (:func:`prewarm_workers`) at the lowest CPU priority, so a job that starts
never pays, on the window's CPU, for a new interpreter importing torch.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import itertools
import multiprocessing
import os
import queue
import threading
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
# Single thread for case-file writes that carry large artefacts: the commit waits for the disk
# (rollback journal, synchronous=FULL), which must not happen on the GUI thread. One thread keeps
# the writes in order; the case's own lock keeps every read consistent with them.
WRITER = "writer"

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
        # A failing job must never take the app down.
        kind, value = _run_job(lambda: self._fn(ctx))
        _emit_outcome(self._signals, info.id, kind, value)


def _run_job(call: Callable[[], Any], unexpected: type[BaseException] = Exception) -> tuple[str, Any]:
    """How every job ends, in a thread or a worker process: ("done", result), ("cancelled",
    None) or ("error", message for the user)."""
    try:
        return "done", call()
    except Cancelled:
        return "cancelled", None
    except ExaminerError as exc:
        return "error", exc.message
    except MemoryError:
        return "error", "out of memory; try a smaller image or the tiled mode"
    except unexpected as exc:  # noqa: BLE001 - reported to the GUI, never raised there
        return "error", f"internal error: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"


def _emit_outcome(signals: _Signals, job_id: str, kind: str, value: Any) -> None:
    if kind == "done":
        signals.finished.emit(job_id, value)
    elif kind == "cancelled":
        signals.cancelled.emit(job_id)
    else:
        signals.failed.emit(job_id, str(value))


def _lower_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):
        # The examiner's window comes first when the CPU is busy: at the lowest priority a job
        # still gets every idle cycle, but never delays the GUI thread's next paint.
        os.setpriority(os.PRIO_PROCESS, 0, 19)


def _worker_main(conn: Any, preload: tuple[str, ...]) -> None:
    """Entry point of a long-lived worker process: run jobs sent over ``conn`` one at a time.

    Messages in: ``("job", id, target, args)`` and ``("cancel", id)``; out: ``("ready",)`` once,
    ``("progress", id, fraction, message)`` and one outcome per job, ``(kind, id, value)`` as
    :func:`_run_job` gives it.
    """
    _lower_priority()
    # Leave one core to the window: libraries imported from here on (torch, OpenCV) otherwise
    # start a thread per core.
    threads = str(max(1, (os.cpu_count() or 1) - 1))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, threads)
    jobs: queue.Queue[tuple[str, Callable[..., Any], tuple[Any, ...]] | None] = queue.Queue()
    current: list[tuple[str, CancelToken] | None] = [None]

    def listen() -> None:
        try:
            while True:
                msg = conn.recv()
                if msg[0] == "job":
                    jobs.put((msg[1], msg[2], msg[3]))
                elif msg[0] == "cancel":
                    running = current[0]
                    if running is not None and running[0] == msg[1]:
                        running[1].cancel()
        except (EOFError, OSError):
            running = current[0]
            if running is not None:
                running[1].cancel()  # the GUI went away: stop
            jobs.put(None)

    threading.Thread(target=listen, name="job-listener", daemon=True).start()
    for name in preload:
        # Paid once, at low priority, before any job: a job then starts without imports.
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    conn.send(("ready",))
    while (job := jobs.get()) is not None:
        job_id, target, args = job
        token = CancelToken()
        current[0] = (job_id, token)
        last = [0.0]

        def progress(p: Progress, job_id: str = job_id, last: list[float] = last) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.04 or p.fraction >= 1.0:
                last[0] = now
                conn.send(("progress", job_id, p.fraction, p.message))

        ctx = TaskContext(cancel=token, on_progress=progress)
        kind, value = _run_job(functools.partial(target, ctx, *args), unexpected=BaseException)
        current[0] = None
        try:
            conn.send((kind, job_id, value))
        except (OSError, ValueError):
            return
        except Exception as exc:  # noqa: BLE001 - an unpicklable result is the job's failure
            conn.send(("error", job_id, f"internal error: the job's result cannot be sent back ({exc})"))


# Modules every job needs: imported by a fresh worker before its first job.
PRELOAD = (
    "numpy",
    "examiner.workflows.detect",
    "examiner.workflows.recompress",
    "examiner.workflows.variability",
    "examiner.analysis.detector",
    "examiner.codecs.engine",
    "torch",
    "compressai",
)
# A worker that grew beyond this (a big model's weights, a large image's buffers) is not kept
# for the next job: a fresh one starts small.
RETIRE_RSS_BYTES = 2 << 30


class _Worker:
    """One spawned worker process and the parent's end of its pipe."""

    def __init__(self, preload: tuple[str, ...]) -> None:
        mp = multiprocessing.get_context("spawn")  # no inherited Qt state in the child
        self.conn, child = mp.Pipe()
        self.proc = mp.Process(target=_worker_main, args=(child, preload), daemon=True, name="examiner-worker")
        self.proc.start()
        child.close()
        with contextlib.suppress(OSError, AttributeError):
            # Lowered again at once from here: the child's own interpreter start-up and imports
            # otherwise compete with the window at normal priority.
            os.setpriority(os.PRIO_PROCESS, int(self.proc.pid or 0), 19)

    def alive(self) -> bool:
        return self.proc.is_alive()

    def wait_ready(self, timeout_s: float) -> bool:
        """Wait for the worker's "ready" (its imports done); only before its first job."""
        try:
            if self.conn.poll(timeout_s):
                return self.conn.recv() == ("ready",)
        except (EOFError, OSError):
            pass
        return False

    def rss(self) -> int:
        try:
            with open(f"/proc/{self.proc.pid}/statm", encoding="ascii") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0

    def close(self, kill: bool = False) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()  # the worker reads EOF and leaves its loop
        if kill and self.proc.is_alive():
            self.proc.terminate()
        self.proc.join(1.0)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


class _WorkerPool:
    """Idle worker processes kept for the next job.

    Starting a process means a new interpreter importing numpy, torch and the examiner: seconds
    of CPU that would compete with the window just when a job is started. Workers are started
    ahead (:meth:`prewarm`) and reused, so starting a job only sends it down a pipe.
    """

    def __init__(self, keep: int = 2, preload: tuple[str, ...] = PRELOAD) -> None:
        self.keep = keep
        self.preload = preload
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def acquire(self) -> _Worker:
        with self._lock:
            while self._idle:
                w = self._idle.pop()
                if w.alive():
                    return w
                w.close()
        return _Worker(self.preload)

    def release(self, worker: _Worker) -> None:
        if not worker.alive() or worker.rss() > RETIRE_RSS_BYTES:
            worker.close()
            return
        with self._lock:
            if len(self._idle) < self.keep:
                self._idle.append(worker)
                return
        worker.close()

    def prewarm(self, count: int) -> None:
        """Start workers until ``count`` are idle, from a helper thread (never blocks the caller)."""
        def start() -> None:
            with self._lock:
                missing = max(0, min(count, self.keep) - len(self._idle))
            for _ in range(missing):
                try:
                    w = _Worker(self.preload)
                except Exception:  # noqa: BLE001 - a job will start its own worker and report the failure
                    return
                if w.wait_ready(120.0):
                    self.release(w)
                else:
                    w.close(kill=True)

        threading.Thread(target=start, name="worker-prewarm", daemon=True).start()

    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)

    def shutdown(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for w in idle:
            w.close()


_POOL = _WorkerPool()
atexit.register(_POOL.shutdown)


def prewarm_workers(count: int = 2) -> None:
    """Start worker processes ahead of the first job (the GUI calls this once it is shown)."""
    _POOL.prewarm(count)


class _ProcessRunnable(QRunnable):
    """Runs a job in a worker process, so code that holds the GIL (entropy coders, model
    compilation) or crashes cannot freeze or kill the window. The pool thread only relays."""

    CANCEL_GRACE_S = 5.0

    def __init__(self, info: JobInfo, target: Callable[..., Any], args: tuple[Any, ...], signals: _Signals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._info, self._target, self._args, self._signals = info, target, args, signals

    def run(self) -> None:  # runs in a pool thread
        info = self._info
        if info.cancel.cancelled:
            self._signals.cancelled.emit(info.id)
            return
        self._signals.started.emit(info.id)
        try:
            worker = _POOL.acquire()
            worker.conn.send(("job", info.id, self._target, self._args))
        except Exception as exc:  # noqa: BLE001
            self._signals.failed.emit(info.id, f"could not start a worker process: {exc}")
            return
        conn, proc = worker.conn, worker.proc
        cancel_deadline: float | None = None
        outcome: tuple[Any, ...] | None = None
        reusable = False
        try:
            while outcome is None:
                if info.cancel.cancelled and cancel_deadline is None:
                    cancel_deadline = time.monotonic() + self.CANCEL_GRACE_S
                    with contextlib.suppress(OSError):
                        conn.send(("cancel", info.id))
                if cancel_deadline is not None and time.monotonic() > cancel_deadline:
                    outcome = ("cancelled", info.id, None)
                    break
                if conn.poll(0.05):
                    try:
                        msg = conn.recv()
                    except (EOFError, OSError):
                        msg = None
                    if msg is None:
                        proc.join(1.0)
                        outcome = ("error", info.id, f"the worker process stopped unexpectedly (exit code {proc.exitcode})")
                    elif msg[0] == "ready":
                        continue  # a fresh worker's imports are done; the job comes next
                    elif msg[0] == "progress":
                        self._signals.progress.emit(info.id, float(msg[2]), str(msg[3]))
                    else:
                        outcome, reusable = msg, True
                elif not proc.is_alive():
                    outcome = ("error", info.id, f"the worker process stopped unexpectedly (exit code {proc.exitcode})")
        finally:
            if reusable:
                _POOL.release(worker)
            else:
                worker.close(kill=True)
        _emit_outcome(self._signals, info.id, outcome[0], outcome[2])


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
        self.writer = QThreadPool(self)
        self.writer.setMaxThreadCount(1)
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
        self._pool(queue).start(_Runnable(info, fn, self._signals))
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
        self._pool(queue).start(_ProcessRunnable(info, target, tuple(args), self._signals))
        return info

    def _pool(self, queue: str) -> QThreadPool:
        return {CODEC: self.codec, WRITER: self.writer}.get(queue, self.general)

    def wait_writes(self, timeout_ms: int = -1) -> bool:
        """Block until queued case writes are committed (before a case is closed)."""
        return self.writer.waitForDone(timeout_ms)

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
        """Block until every pool is idle (tests, shutdown). Queued signals still need the event loop."""
        ok_general = self.general.waitForDone(timeout_ms)
        ok_codec = self.codec.waitForDone(timeout_ms)
        ok_writer = self.writer.waitForDone(timeout_ms)
        return ok_general and ok_codec and ok_writer

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
        on_done, on_error = self._callbacks.pop(job_id, (None, None))
        info.fraction = 1.0
        # The job only counts as done once its result has been taken in: a result the GUI cannot
        # record (a case write refused, say) makes it a failed job, announced once, as failed.
        failure: str | None = None
        if on_done is not None:
            try:
                on_done(result)
            except ExaminerError as exc:
                failure = exc.message
            except Exception as exc:  # noqa: BLE001 - a GUI slot must not raise into Qt's loop
                failure = f"internal error while taking in the result: {type(exc).__name__}: {exc}"
        if failure is None:
            info.state, info.message = "done", "done"
            self.job_finished.emit(info)
            return
        info.state, info.error, info.message = "failed", failure, failure.splitlines()[0]
        self.job_finished.emit(info)
        if on_error is not None:
            on_error(failure)

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
