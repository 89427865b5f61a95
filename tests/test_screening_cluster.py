"""`examiner screen` on a real Dask LocalCluster with 2 worker processes: a generated seizure of a
few hundred small images is counted exactly once, also when a worker or the client is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from screening_fixtures import comparable_rows, every_entry, make_seizure

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seizure(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("seizure")
    outside = base / "outside.jpg"
    outside.write_bytes(b"\xff\xd8\xff not evidence")
    info = make_seizure(base / "phone", demo_codec=3, outside=outside)
    info["out"] = base
    return info


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    import logging

    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="2GiB",
                           dashboard_address=None, silence_logs=logging.ERROR)  # fmt: skip
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def _screen(seizure: dict[str, Any], name: str, client: Any, on_event: Any = None) -> Path:
    from examiner.screening import run as screening
    from examiner.screening.engine import ScreenOptions

    out = seizure["out"] / name
    rf = screening.create(out, [seizure["root"]], ScreenOptions(top=10), "tester")
    try:
        screening.screen(rf, client, on_event, {"engine": "test cluster"})
    finally:
        rf.close()
    return out


@pytest.fixture(scope="module")
def reference(seizure: dict[str, Any], client: Any) -> Path:
    return _screen(seizure, "reference.mscreen", client)


def _verified(results: Path) -> None:
    from examiner.screening.custody import verify
    from examiner.screening.store import ResultsFile

    with ResultsFile.open(results, read_only=True) as rf:
        report = verify(rf)
    assert report.ok, report.summary()


def test_every_file_is_counted_once_with_its_outcome(seizure: dict[str, Any], reference: Path, client: Any) -> None:
    from examiner.screening import tasks

    rows = comparable_rows(reference)
    paths = [r[1] for r in rows]
    assert sorted(paths) == every_entry(Path(seizure["root"])) == seizure["all"]
    assert len(set(paths)) == len(paths) and len(paths) > 200
    by_path = {r[1]: r for r in rows}
    assert all(r[3] in ("result", "refused", "error") for r in rows)
    kinds = seizure["kinds"]
    assert all(by_path[p][3] == "refused" and by_path[p][4] for p in kinds["corrupt"])
    assert all(by_path[p][3] == "result" for p in kinds["photo"][10:])
    # Each verdict is the detector's own for that file (the engine adds nothing and loses nothing),
    # and the decoder-like and demo-codec images are found.
    from examiner.analysis.detector import detect_file

    for p in kinds["neural"] + kinds["demo"] + kinds["photo"][10:30]:
        assert by_path[p][5] == detect_file(p).verdict, p
    assert sum(by_path[p][5] == "neural" for p in kinds["neural"]) >= 4
    # The demonstration codec's decodes of synthetic textures support the neural proposition
    # without reaching the level a verdict needs (the model is fitted on real photos).
    assert not any(by_path[p][5] == "not-neural" for p in kinds["demo"])
    assert not any(by_path[p][5] == "neural" for p in kinds["photo"])
    for p in kinds["copy"]:  # a copy and its original: the later one is listed as a duplicate of the first
        same = sorted(r for r in rows if r[2] == by_path[p][2])
        assert len(same) >= 2 and same[0][8] is None and all(r[8] == same[0][0] for r in same[1:])
    assert "outside the sources" in by_path[seizure["root"] + "/link-out"][4]
    assert "FIFO" in by_path[seizure["root"] + "/pipe"][4]
    assert by_path[seizure["root"] + "/notes.txt"][4] == "the file is text, not an image"
    assert by_path[seizure["root"] + "/tiny.png"][3] == "error"
    # Duplicates were analysed once: one analysis per distinct hash.
    from examiner.screening.store import ResultsFile

    with ResultsFile.open(reference, read_only=True) as rf:
        hashes = {r[2] for r in rows if r[2]}
        assert rf.conn.execute("SELECT count(*) FROM analyses").fetchone()[0] == len(hashes)
        assert rf.conn.execute("SELECT count(*) FROM followups WHERE kind = 'thumbnail'").fetchone()[0] == 10
    # The model was loaded once per worker process.
    assert set(client.run(lambda: tasks._STATE["loads"]).values()) == {1}
    _verified(reference)


def test_killing_a_worker_mid_run_loses_and_duplicates_nothing(seizure: dict[str, Any], reference: Path, client: Any) -> None:
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    seen = {"files": 0, "killed": False}

    def on_event(event: dict[str, Any]) -> None:
        if event["event"] == "file":
            seen["files"] += 1
            if seen["files"] == 60 and not seen["killed"]:
                os.kill(victim, signal.SIGKILL)
                seen["killed"] = True

    out = _screen(seizure, "worker-killed.mscreen", client, on_event)
    assert seen["killed"]
    assert victim not in client.run(os.getpid).values()  # the nanny started a new worker
    assert comparable_rows(out) == comparable_rows(reference)
    _verified(out)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "examiner", "screen", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_sigkill_of_the_client_then_resume_gives_the_same_rows(seizure: dict[str, Any], reference: Path) -> None:
    out = seizure["out"] / "client-killed.mscreen"
    proc = subprocess.Popen(_cli(seizure["root"], "--out", str(out), "--workers", "2", "--json", "--no-progress"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), text=True)  # fmt: skip
    try:
        files = 0
        assert proc.stdout is not None
        while files < 50:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "client ended early"
            files += json.loads(line)["event"] == "file"
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    # The local workers notice that their parent is gone and end too.
    _gone, alive = psutil.wait_procs(children, timeout=30)
    for p in alive:
        p.kill()
    assert not alive
    partial = comparable_rows(out)
    assert 0 < sum(r[3] != "pending" for r in partial) < len(seizure["all"])
    done = subprocess.run(_cli("--resume", str(out), "--workers", "2", "--no-progress"), capture_output=True, text=True,
                          env=_env(), timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert comparable_rows(out) == comparable_rows(reference)
    _verified(out)
    from examiner.screening.store import ResultsFile

    with ResultsFile.open(out, read_only=True) as rf:
        modes = [e.params["mode"] for e in rf.log.entries() if e.action == "screening.run_started"]
    assert modes == ["fresh", "resume"]


def test_an_existing_cluster_is_used_through_its_scheduler(tmp_path: Path, client: Any) -> None:
    src = tmp_path / "src"
    make_seizure(src, photos=4, neural=1, copies=1, corrupt=1)
    out = tmp_path / "r.mscreen"
    t0 = time.monotonic()
    done = subprocess.run(_cli(str(src), "--out", str(out), "--scheduler", client.scheduler.address, "--json",
                               "--no-progress"), capture_output=True, text=True, env=_env(), timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(x) for x in done.stdout.splitlines()]
    summary = lines[-1]
    files = [x for x in lines if x["event"] == "file"]
    assert summary["event"] == "summary" and summary["files"] == len(every_entry(src)) == len(files)
    # This cluster's workers have Dask's default environment: the run says what to set.
    warnings = [x["message"] for x in lines if x["event"] == "warning"]
    assert len(warnings) == 1 and "MALLOC_TRIM_THRESHOLD_ to null" in warnings[0]
    assert "MALLOC_TRIM_THRESHOLD_ to null" in done.stderr
    assert Path(summary["report"]["path"]).is_file() and time.monotonic() - t0 < 120


def test_the_tools_workers_run_without_dasks_allocator_setting(client: Any) -> None:
    from examiner.screening.cluster import TRIM_VARIABLE, dask_client
    from examiner.screening.tasks import worker_info

    # The module's cluster has Dask's defaults: its nanny put the variable into this process's
    # environment, which the tool's workers must not inherit.
    assert set(client.run(lambda: os.environ.get(TRIM_VARIABLE)).values()) == {"65536"}
    with dask_client(1) as (tool, engine):
        (info,) = tool.run(worker_info, None).values()
    assert engine["engine"] == "Dask LocalCluster"
    assert info["environment"][TRIM_VARIABLE] is None and info["environment"]["OMP_NUM_THREADS"] == "1"
