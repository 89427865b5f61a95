"""Where the work runs: a LocalCluster on this machine, or an existing Dask scheduler."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from examiner.errors import ExaminerError

# The local scheduler runs inside the client process. Its message streams to the workers keep
# the last low-level-log-length messages (1,000 by default) for debugging, each with the task
# it carried (here up to 64 paths): that alone made the client grow by about 1 KB per file
# until the log was full. Its "computations" history (100) serves a dashboard that is off here.
LOCAL_SCHEDULER_CONFIG: dict[str, Any] = {
    "distributed.admin.low-level-log-length": 20,
    "distributed.diagnostics.computations.max-history": 5,
}
# Dask's nanny starts every worker with MALLOC_TRIM_THRESHOLD_=65536, so that glibc hands freed
# memory back to the system at once. The analysis allocates and frees large arrays per image:
# with that setting every one of them became fresh pages (measured on 80 images: system time
# 0.9 s -> 8.4 s, minor page faults 0.3 M -> 4.2 M, wall time +60 %). A worker here analyses one
# image at a time with a memory limit enforced by the nanny, so glibc's default (a dynamic
# threshold) is what it gets. None removes the variable (distributed >= 2023.3); the thread
# limits (OMP/MKL/OpenBLAS = 1 per worker) stay.
TRIM_VARIABLE = "MALLOC_TRIM_THRESHOLD_"
WORKER_ENV_CONFIG: dict[str, Any] = {f"distributed.nanny.pre-spawn-environ.{TRIM_VARIABLE}": None}
# The worker's statistical profiler wakes every 10 ms to walk the running task's stack, taking the
# GIL from the analysis; it serves the dashboard, which is off here.
WORKER_PROFILE_CONFIG: dict[str, Any] = {"distributed.worker.profile.enabled": False}


class _DaskNoise(logging.Filter):
    """Drops Dask's (and its event loop's) log records below CRITICAL."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name.split(".")[0] in ("distributed", "tornado", "asyncio") and record.levelno < logging.CRITICAL)


@contextlib.contextmanager
def quiet_dask_logs() -> Iterator[None]:
    """While the tool drives a cluster, Dask's own log stays out of the examiner's terminal: a lost
    scheduler is logged by the client as an ERROR with a 35-line traceback before the exception
    arrives that the run turns into one line saying what happened and how to resume."""
    noise = _DaskNoise()
    # Dask gives some of its loggers their own handlers (and no propagation): filter every one.
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in ("distributed", "tornado", "asyncio")]
    handlers = {h for name in [*names, ""] for h in logging.getLogger(name).handlers}
    if logging.lastResort is not None:
        handlers.add(logging.lastResort)
    for h in handlers:
        h.addFilter(noise)
    try:
        yield
    finally:
        for h in handlers:
            h.removeFilter(noise)


def failure_text(exc: BaseException, results: Path | str) -> str:
    """One line for a cluster failure that is not a lost worker (Dask retries those)."""
    text = " ".join(str(exc).split())
    first = text.split(". ")[0][:200]
    lost = isinstance(exc, (OSError, TimeoutError)) or "connection" in text.lower() or "CommClosed" in type(exc).__name__
    if lost:
        return (f"lost the connection to the Dask scheduler ({first}); the rows recorded so far are kept; "
                f"when the cluster is back, continue with: examiner screen --resume {results}")  # fmt: skip
    return f"the Dask cluster failed ({type(exc).__name__}: {first}); continue with: examiner screen --resume {results}"


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None,
                memory_limit: str = "auto") -> Iterator[tuple[Any, dict[str, Any]]]:  # fmt: skip
    """A connected :class:`distributed.Client` and a description of the engine for the log.

    Local workers are processes with one thread each (the analysis code is not thread-safe in
    its use of the decoders' stderr capture, and one thread per process keeps memory per worker
    predictable); the nanny restarts a worker that dies or passes its memory limit. Their scratch
    space is Dask's default, in the system's temporary folder, never beside the evidence.
    """
    from distributed import Client

    if scheduler:
        # A scheduler file (``dask scheduler --scheduler-file F``, what SLURM set-ups share) or an address.
        by_file = "://" not in scheduler and Path(scheduler).is_file()
        try:
            client = Client(scheduler_file=scheduler, timeout="30s") if by_file else Client(scheduler, timeout="30s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ExaminerError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        try:
            with quiet_dask_logs():
                yield client, {"engine": "existing Dask cluster", "scheduler": scheduler}
        finally:
            with quiet_dask_logs():
                client.close()
        return
    n = workers or default_workers()
    if n < 1:
        raise ExaminerError("--workers must be at least 1")
    # A nanny writes its pre-spawn variables into its own process's environment, so one earlier
    # cluster with Dask's defaults in this process (a notebook, a test) leaves the variable here for
    # every later worker to inherit. Nothing in this process reads it after start-up: keep it out
    # while the tool's workers can be (re)started, put it back afterwards.
    inherited = os.environ.pop(TRIM_VARIABLE, None) if WORKER_ENV_CONFIG else None
    try:
        with _local_cluster(n, memory_limit) as yielded:
            yield yielded
    finally:
        if inherited is not None:
            os.environ[TRIM_VARIABLE] = inherited


@contextlib.contextmanager
def _local_cluster(n: int, memory_limit: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({**LOCAL_SCHEDULER_CONFIG, **WORKER_ENV_CONFIG, **WORKER_PROFILE_CONFIG}):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                               dashboard_address=None, silence_logs=logging.ERROR)  # fmt: skip
        client = Client(cluster)
        try:
            with quiet_dask_logs():
                yield client, {"engine": "Dask LocalCluster", "workers": n, "threads_per_worker": 1, "memory_limit": memory_limit}
        finally:
            client.close()
            cluster.close()


def total_threads(client: Any) -> int:
    try:
        threads: dict[str, int] = client.nthreads()
        return max(1, sum(threads.values()))
    except Exception:  # noqa: BLE001 - a transient scheduler hiccup must not stop the loop
        return 1
