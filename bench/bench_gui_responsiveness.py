"""Does the GUI thread stay responsive while detection and a neural re-compression run?

A heartbeat timer ticks every 10 ms on the GUI thread of the real main window (offscreen) while
trace detection and a neural re-compression run as background jobs, and while the view is
zoomed, panned and flickered so the GUI thread also paints. The figure is the longest gap
between two heartbeats beyond the timer interval: the target is at most 50 ms.

Usage: ``python bench/bench_gui_responsiveness.py [--size 2048x1536] [--codec ID]``. Without
``--codec`` it takes the first installed neural codec; when there is none it runs a randomly
initialised CompressAI hyperprior model through the same job path, and says so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from examiner.core.case import Case  # noqa: E402
from examiner.core.tasks import TaskContext  # noqa: E402
from examiner.gui import workers  # noqa: E402
from examiner.gui.main_thread_gc import MainThreadCollector  # noqa: E402
from examiner.gui.main_window import MainWindow  # noqa: E402
from examiner.gui.workers import CODEC, prewarm_workers  # noqa: E402

INTERVAL_MS = 10
TARGET_MS = 50.0


def scene(h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(0)
    img = np.stack([128 + 60 * np.sin(xx / 23) * np.cos(yy / 31), 120 + 50 * np.cos(xx / 41), 130 + 40 * np.sin(yy / 17)], 2)
    return np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)


def neural_codec() -> str | None:
    from examiner.codecs.registry import list_codecs

    entries, _ = list_codecs()
    for e in entries:
        if e.info.family.value == "neural" and e.available:
            return e.info.id
    return None


def random_hyperprior(ctx: TaskContext, pixels: np.ndarray) -> float:
    """Compress and decompress with a randomly initialised hyperprior model (a stand-in load)."""
    import torch
    from compressai.models import ScaleHyperprior

    torch.manual_seed(0)
    net = ScaleHyperprior(128, 192).eval()
    net.update(force=True)
    h, w = pixels.shape[:2]
    x = torch.from_numpy(pixels[: h // 64 * 64, : w // 64 * 64].copy()).permute(2, 0, 1)[None].float() / 255
    ctx.progress(0, 2, "compress")
    with torch.no_grad():
        out = net.compress(x)
        ctx.progress(1, 2, "decompress")
        net.decompress(out["strings"], out["shape"])
    return float(sum(len(s[0]) for s in out["strings"]) * 8 / (h * w))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="2048x1536")
    ap.add_argument("--codec")
    ap.add_argument("--quality", type=int)
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the --jobs none baseline")
    ap.add_argument("--jobs", choices=("both", "detection", "codec", "none"), default="both")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-gui-"))
    os.environ.setdefault("EXAMINER_CONFIG_DIR", str(tmp / "config"))
    Image.fromarray(scene(h, w)).save(tmp / "evidence.png")
    with Case.create(tmp / "bench.mcase", case_id="BENCH", examiner="bench") as c:
        c.add_evidence(tmp / "evidence.png")

    app = QApplication([])
    MainThreadCollector(app)  # as the application runs: cycles are collected on this thread
    win = MainWindow(interactive=False)
    win.resize(1600, 1000)
    win.show()
    assert win.open_case(tmp / "bench.mcase"), win.messages
    app.processEvents()
    # As `examiner gui` does once its window is shown: worker processes start ahead of the first
    # job. The measurement begins when they are ready, as for a user who opened a case and
    # then asked for an analysis.
    prewarm_workers(2)
    t_warm = time.perf_counter()
    while workers._POOL.idle_count() < 2 and time.perf_counter() - t_warm < 120:
        app.processEvents()
        time.sleep(0.01)
    print(f"worker processes ready after {time.perf_counter() - t_warm:.1f} s")

    beats: list[float] = []
    heart = QTimer()
    heart.setInterval(INTERVAL_MS)
    heart.timeout.connect(lambda: beats.append(time.perf_counter()))
    steps = [0]

    def poke() -> None:  # keep the GUI thread painting: zoom, pan and redraw
        steps[0] += 1
        z = (0.25, 1.0, 4.0, 1.0)[steps[0] % 4]
        win.view.set_zoom(z)
        win.view.centerOn(w * ((steps[0] * 37) % 100) / 100, h / 2)
        win.view.viewport().repaint()

    ui = QTimer()
    ui.setInterval(100)
    ui.timeout.connect(poke)

    events: list[tuple[float, str]] = []
    win.jobs.job_finished.connect(lambda info: events.append((time.perf_counter(), f"{info.title} {info.state}")))
    win.jobs.job_changed.connect(
        lambda info: events.append((time.perf_counter(), f"{info.title} started")) if info.state == "running" and info.fraction == 0 else None
    )
    codec = args.codec or neural_codec()
    t0 = time.perf_counter()
    heart.start()
    ui.start()
    if args.jobs in ("both", "detection"):
        win.run_detection()
    if args.jobs == "none":
        what = f"none: a {args.seconds:g} s baseline of the same GUI activity (zoom, pan, repaint) without jobs"
    elif args.jobs == "detection":
        what = "no re-compression"
    elif codec is not None and args.jobs != "detection":
        from examiner.codecs.registry import get_info

        info, _ = get_info(codec)
        q = args.quality or info.qualities[0]
        what = f"neural re-compression: {codec} q{q} through the codec queue"
        win.run_recompression(codec, q, None, "cpu")
    else:
        what = "neural re-compression: no neural codec installed; a randomly initialised CompressAI ScaleHyperprior (N=128, M=192) compress+decompress on the codec queue"
        win.jobs.submit_process("random hyperprior", random_hyperprior, (win.compare.evidence,), queue=CODEC)
    # Let the jobs start before waiting for them to end.
    min_s = args.seconds if args.jobs == "none" else 0.5
    while time.perf_counter() - t0 < min_s or win.jobs.active():
        app.processEvents()
        time.sleep(0.001)
        if time.perf_counter() - t0 > 600:
            break
    heart.stop()
    ui.stop()
    elapsed = time.perf_counter() - t0
    failed = [j for j in win.jobs.jobs.values() if j.state == "failed"]
    gaps = np.diff(np.array(beats)) * 1000.0
    stall = float(gaps.max() - INTERVAL_MS) if gaps.size else float("nan")
    print(f"image {w} x {h}; jobs: {'trace detection; ' if args.jobs in ('both', 'detection') else ''}{what}")
    print(f"jobs ran {elapsed:.1f} s on {os.cpu_count()} CPU cores; {len(beats)} heartbeats every {INTERVAL_MS} ms")
    for j in win.jobs.jobs.values():
        print(f"  job {j.title!r}: {j.state} {j.error.splitlines()[0] if j.error else ''}")
    print(f"heartbeat gap: median {statistics.median(gaps):.1f} ms, p99 {np.percentile(gaps, 99):.1f} ms, max {gaps.max():.1f} ms")
    arr = np.array(beats)
    for i in np.argsort(gaps)[::-1][:5]:
        t_end = arr[i + 1]
        near = [f"{e} ({1000 * (t - t_end):+.0f} ms)" for t, e in events if abs(t - t_end) < 1.0]
        print(f"  gap of {gaps[i]:.0f} ms ending at {t_end - t0:.2f} s; job events within 1 s: {near or 'none'}")
    load = os.getloadavg()[0]
    print(f"machine load average during the run: {load:.1f} on {os.cpu_count()} cores (other processes compete for the CPU)")
    print(f"max stall beyond the interval: {stall:.1f} ms (target <= {TARGET_MS:.0f} ms): {'PASS' if stall <= TARGET_MS and not failed else 'FAIL'}")
    win.close()


if __name__ == "__main__":
    main()
