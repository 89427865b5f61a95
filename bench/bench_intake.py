"""Intake cost on camera-sized images: open_evidence (hashing, structure checks, decode) and
inspect (plus metadata and JPEG structure) against a plain Pillow decode of the same file.

    python bench/bench_intake.py [--width 6000 --height 4000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examiner.core.evidence import open_evidence  # noqa: E402
from examiner.core.inspection import inspect_image  # noqa: E402


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--width", type=int, default=6000)
    ap.add_argument("--height", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0 : args.height, 0 : args.width]
    img = np.stack([(xx // 7) % 256, (yy // 5) % 256, ((xx + yy) // 3) % 256], axis=-1).astype(np.int16)
    img = np.clip(img + rng.integers(-20, 20, img.shape), 0, 255).astype(np.uint8)
    print(f"intake benchmark: {args.width} x {args.height} RGB, median of {args.repeat}")
    with tempfile.TemporaryDirectory() as d:
        files = {"JPEG q92": Path(d) / "a.jpg", "PNG": Path(d) / "a.png", "TIFF": Path(d) / "a.tif"}
        Image.fromarray(img).save(files["JPEG q92"], quality=92)
        Image.fromarray(img).save(files["PNG"], compress_level=1)
        Image.fromarray(img).save(files["TIFF"])
        for name, path in files.items():

            def plain(p: Path = path) -> None:
                with Image.open(p) as im:
                    im.load()

            t_plain = median_time(plain, args.repeat)
            t_intake = median_time(lambda p=path: open_evidence(p, max_pixels=10**9), args.repeat)
            t_inspect = median_time(lambda p=path: inspect_image(p, max_pixels=10**9), args.repeat)
            size = path.stat().st_size / 2**20
            print(f"  {name:<9} {size:7.1f} MiB  open_evidence {t_intake:6.2f} s  inspect {t_inspect:6.2f} s  "
                  f"plain Pillow decode {t_plain:6.2f} s  (x{t_intake / t_plain:.1f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
