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
LOCAL_SCHEDULER_CONFIG = {"distributed.admin.low-level-log-length": 20, "distributed.diagnostics.computations.max-history": 5}


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
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        # A scheduler file (``dask scheduler --scheduler-file F``, what SLURM set-ups share) or an address.
        by_file = "://" not in scheduler and Path(scheduler).is_file()
        try:
            client = Client(scheduler_file=scheduler, timeout="30s") if by_file else Client(scheduler, timeout="30s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ExaminerError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        try:
            yield client, {"engine": "existing Dask cluster", "scheduler": scheduler}
        finally:
            client.close()
        return
    n = workers or default_workers()
    if n < 1:
        raise ExaminerError("--workers must be at least 1")
    with dask.config.set(LOCAL_SCHEDULER_CONFIG):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                               dashboard_address=None, silence_logs=logging.ERROR)  # fmt: skip
        client = Client(cluster)
        try:
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
