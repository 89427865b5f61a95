"""The window on a real X server: Xvfb, Qt's xcb platform, real X input events.

The rest of the suite runs Qt offscreen, in this process, and a QApplication cannot change its
platform, so the window runs in a child process (tests/real_display_driver.py) on an Xvfb server
this test starts on a free display number. Skipped, with the reason, where Xvfb cannot run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).resolve().parent / "real_display_driver.py"
SCREEN = (1600, 1000)
PACK = REPO / "codecs" / "examiner-demo" / "codec.toml"


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """A fresh Xvfb server; Xvfb picks a free display number itself (-displayfd)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (Debian package xvfb, listed in packaging/system-packages.txt)")
    read, write = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp", "-noreset"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write)
    try:
        number = _read_display_number(read, proc)
        if number is None:
            proc.kill()
            err = proc.communicate(timeout=5)[1].decode(errors="replace").strip().splitlines()
            pytest.skip(f"Xvfb could not start here: {err[-1] if err else 'no display number within 15 s'}")
        yield f":{number}"
    finally:
        os.close(read)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _read_display_number(fd: int, proc: subprocess.Popen[bytes]) -> int | None:
    import select

    data = b""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 64)
            if not chunk:
                break
            data += chunk
        elif proc.poll() is not None:
            break
    return int(data) if data.strip().isdigit() else None


@pytest.mark.skipif(not PACK.is_file(), reason="the demo case needs the demonstration codec pack, which is not built")
def test_demo_case_window_on_xvfb_with_real_input(xvfb_display: str, tmp_path: Path) -> None:
    from examiner.demo import ensure_demo_case

    case = ensure_demo_case(tmp_path / "demo")
    out = tmp_path / "out"
    out.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XAUTHORITY"}}
    env.update(
        DISPLAY=xvfb_display,
        QT_QPA_PLATFORM="xcb",
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    done = subprocess.run(
        [sys.executable, str(DRIVER), str(case), str(out)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["platform"] == "xcb"
    assert report["screen_size"] == list(SCREEN)
    assert report["title"].startswith("DEMO-0001")
    assert report["messages"] == []

    # The screen shows the window, exactly as the window draws itself, on the empty root window.
    screen = np.asarray(Image.open(out / "screen.png").convert("RGB")).astype(np.int16)
    assert screen.shape == (SCREEN[1], SCREEN[0], 3)
    assert screen.std() > 20, "the screen grab is blank"
    x, y, w, h = report["window_rect"]
    assert x >= 0 and y >= 0 and x + w <= SCREEN[0] and y + h <= SCREEN[1]
    on_screen = screen[y : y + h, x : x + w]
    drawn = np.asarray(Image.open(out / "window.png").convert("RGB")).astype(np.int16)
    assert drawn.shape == on_screen.shape
    assert (np.abs(on_screen - drawn).max(axis=2) <= 8).mean() > 0.98
    outside = screen[:, x + w :]
    assert outside.size and outside.std() < 1.0 and abs(float(outside.mean()) - float(on_screen.mean())) > 10
    vx, vy, vw, vh = report["view_rect"]
    view = screen[vy : vy + vh, vx : vx + vw]
    assert view.std() > 20, "the image view shows no picture"

    # The example regions are listed with their taxonomy.
    rows = report["region_rows"]
    assert len(rows) == 2 and all("Shape" in r and "Symbol" in r and "no category" not in r for r in rows), rows

    # F5 (a real key press) switched to the difference view, which the screen then showed.
    assert report["mode_after_f5"] == "difference"
    diff_screen = np.asarray(Image.open(out / "screen-difference.png").convert("RGB")).astype(np.int16)
    assert np.abs(diff_screen[vy : vy + vh, vx : vx + vw] - view).mean() > 10

    # B and a mouse drag drew a rectangle where the pointer went; Ctrl+Z took it back.
    region = report["drawn_region"]
    assert region["kind"] == "rect"
    assert np.allclose(np.array(region["points"]), [[100, 60], [220, 140]], atol=3), region
    assert report["undone"] and report["closed"]
