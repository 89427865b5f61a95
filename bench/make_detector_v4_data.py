"""Detector v4's image sets: real camera photos and real codec outputs, with the same histories.

    nice -n 10 python bench/make_detector_v4_data.py --shared ../shared/data --out /work/detector-data/v4

Every step skips what is already on disk, so the same command resumes. Cool-chic's bitstreams
must be decoded first with the published decoder (``../shared/data/neural-dev/coolchic/decode.sh
OUT/coolchic``); the step ``coolchic`` reads those PNGs.

Why this data and not v3's: a detector fitted on simulated "camera-like" images and on codecs
trained here called one in three real camera photos neural. Here the negatives are the real
camera JPEGs of ``camera/`` (family = the make, so validation can leave whole makes out), plus
the Kodak scans and their classical codings; the positives are decoded outputs of published
codecs (family = the codec, JPEG AI split by rate) and the bundled demonstration codec, also run
on the camera photos so that picture content does not carry the label.

Both sides go through the same chains a photo meets before it reaches an examiner (screenshot
as PNG, JPEG re-saves, a messaging app's resize and re-save, WebP, a crop off the 8x8 grid), so
that the container format is never what separates them (Grommelt et al., "Fake or JPEG?").
Camera photos get every chain and two up-scales (x2 Lanczos, x1.5 cubic); a positive gets its
decoded file and the chains chosen for it by a hash of its name (three for small families, one
for Cool-chic's 300 decodes), and a published codec's decode one of the up-scales.

Writes ``OUT/images/{positives,negatives}/<folder>/<file>`` and ``OUT/images/manifest-<step>.json``
(label, family, variant, source, bpp, and ``make`` for camera-derived images).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_detector_sets import bpp_of, decode, encode  # noqa: E402
from make_detector_v3_data import Writer, demo_codec, negatives, png  # noqa: E402

Chain = tuple[str, str, Callable[[np.ndarray], bytes]]  # file suffix, variant, encoder


def _resize(img: np.ndarray, f: float, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img, (int(round(w * f)), int(round(h * f))), interpolation=interpolation)


# Each a history photos commonly have.
CHAINS: dict[str, Chain] = {
    "png": (".png", "screenshot as PNG", png),
    "q90": (".jpg", "JPEG q90 re-save", lambda im: encode(im, "JPEG", quality=90)),
    "q75": (".jpg", "JPEG q75 re-save", lambda im: encode(im, "JPEG", quality=75)),
    "msg": (".jpg", "messaging: x0.75 + JPEG q80", lambda im: encode(_resize(im, 0.75), "JPEG", quality=80)),
    "half": (".jpg", "x0.5 + JPEG q85", lambda im: encode(_resize(im, 0.5), "JPEG", quality=85)),
    "webp": (".webp", "WebP q80", lambda im: encode(im, "WEBP", quality=80)),
    "crop": (".jpg", "crop 5,3 + JPEG q85", lambda im: encode(im[5:, 3:], "JPEG", quality=85)),
}
CHAIN_NAMES = sorted(CHAINS)
# Up-scaling leaves the periodic, band-limited residual of a stride-2 decoder, so photos meet it
# too: every camera photo gets both, and each published codec's decode one of them.
UPSCALES: dict[str, Chain] = {
    "up2": (".png", "x2 Lanczos up-scale as PNG", lambda im: png(_resize(im, 2.0, cv2.INTER_LANCZOS4))),
    "up15": (".jpg", "x1.5 cubic up-scale + JPEG q90",
             lambda im: encode(_resize(im, 1.5, cv2.INTER_CUBIC), "JPEG", quality=90)),
}
CHAINS.update(UPSCALES)


def chains_for(name: str, k: int) -> list[str]:
    """``k`` chains for one positive, the same on every run."""
    h = zlib.crc32(name.encode())
    start = h % len(CHAIN_NAMES)
    return [CHAIN_NAMES[(start + 3 * i) % len(CHAIN_NAMES)] for i in range(k)]


def camera_make(name: str) -> str:
    first = name.split("_")[0].lower()
    return {"powershot": "canon"}.get(first, first)


def put_chains(w: Writer, label: str, folder: str, family: str, stem: str, img: np.ndarray, names: list[str], *,
               source: str, bpp: float | None, make: str | None = None) -> None:
    for c in names:
        suffix, variant, encoder = CHAINS[c]
        name = f"{stem}__{c}{suffix}"
        if w.has(label, folder, name):
            continue  # encoded on an earlier run
        w.put(label, folder, name, encoder(img), bpp=bpp, source=source, variant=variant, group=family)
        if make:
            w.manifest[f"{label}/{folder}/{name}"]["make"] = make


def camera(w: Writer, shared: Path) -> None:
    for f in sorted((shared / "camera").glob("*.jpg")):
        make = camera_make(f.stem)
        if w.has("negatives", f"camera-{make}", f"{f.stem}__webp.webp"):
            continue
        data = f.read_bytes()
        img = decode(data)
        w.put("negatives", f"camera-{make}", f.name, data, bpp=bpp_of(data, img), source=f.stem,
              variant="camera JPEG as taken (lossless crop)", group=f"camera-{make}")
        w.manifest[f"negatives/camera-{make}/{f.name}"]["make"] = make
        put_chains(w, "negatives", f"camera-{make}", f"camera-{make}", f.stem, img, CHAIN_NAMES,
                   source=f.stem, bpp=None, make=make)
        w.close()
    print("camera done", flush=True)


def camera_upscales(w: Writer, shared: Path) -> None:
    for f in sorted((shared / "camera").glob("*.jpg")):
        make = camera_make(f.stem)
        put_chains(w, "negatives", f"camera-{make}", f"camera-{make}", f.stem, decode(f.read_bytes()), sorted(UPSCALES),
                   source=f.stem, bpp=None, make=make)
    w.close()
    print("camera up-scales done", flush=True)


def positive(w: Writer, family: str, folder: str, f: Path, k: int, *, source: str, bpp: float | None,
             make: str | None = None) -> None:
    names = chains_for(f.name, k)
    if w.has("positives", folder, f.name):
        return
    img = np.asarray(Image.open(f).convert("RGB"))
    put_chains(w, "positives", folder, family, f.stem, img, names, source=source, bpp=bpp, make=make)
    w.put("positives", folder, f.name, f.read_bytes(), bpp=bpp, source=source, variant="decoded", group=family)
    if make:
        w.manifest[f"positives/{folder}/{f.name}"]["make"] = make


def external(w: Writer, shared: Path) -> None:
    nd = shared / "neural-dev"
    for fam, sub in (("swint-charm", "swint-charm"), ("mric", "mric"), ("checkerboard", "checkerboard"),
                     ("jpegai-0.12bpp", "jpegai/bpp12"), ("jpegai-0.50bpp", "jpegai/bpp50"),
                     ("jpegai-1.00bpp", "jpegai/bpp100"), ("msillm", "msillm"), ("perco-sd", "perco-sd")):
        for f in sorted((nd / sub).glob("*.png")):
            bpp: float | None = {"swint-charm": 1.0, "mric": 0.2}.get(fam)
            if fam.startswith("jpegai"):
                source, bpp = f"jpegai-{f.stem}", float(fam.split("-")[1][:-3])
            elif fam == "msillm":
                source, bpp = f.stem.split("_")[0], float(f.stem.split("_")[2])
            elif fam == "perco-sd":
                source, bpp = f.stem[:7], float(re.findall(r"_([0-9.]+)bpp", f.stem)[0])
            else:
                source = f.stem[:7]
            positive(w, fam, fam, f, 3, source=source, bpp=bpp)
            up = sorted(UPSCALES)[zlib.crc32(f.name.encode()) % len(UPSCALES)]
            put_chains(w, "positives", fam, fam, f.stem, np.asarray(Image.open(f).convert("RGB")), [up],
                       source=source, bpp=bpp)
        w.close()
        print(f"positives from {sub} done", flush=True)


def coolchic(w: Writer, decoded: Path, shared: Path) -> None:
    rates: dict[tuple[str, str], float] = {}
    for tsv in (shared / "neural-dev" / "coolchic" / "bitstreams").glob("*/results.tsv"):
        with tsv.open() as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                rates[(row["seq_name"], row["lmbda"])] = float(row["rate_bpp"])
    files = sorted(decoded.glob("*/*.png"))
    if len(files) < 300:
        raise SystemExit(f"{decoded}: {len(files)} of 300 Cool-chic decodes; run decode.sh first")
    for f in files:
        seq, lmbda = f.stem.split("-lmbda-")
        bpp = next((v for (s, lam), v in rates.items() if s == seq and float(lam) == float(lmbda)), None)
        positive(w, "coolchic", "coolchic", f, 1, source=seq, bpp=bpp)
    w.close()
    print("coolchic done", flush=True)


def demo_on_camera(w: Writer, out: Path, shared: Path) -> None:
    """The demonstration codec (q1, q3 and q1 with its generative decoder) on every camera
    photo: positives whose content is the negatives' own."""
    import detector_v3_codecs as dc
    import torch
    from compressai.models import MeanScaleHyperprior
    from make_detector_v3_data import DEMO

    from examiner.codecs.weights import load_verified

    torch.set_num_threads(1)
    gan = next(DEMO.glob("examiner-demo-gan-g_s-q1-*.safetensors"))
    for folder_name, family, q in (("demo-camera-q1", "examiner-demo", 1), ("demo-camera-q3", "examiner-demo", 3),
                                   ("demo-camera-gan-q1", "examiner-demo-gan", 1)):
        rec_dir = out / "codecs" / folder_name
        rec_dir.mkdir(parents=True, exist_ok=True)
        model = None
        for f in sorted((shared / "camera").glob("*.jpg")):
            target = rec_dir / f"{f.stem}.png"
            if not target.is_file():
                if model is None:
                    wf = next(DEMO.glob(f"examiner-demo-mbt2018-mean-N64-M96-q{q}-*.safetensors"))
                    state, _ = load_verified(wf, expected_prefix=wf.stem.rsplit("-", 1)[1])
                    if family == "examiner-demo-gan":
                        overlay, _ = load_verified(gan, expected_prefix=gan.stem.rsplit("-", 1)[1])
                        state.update({k: v.float() for k, v in overlay.items()})
                    model = MeanScaleHyperprior(64, 96)
                    model.load_state_dict(state)
                    model.eval()
                rec, bpp = dc.reconstruct(model, decode(f.read_bytes()))
                Image.fromarray(rec).save(target, compress_level=1)
                target.with_suffix(".bpp").write_text(f"{bpp:.4f}")
            positive(w, family, folder_name, target, 1, source=f.stem, bpp=float(target.with_suffix(".bpp").read_text()),
                     make=camera_make(f.stem))
        w.close()
        print(f"{folder_name} done", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--coolchic", type=Path, help="Cool-chic decodes (default OUT/coolchic)")
    steps = ["camera", "external", "coolchic", "kodak-negatives", "demo", "demo-camera", "camera-upscales"]
    ap.add_argument("--steps", nargs="*", default=steps, choices=steps)
    args = ap.parse_args()
    kodak = sorted((args.shared / "kodak").glob("kodim*.png"))
    if len(kodak) != 24 or not (args.shared / "camera").is_dir():
        raise SystemExit(f"{args.shared}: expected kodak/ (24 images) and camera/")
    for step in args.steps:
        w = Writer(args.out / "images", step)
        if step == "camera":
            camera(w, args.shared)
        elif step == "external":
            external(w, args.shared)
        elif step == "coolchic":
            coolchic(w, args.coolchic or args.out / "coolchic", args.shared)
        elif step == "kodak-negatives":
            negatives(w, kodak, np.random.default_rng(20261202))
        elif step == "demo":
            demo_codec(w, args.out, kodak)
        elif step == "camera-upscales":
            camera_upscales(w, args.shared)
        else:
            demo_on_camera(w, args.out, args.shared)
        w.close()
        print(f"step {step}: {len(w.manifest)} images", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
