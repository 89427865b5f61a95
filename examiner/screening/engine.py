"""The client loop of a screening run: walk, hash, analyse, follow up; only this process writes.

Memory stays bounded however large the seizure: the walk is a generator that only runs ahead of
the hashing by a few batches, the backlog lives in the results file (rows in state ``pending``),
and at most a window of futures (twice the workers' threads) is in flight. Results are taken
as they complete (``as_completed``) and each task's rows commit in one transaction with the log
entry that records them. A run killed at any point resumes from the file: pending rows are
simply submitted again.

Work is batched so the per-task overhead of Dask stays small next to the analysis: hashing in
batches of files, detection in batches sized from the measured time per image (about
``target_task_seconds`` of work per task). If a worker dies, Dask reruns its tasks elsewhere
(``retries``); a batch that keeps killing workers is split, and a single file that does is
recorded as an error with that reason, so one poisonous file cannot stop the run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from examiner.errors import ExaminerError
from examiner.screening import store, tasks
from examiner.screening.cluster import TRIM_VARIABLE, failure_text, total_threads
from examiner.screening.store import ResultsFile
from examiner.screening.walk import FILE, Entry, walk

Event = dict[str, Any]
EventCallback = Callable[[Event], None]


@dataclass
class ScreenOptions:
    model_path: str | None = None
    max_pixels: int | None = None
    top: int = 50  # thumbnails for the report
    identify_top: int = 0
    codecs: Any = "auto"
    variability_top: int = 0
    variability_codec: str | None = None
    # Third-party codec folders the follow-ups look in (the front end reads them from the settings).
    extra_codec_dirs: list[str] = field(default_factory=list)
    seeds: int = 8
    hash_batch: int = 64
    # The walk runs this many files ahead of the hashing (they wait in the results file, not in
    # memory), so the total, and with it the time left, is known early on most seizures.
    walk_ahead: int = 20_000
    target_task_seconds: float = 1.0
    max_batch: int = 32
    retries: int = 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScreenOptions:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class _Job:
    kind: str  # hash | analyse | followup
    items: list[Any]


@dataclass
class Screening:
    rf: ResultsFile
    client: Any
    options: ScreenOptions
    on_event: EventCallback | None = None
    engine: dict[str, Any] = field(default_factory=dict)
    rows_wanted: bool = True  # a "file" event per row (JSON lines, tests); else only progress counts

    def __post_init__(self) -> None:
        self.inflight: dict[Any, _Job] = {}
        self.file_cursor = 0
        self.analysis_cursor = 0
        self.backlog = 0
        self.unhashed = 0  # pending files beyond the hashing cursor
        self.hash_inflight = 0
        self.seconds_per_image = 0.0
        self.walker: Iterator[Entry] | None = None
        self.resubmits: list[_Job] = []
        self._window_size, self._window_at = 2, -1e9  # single-file jobs split off a batch that lost its worker
        self.done = 0
        self.found = 0
        meta = self.rf.meta()
        self.sources: list[str] = list(meta["sources"])
        self.versions: dict[str, str] = dict(meta["versions"])
        self.walk_complete = bool(meta.get("walk_complete", False))

    # ------------------------------------------------------------------ events
    def _emit(self, event: Event) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _progress(self) -> None:
        self._emit({"event": "progress", "done": self.done, "found": self.found, "walk_complete": self.walk_complete})

    def _emit_rows(self, file_ids: list[int]) -> None:
        """Count the files that reached their final state; hand their rows on when asked to."""
        if not file_ids:
            return
        if not self.rows_wanted:
            marks = ",".join("?" * len(file_ids))
            self.done += int(self.rf.conn.execute(
                f"SELECT count(*) FROM files f LEFT JOIN analyses a ON a.sha256 = f.sha256 WHERE f.id IN ({marks}) "
                "AND (f.status IN ('refused', 'error') OR (f.status = 'hashed' AND a.status != 'pending'))",
                file_ids).fetchone()[0])  # fmt: skip
            return
        for fid in file_ids:
            r = store.row(self.rf.conn, fid)
            if r is not None and r["outcome"] != store.PENDING:
                self.done += 1
                self._emit({"event": "file", **r})

    # ------------------------------------------------------------------ checks
    def check_workers(self) -> list[dict[str, Any]]:
        try:
            self.client.wait_for_workers(1, timeout=120)
        except TimeoutError:
            raise ExaminerError("no Dask worker joined the cluster within 120 s") from None
        try:
            infos = list(self.client.run(tasks.worker_info, self.options.model_path).values())
        except ExaminerError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever a foreign worker raises, say what to fix
            raise ExaminerError(f"a Dask worker cannot run the analysis ({type(exc).__name__}: {exc}); every "
                                "worker needs the same Miscompression Examiner install") from None  # fmt: skip
        for info in infos:
            for k in ("tool_version", "model_version", "model_sha256"):
                if info[k] != self.versions[k]:
                    raise ExaminerError(
                        f"worker {info['worker']} has {k} {info[k]}, but this results file was made with "
                        f"{self.versions[k]}; every worker must run the same program and model"
                    )
        slow = sorted({i["worker"] for i in infos if (i.get("environment") or {}).get(TRIM_VARIABLE)})
        if slow:
            self._emit({"event": "warning", "message": (
                f"{len(slow)} worker(s) run with {TRIM_VARIABLE} set (Dask's nanny sets it by default), which makes "
                "the analysis up to 1.6x slower; set distributed.nanny.pre-spawn-environ."
                f"{TRIM_VARIABLE} to null in the cluster's Dask configuration")})  # fmt: skip
        return infos

    # ------------------------------------------------------------------ the loop
    def run(self) -> dict[str, Any]:
        from distributed import as_completed

        t0 = time.monotonic()
        resumed = self.rf.conn.execute("SELECT count(*) FROM files").fetchone()[0] > 0
        infos = self.check_workers()
        self.client.register_plugin(tasks.DetectorPlugin(self.options.model_path))
        self.rf.log_action("screening.run_started", {"mode": "resume" if resumed else "fresh", "engine": self.engine,
                                                     "workers": infos, "options": self.options.to_dict()})  # fmt: skip
        c = store.counts(self.rf.conn)
        self.found = c["files"]
        self.done = c["files"] - c["outcomes"].get(store.PENDING, 0)
        self.backlog = self.rf.count_pending_analyses(0)
        self.unhashed = self.rf.count_pending_files(0)
        if not self.walk_complete:
            self.walker = walk(self.sources)
        self._progress()
        try:
            ac = as_completed()
            self._fill(ac)
            for fut in ac:
                self._handle(fut)
                self._fill(ac)
                self._progress()
            self._followups()
        except (OSError, TimeoutError, asyncio.CancelledError) as exc:
            # The scheduler went away between two results (submitting, or waiting for the next).
            raise ExaminerError(failure_text(exc, self.rf.path)) from None
        summary = store.counts(self.rf.conn)
        summary["seconds"] = round(time.monotonic() - t0, 3)
        self.rf.log_action("screening.run_finished", summary)
        return summary

    def _window(self) -> int:
        # Asked of the scheduler at most every 2 s: workers come and go on a shared cluster.
        now = time.monotonic()
        if now - self._window_at > 2.0:
            self._window_size = max(2, 2 * total_threads(self.client))
            self._window_at = now
        return self._window_size

    def _fill(self, ac: Any) -> None:
        self._drain_resubmits(ac)
        window = self._window()
        low_water = 2 * window * self._analysis_batch_size()
        while len(self.inflight) < window:
            if self.hash_inflight < 2 and self.backlog < low_water and self._submit_hash(ac):
                continue
            if self.backlog > 0 and self._submit_analysis(ac):
                continue
            if self.hash_inflight < 2 and self._submit_hash(ac):
                continue
            break
        if self.walker is not None and self.unhashed < self.options.walk_ahead:
            self._walk_more(1000)

    def _submit(self, ac: Any, job: _Job, fn: Callable[..., Any], *args: Any, priority: int = 0) -> None:
        fut = self.client.submit(fn, *args, pure=False, retries=self.options.retries, priority=priority)
        self.inflight[fut] = job
        ac.add(fut)

    # ------------------------------------------------------------------ hashing
    def _walk_more(self, want: int) -> None:
        """Insert up to ``want`` newly found files (and any rows for what is not screened)."""
        if self.walker is None:
            return
        chunk: list[tuple[str, str, int, float, str, str | None]] = []
        new_files = 0
        for e in self.walker:
            if self.rf.known(e.path):
                continue
            status = store.PENDING if e.kind == FILE else e.kind
            chunk.append((e.path, e.source, e.size, e.mtime, status, e.reason or None))
            new_files += e.kind == FILE
            if new_files >= want or len(chunk) >= 4 * want:
                break
        else:
            self.walker = None
        self.walk_complete = self.walker is None
        ids = self.rf.add_found(chunk, walk_complete=self.walk_complete)
        self.found += len(ids)
        self.unhashed += new_files
        self._emit_rows([i for i, c in zip(ids, chunk, strict=True) if c[4] != store.PENDING])

    def _submit_hash(self, ac: Any) -> bool:
        n = self.options.hash_batch
        batch = self.rf.pending_files(self.file_cursor, n)
        while len(batch) < n and self.walker is not None:
            self._walk_more(n)
            batch = self.rf.pending_files(self.file_cursor, n)
        if not batch:
            return False
        self.file_cursor = batch[-1][0]
        self.unhashed = max(0, self.unhashed - len(batch))
        items = [(fid, path) for fid, path, _size in batch]
        self._submit(ac, _Job("hash", items), tasks.hash_batch, items)
        self.hash_inflight += 1
        return True

    # ------------------------------------------------------------------ detection
    def _analysis_batch_size(self) -> int:
        if self.seconds_per_image <= 0:
            return 2
        return int(max(1, min(self.options.max_batch, round(self.options.target_task_seconds / self.seconds_per_image))))

    def _submit_analysis(self, ac: Any, items: list[tuple[str, str]] | None = None) -> bool:
        if items is None:
            rows = self.rf.pending_analyses(self.analysis_cursor, self._analysis_batch_size())
            if not rows:
                self.backlog = 0
                return False
            self.analysis_cursor = rows[-1][0]
            self.backlog = max(0, self.backlog - len(rows))
            items = [(sha, path) for _rowid, sha, path in rows]
        self._submit(ac, _Job("analyse", items), tasks.analyse_batch, items, self.options.model_path,
                     self.options.max_pixels, priority=10)  # fmt: skip
        return True

    def _note_time(self, outcomes: list[dict[str, Any]]) -> None:
        for o in outcomes:
            s = float(o.get("seconds", 0.0))
            self.seconds_per_image = s if self.seconds_per_image <= 0 else 0.8 * self.seconds_per_image + 0.2 * s

    def _checked(self, outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A worker that joined with another program or model must not slip its rows in."""
        for o in outcomes:
            for k in ("tool_version", "model_version", "model_sha256"):
                if o.get(k) != self.versions[k]:
                    o.update(status="error", reason=f"analysed by worker {o.get('worker')} with {k} {o.get(k)}, "
                             f"not {self.versions[k]}; not used", verdict=None, score=None, lr=None, rank=None,
                             data=None, **{kk: self.versions[kk] for kk in ("tool_version", "model_version", "model_sha256")})  # fmt: skip
                    break
        return outcomes

    # ------------------------------------------------------------------ results
    def _handle(self, fut: Any) -> None:
        job = self.inflight.pop(fut)
        if job.kind == "hash":
            self.hash_inflight -= 1
        try:
            result = fut.result()
        except Exception as exc:  # noqa: BLE001 - classified below
            fut.release()
            self._failed(job, exc)
            return
        fut.release()
        self._record(job, result)

    def _record(self, job: _Job, result: Any) -> None:
        if job.kind == "hash":
            new = self.rf.record_hashes(result, self.versions)
            self.backlog += len(new)
            self._emit_rows([int(o["id"]) for o in result])
        elif job.kind == "analyse":
            self._note_time(result)
            recorded = self.rf.record_analyses(self._checked(result))
            ids = [fid for sha in recorded for fid, _ in self.rf.files_with_hash(sha)]
            self._emit_rows(ids)
        else:
            self.rf.record_followup(result)

    def _failed(self, job: _Job, exc: BaseException) -> None:
        from distributed import KilledWorker

        if not isinstance(exc, KilledWorker):
            # The scheduler went away or the run was cancelled: nothing is known about these
            # files, so nothing is recorded; a resume submits them again.
            raise ExaminerError(failure_text(exc, self.rf.path)) from None
        if len(job.items) > 1:
            # Find the file that kills workers: each one on its own.
            for item in job.items:
                self._resubmit(_Job(job.kind, [item]))
            return
        why = (f"the worker process was lost {self.options.retries + 1} or more times while "
               f"{'hashing' if job.kind == 'hash' else 'analysing'} this file (it may crash the decoder "
               "or exceed the memory limit per worker)")  # fmt: skip
        if job.kind == "hash":
            fid, _path = job.items[0]
            self._record(job, [{"id": fid, "sha256": None, "reason": why}])
        elif job.kind == "analyse":
            sha, _path = job.items[0]
            self._record(job, [{"sha256": sha, "status": "error", "reason": why, "seconds": 0.0, **self.versions}])
        else:
            kind, sha, _path = job.items[0][:3]
            self._record(job, {"sha256": sha, "kind": kind, "status": "error", "reason": why,
                               "tool_version": self.versions["tool_version"]})  # fmt: skip

    def _resubmit(self, job: _Job) -> None:
        self.resubmits.append(job)

    def _drain_resubmits(self, ac: Any) -> None:
        while self.resubmits:
            job = self.resubmits.pop()
            if job.kind == "hash":
                self._submit(ac, job, tasks.hash_batch, job.items)
                self.hash_inflight += 1
            elif job.kind == "analyse":
                self._submit_analysis(ac, job.items)
            else:
                self._submit(ac, job, tasks.followup, *job.items[0], self.options.max_pixels)

    # ------------------------------------------------------------------ follow-ups
    def _followup_jobs(self) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        o = self.options
        plan: list[tuple[str, int, dict[str, Any]]] = [("thumbnail", o.top, {})]
        if o.identify_top > 0:
            plan.append(("identify", o.identify_top, {"codecs": o.codecs, "codec_dirs": o.extra_codec_dirs}))
        if o.variability_top > 0 and o.variability_codec:
            plan.append(("variability", o.variability_top,
                         {"codec": o.variability_codec, "seeds": o.seeds, "codec_dirs": o.extra_codec_dirs}))
        for kind, n, params in plan:
            for r in self.rf.top(n):
                if self.rf.followup(r["sha256"], kind) is None:
                    yield kind, r["sha256"], self.rf.path_of(int(r["analysed_file"])), params

    def _followups(self) -> None:
        from distributed import as_completed

        jobs = self._followup_jobs()
        ac = as_completed()
        window = self._window()

        def fill() -> None:
            self._drain_resubmits(ac)
            while len(self.inflight) < window:
                item = next(jobs, None)
                if item is None:
                    return
                self._submit(ac, _Job("followup", [item]), tasks.followup, *item, self.options.max_pixels)

        fill()
        for fut in ac:
            self._handle(fut)
            fill()
