"""Build the calibration and test folders the detector's error rates are measured on.

    python bench/make_detector_sets.py --shared ../shared/data --out /tmp/detsets [--codec-outputs DIR]

Writes ``OUT/{calibration,test}/{positives,negatives}/<family>/<files>`` plus a ``manifest.json``
in every positives/negatives folder (relative path -> family, bpp, source). Nothing is written
inside the project. The split is by source image: Kodak kodim01-18 (and everything derived from
them) is calibration, kodim19-24 is test. JPEG AI outputs have no originals; within each rate
folder they are sorted by file name and every fourth one (positions 3, 7, 11, ...) goes to test.

Negatives: Kodak originals; JPEG (Pillow/libjpeg, 4:2:0) at q 10-95; JPEG at the quality whose
bpp matches each neural family's rate; WebP; AVIF; JPEG XL (when cjxl is installed); resized
(0.5, 0.75, 1.5, 2.0); cropped by a few pixels and re-saved as JPEG; and camera-like images made
by mosaicking a downscaled Kodak image on a Bayer pattern, demosaicking it (bilinear, VNG,
edge-aware), adding sensor-like noise and saving as JPEG or PNG.
Positives: every file in neural-dev, the same re-saved as JPEG q90 (and, in the test split only,
q75), and the same cropped by (3, 5) pixels; plus, with ``--codec-outputs``, the project's own codec outputs (any
images under that folder; a sub-folder name becomes the family).
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

JPEG_QUALITIES = (10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
NEURAL_RATES = {"swint-charm": 1.0, "mric": 0.2, "jpegai/bpp12": 0.12, "jpegai/bpp50": 0.5, "jpegai/bpp100": 1.0}


def kodak_split(name: str) -> str:
    idx = int(name[5:7])
    return "calibration" if idx <= 18 else "test"


def encode(img: np.ndarray, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, fmt, **kw)
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def bpp_of(data: bytes, img: np.ndarray) -> float:
    return 8.0 * len(data) / (img.shape[0] * img.shape[1])


def jpeg_for_bpp(img: np.ndarray, target: float) -> tuple[int, bytes]:
    best = None
    for q in range(1, 101):
        data = encode(img, "JPEG", quality=q)
        err = abs(bpp_of(data, img) - target)
        if best is None or err < best[0]:
            best = (err, q, data)
        if bpp_of(data, img) > target * 1.5:
            break
    assert best is not None
    return best[1], best[2]


class Writer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.manifest: dict[str, dict[str, dict[str, object]]] = {}

    def put(self, split: str, label: str, family: str, name: str, data: bytes, bpp: float | None, source: str) -> None:
        folder = self.root / split / label / family
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        key = f"{split}/{label}"
        self.manifest.setdefault(key, {})[f"{family}/{name}"] = {
            "family": family, "bpp": None if bpp is None else round(bpp, 4), "source": source,
        }

    def close(self) -> None:
        for key, entries in self.manifest.items():
            path = self.root / key / "manifest.json"
            path.write_text(json.dumps(entries, indent=1, sort_keys=True))


def png(img: np.ndarray) -> bytes:
    return encode(img, "PNG", compress_level=1)


def camera_like(img: np.ndarray, rng: np.random.Generator, method: int) -> np.ndarray:
    """Bayer mosaic + demosaic + noise: the periodic traces a real camera leaves."""
    h, w = img.shape[0] // 2 * 2 // 2, img.shape[1] // 2 * 2 // 2
    small = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    lin = (small / 255.0) ** 2.2 * 255.0
    # Read noise plus shot noise (Poisson in units of 8 grey levels).
    shot = rng.poisson(np.clip(lin, 0, None) / 8.0) * 8.0
    lin = np.clip(shot + rng.normal(0, 1.0, lin.shape), 0, 255)
    mosaic = np.zeros((h, w), np.float32)
    mosaic[0::2, 0::2] = lin[0::2, 0::2, 0]
    mosaic[0::2, 1::2] = lin[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = lin[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = lin[1::2, 1::2, 2]
    m8 = np.clip(mosaic, 0, 255).astype(np.uint8)
    code = [cv2.COLOR_BayerRG2RGB, cv2.COLOR_BayerRG2RGB_VNG, cv2.COLOR_BayerRG2RGB_EA][method]
    rgb = cv2.cvtColor(m8, code).astype(np.float32)
    out = 255.0 * (np.clip(rgb, 0, 255) / 255.0) ** (1 / 2.2)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--codec-outputs", type=Path, default=None,
                    help="folder of the project's own neural codec outputs (kodimNN in the name)")
    args = ap.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    w = Writer(args.out)
    rng = np.random.default_rng(20241124)
    kodak = sorted((args.shared / "kodak").glob("kodim*.png"))
    cjxl = shutil.which("cjxl")
    for path in kodak:
        stem, split = path.stem, kodak_split(path.stem)
        img = np.asarray(Image.open(path).convert("RGB"))
        neg = lambda fam, name, data, bpp, split=split, stem=stem: w.put(split, "negatives", fam, name, data, bpp, stem)  # noqa: E731
        neg("original", f"{stem}.png", path.read_bytes(), None)
        for q in JPEG_QUALITIES:
            data = encode(img, "JPEG", quality=q)
            neg("jpeg", f"{stem}_q{q}.jpg", data, bpp_of(data, img))
        for fam, rate in NEURAL_RATES.items():
            q, data = jpeg_for_bpp(img, rate)
            neg("jpeg-bpp-matched", f"{stem}_{fam.replace('/', '-')}_q{q}.jpg", data, bpp_of(data, img))
        for q in (30, 60, 90):
            data = encode(img, "WEBP", quality=q)
            neg("webp", f"{stem}_q{q}.webp", data, bpp_of(data, img))
        for q in (30, 60):
            data = encode(img, "AVIF", quality=q)
            neg("avif", f"{stem}_q{q}.avif", data, bpp_of(data, img))
        if cjxl:
            with tempfile.TemporaryDirectory() as tmp:
                src = Path(tmp) / "in.png"
                src.write_bytes(png(img))
                for dist in (1.0, 4.0):
                    dst = Path(tmp) / "out.jxl"
                    subprocess.run([cjxl, str(src), str(dst), "-d", str(dist), "--quiet"], check=True,
                                   capture_output=True)
                    # Stored decoded (PNG): the analysis reads what a viewer would show.
                    dec = Path(tmp) / "dec.png"
                    subprocess.run(["djxl", str(dst), str(dec), "--quiet"], check=True, capture_output=True)
                    bpp = bpp_of(dst.read_bytes(), img)
                    neg("jpegxl", f"{stem}_d{dist:g}.png", dec.read_bytes(), bpp)
        h, wd = img.shape[:2]
        for f, interp in ((0.5, cv2.INTER_AREA), (0.75, cv2.INTER_CUBIC), (1.5, cv2.INTER_CUBIC), (2.0, cv2.INTER_LINEAR)):
            r = cv2.resize(img, (int(wd * f), int(h * f)), interpolation=interp)
            neg("resized", f"{stem}_x{f:g}.png", png(r), None)
        crop = img[3:, 5:]
        neg("cropped", f"{stem}_crop.png", png(crop), None)
        jq = decode(encode(img, "JPEG", quality=75))[4:, 3:]
        data = encode(jq, "JPEG", quality=85)
        neg("cropped", f"{stem}_q75crop_q85.jpg", data, bpp_of(data, jq))
        for method in range(3):
            cam = camera_like(img, rng, method)
            if method == 0:
                neg("camera-like", f"{stem}_cam{method}.png", png(cam), None)
            else:
                data = encode(cam, "JPEG", quality=int(rng.integers(80, 96)))
                neg("camera-like", f"{stem}_cam{method}.jpg", data, bpp_of(data, cam))
        print(f"negatives from {stem} done", flush=True)

    sources: list[tuple[str, Path, str, float | None]] = []
    for fam, rate in NEURAL_RATES.items():
        files = sorted((args.shared / "neural-dev" / fam).glob("*.png"))
        for i, f in enumerate(files):
            split = kodak_split(f.stem) if f.stem.startswith("kodim") else ("test" if i % 4 == 3 else "calibration")
            sources.append((fam.replace("/", "-"), f, split, rate))
    if args.codec_outputs is not None:
        for f in sorted(args.codec_outputs.rglob("*.png")):
            fam = f.parent.name if f.parent != args.codec_outputs else "own-codec"
            split = kodak_split(f.stem) if f.stem.startswith("kodim") else "calibration"
            bpp_file = f.with_suffix(".bpp")
            rate = float(bpp_file.read_text()) if bpp_file.exists() else None
            sources.append((fam, f, split, rate))
    for fam, f, split, rate in sources:
        img = np.asarray(Image.open(f).convert("RGB"))
        pos = lambda fam_, name, data, bpp, split=split, src=f.name: w.put(split, "positives", fam_, name, data, bpp, src)  # noqa: E731
        pos(fam, f.name, f.read_bytes(), rate)
        # q75 re-saves erase most traces; they are a test-only stress family, so they do not
        # pull the combiner towards noise.
        for q in (90, 75) if split == "test" else (90,):
            pos(f"{fam}+jpeg{q}", f"{f.stem}_q{q}.jpg", encode(img, "JPEG", quality=q), rate)
        pos(f"{fam}+crop", f"{f.stem}_crop.png", png(img[3:, 5:]), rate)
    w.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
