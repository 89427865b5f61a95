"""Throughput, overhead and client memory of ``examiner screen``.

1. Speed, on one generated folder (photo-like and decoder-like PNG and JPEG images): a plain loop
   (intake + detection per file, what ``examiner detect`` does) run as one task on one Dask worker
   (the same process set-up and thread limits as screening's workers), then screening with 1 and
   with 2 local Dask workers, alternated. Images per second for each, and the overhead of
   screening on one worker over the plain loop, with and without the cluster's start-up.
   Target: at most 10 %.
2. Client memory: screening of 1,000 and of 20,000 tiny files (16 x 16 PNG: every file still
   goes through the walk, hashing, intake, an analysis task and a committed row; detection itself
   ends at once with "smaller than one analysis tile"), each in a fresh client process; its peak
   resident memory (which includes the scheduler and nannies of its LocalCluster) must stay flat.

Usage: .venv/bin/python bench/bench_screen.py [--images 200] [--size 256] [--memory-sizes 1000,20000]
       [--skip-speed] [--skip-memory] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
TARGET = 0.10


def _photo(side: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    fy, fx = np.fft.fftfreq(side)[:, None], np.fft.fftfreq(side)[None, :]
    amp = 1.0 / np.maximum(np.hypot(fy, fx), 1.0 / side) ** 1.1
    chans = [np.real(np.fft.ifft2(amp * np.exp(2j * np.pi * rng.random((side, side))))) for _ in range(3)]
    img = np.stack([(c - c.mean()) / (c.std() + 1e-9) for c in chans], axis=2) * 38 + 120
    return np.clip(img + rng.normal(0, 1.5, img.shape), 0, 255).round().astype(np.uint8)


def _decoder_like(side: int, seed: int) -> np.ndarray:
    import cv2

    x = _photo(side // 4, seed).astype(np.float32)
    k = np.outer([0.25, 0.75, 0.75, 0.25], [0.25, 0.75, 0.75, 0.25]).astype(np.float32)
    for _ in range(2):
        up = np.zeros((2 * x.shape[0], 2 * x.shape[1], 3), np.float32)
        up[::2, ::2] = x
        x = cv2.filter2D(up, -1, k * 1.1)
    return np.clip(x, 0, 255).astype(np.uint8)


def make_folder(root: Path, n: int, side: int) -> None:
    from PIL import Image

    for i in range(n):
        folder = root / f"{i // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        img = _decoder_like(side, i) if i % 5 == 0 else _photo(side, i)
        if i % 2:
            Image.fromarray(img).save(folder / f"{i:05d}.jpg", quality=90)
        else:
            Image.fromarray(img).save(folder / f"{i:05d}.png")


def make_tiny(root: Path, n: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(n):
        folder = root / f"{i // 500:04d}"
        if i % 500 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(folder / f"{i:06d}.png")


def plain_loop(root: Path) -> tuple[float, int]:
    from examiner.analysis.detector import detect_file, load_model

    model = load_model()
    files = sorted(p for p in root.rglob("*") if p.is_file())
    t0 = time.perf_counter()
    for p in files:
        detect_file(p, model=model)
    return time.perf_counter() - t0, len(files)


def _loop_task(paths: list[str]) -> float:
    """The plain loop, run inside a Dask worker process (same environment and thread limits)."""
    from examiner.analysis.detector import detect_file, load_model

    model = load_model()
    t0 = time.perf_counter()
    for p in paths:
        detect_file(p, model=model)
    return time.perf_counter() - t0


def plain_loop_on_worker(root: Path) -> tuple[float, int]:
    """A plain loop over the files on one worker: one task, no engine, no results file."""
    import logging

    from distributed import Client, LocalCluster

    files = sorted(str(p) for p in root.rglob("*") if p.is_file())
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)  # fmt: skip
    client = Client(cluster)
    try:
        client.submit(_loop_task, files[:2], pure=False).result()  # imports and the model, as a worker plugin would
        return client.submit(_loop_task, files, pure=False).result(), len(files)
    finally:
        client.close()
        cluster.close()


def screen_once(root: Path, out: Path, workers: int, top: int) -> dict[str, float]:
    from examiner.screening import run as screening
    from examiner.screening.cluster import dask_client
    from examiner.screening.engine import ScreenOptions

    t0 = time.perf_counter()
    with dask_client(workers) as (client, _engine):  # the cluster `examiner screen` starts, with its settings
        client.wait_for_workers(workers)
        t1 = time.perf_counter()
        rf = screening.create(out, [str(root)], ScreenOptions(top=top), "bench")
        try:
            summary = screening.screen(rf, client, rows_wanted=False)
        finally:
            rf.close()
        t2 = time.perf_counter()
    return {"startup_s": t1 - t0, "screen_s": t2 - t1, "files": summary["files"]}


def client_rss_child(root: str, out: str, workers: int) -> None:
    """Run in a fresh process: screen ``root`` and print this process's peak RSS."""
    import psutil

    from examiner.screening import run as screening
    from examiner.screening.cluster import dask_client
    from examiner.screening.engine import ScreenOptions

    proc = psutil.Process()
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(proc.memory_info().rss)
            time.sleep(0.05)

    with dask_client(workers) as (client, _engine):
        client.wait_for_workers(workers)
        baseline = proc.memory_info().rss
        threading.Thread(target=sample, daemon=True).start()
        t0 = time.perf_counter()
        rf = screening.create(out, [root], ScreenOptions(top=20), "bench")
        try:
            summary = screening.screen(rf, client, rows_wanted=False)
        finally:
            rf.close()
        seconds = time.perf_counter() - t0
        stop.set()
    print(json.dumps({"files": summary["files"], "seconds": seconds, "baseline_rss_mb": baseline / 2**20,
                      "peak_rss_mb": max(samples + [baseline]) / 2**20,
                      "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--memory-sizes", default="1000,20000")
    ap.add_argument("--memory-workers", type=int, default=2)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--client-rss", nargs=3, metavar=("SRC", "OUT", "WORKERS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client_rss:
        client_rss_child(args.client_rss[0], args.client_rss[1], int(args.client_rss[2]))
        return 0
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-screen-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    ok = True
    if not args.skip_speed:
        src = work / "speed"
        shutil.rmtree(src, ignore_errors=True)
        make_folder(src, args.images, args.size)
        # Alternated, so a change in the machine's load hits both sides alike.
        loops, runs = [], {}
        loop_here, n = plain_loop(src)
        print(f"plain loop in this process (numpy/OpenCV may use both cores): {n / loop_here:.2f} images/s")
        for w in (None, 1, 2, None, 1):
            if w is None:
                loop_s, n = plain_loop_on_worker(src)
                loops.append(loop_s)
                print(f"plain loop on one worker: {n} images in {loop_s:.2f} s = {n / loop_s:.2f} images/s")
                continue
            out = work / f"speed-{w}.mscreen"
            out.unlink(missing_ok=True)
            r = screen_once(src, out, w, top=0)
            runs.setdefault(w, []).append(r)
            print(f"screen, {w} worker(s): {r['files']} files in {r['screen_s']:.2f} s = {r['files'] / r['screen_s']:.2f} "
                  f"images/s (+ {r['startup_s']:.1f} s cluster start-up)")  # fmt: skip
        loop_s = min(loops)
        one = min(r["screen_s"] for r in runs[1])
        start = min(r["startup_s"] for r in runs[1])
        over, over_all = one / loop_s - 1, (one + start) / loop_s - 1
        print(f"overhead of screening on 1 worker over the plain loop (best of each): {100 * over:+.1f} % "
              f"({100 * over_all:+.1f} % with start-up); target <= {100 * TARGET:.0f} %")  # fmt: skip
        print(f"images/s: plain loop {n / loop_s:.2f}, 1 worker {n / one:.2f}, 2 workers {n / runs[2][0]['screen_s']:.2f} "
              f"(speed-up {one / runs[2][0]['screen_s']:.2f}x)")  # fmt: skip
        out = work / "thumbs.mscreen"
        out.unlink(missing_ok=True)
        r = screen_once(src, out, 1, top=50)
        print(f"the same on 1 worker with thumbnails of the top 50 for the report: {r['screen_s']:.2f} s")
        ok = ok and over <= TARGET
    if not args.skip_memory:
        peaks = []
        for n in (int(s) for s in args.memory_sizes.split(",")):
            src = work / f"tiny-{n}"
            if not src.exists():
                make_tiny(src, n)
            out = work / f"tiny-{n}.mscreen"
            out.unlink(missing_ok=True)
            env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
            done = subprocess.run([sys.executable, __file__, "--client-rss", str(src), str(out), str(args.memory_workers)],
                                  capture_output=True, text=True, env=env, check=True)  # fmt: skip
            r = json.loads(done.stdout.strip().splitlines()[-1])
            peaks.append(r["peak_rss_mb"])
            print(f"client, {r['files']} files: {r['seconds']:.1f} s ({r['files'] / r['seconds']:.0f} files/s), RSS after "
                  f"cluster start {r['baseline_rss_mb']:.0f} MiB, peak {r['peak_rss_mb']:.0f} MiB "
                  f"(ru_maxrss {r['ru_maxrss_mb']:.0f} MiB)")  # fmt: skip
        print(f"client peak RSS growth from the smallest to the largest run: {peaks[-1] - peaks[0]:+.0f} MiB")
    print(f"work folder: {work}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
