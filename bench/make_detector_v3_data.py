"""Detector v3's image sets, from scratch or resumed: one command, every step checkpointed.

    nice -n 10 python bench/make_detector_v3_data.py --shared ../shared/data --out /work/detector-data

(``--steps own`` and ``--steps negatives external demo`` may run as two processes at once.)

Steps (each skips what is already on disk, so the same command resumes):

1. trains the family of small learned codecs of ``bench/detector_v3_codecs.py`` on kodim01-12
   (one CPU thread) and decodes all 24 Kodak images with each: ``OUT/codecs/<family>/``;
2. decodes the Kodak images with the bundled demonstration codec (q1-q3, and q1 with its
   generative decoder overlay; weights checked by their SHA-256 prefix);
3. writes ``OUT/images/{positives,negatives}/<family-or-group>/<file>`` and a
   manifest per step (``OUT/images/manifest-<step>.json``): for every file its label, family (positives: the codec family,
   whatever the variant; negatives: the processing group), variant, source image and bpp.

Positives: every external set in ``neural-dev`` (one family each; JPEG AI's three rates are one
family), the demonstration codec (two families: MSE-trained and generative), the project's own
codecs (one family each), each as decoded, re-saved as JPEG q90 and cropped by (3, 5) pixels.
Negatives (Kodak originals and what classical processing makes of them): JPEG q20-95, JPEG at
the quality matching each neural family's rate, WebP q50-95, AVIF, JPEG XL (when cjxl is
installed), resizes up and down by several kernels, crops by 1-7 pixels, sharpening, noise,
JPEG re-saves of processed images and camera-like images (Bayer mosaic, demosaic, noise).

Leave-one-family-out validation (``examiner evaluate-detector --lofo OUT/images``) holds out
whole families and whole source images; see ``examiner/analysis/lofo.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The classical-codec helpers of the first detector sets, shared rather than copied.
from make_detector_sets import bpp_of, decode, encode, jpeg_for_bpp  # noqa: E402

JPEG_QUALITIES = (20, 30, 40, 50, 60, 70, 80, 90, 95)
MATCHED_RATES = (0.12, 0.25, 0.5, 1.0)
WEBP_QUALITIES = (50, 75, 95)
DEMO = Path(__file__).resolve().parents[1] / "codecs" / "examiner-demo"


def png(img: np.ndarray) -> bytes:
    return encode(img, "PNG", compress_level=1)


def camera_like(img: np.ndarray, rng: np.random.Generator, method: int) -> np.ndarray:
    """Bayer mosaic + demosaic + noise: the periodic traces a real camera leaves."""
    h, w = img.shape[0] // 2, img.shape[1] // 2
    small = cv2.resize(img, (w // 2 * 2, h // 2 * 2), interpolation=cv2.INTER_AREA).astype(np.float32)
    lin = (small / 255.0) ** 2.2 * 255.0
    lin = np.clip(rng.poisson(np.clip(lin, 0, None) / 8.0) * 8.0 + rng.normal(0, 1.0, lin.shape), 0, 255)
    mosaic = np.zeros(lin.shape[:2], np.float32)
    mosaic[0::2, 0::2] = lin[0::2, 0::2, 0]
    mosaic[0::2, 1::2] = lin[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = lin[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = lin[1::2, 1::2, 2]
    code = [cv2.COLOR_BayerRG2RGB, cv2.COLOR_BayerRG2RGB_VNG, cv2.COLOR_BayerRG2RGB_EA][method]
    rgb = cv2.cvtColor(np.clip(mosaic, 0, 255).astype(np.uint8), code).astype(np.float32)
    return np.clip(255.0 * (np.clip(rgb, 0, 255) / 255.0) ** (1 / 2.2) + 0.5, 0, 255).astype(np.uint8)


class Writer:
    """One manifest per step (``manifest-<step>.json``), so steps can run as separate processes;
    readers merge every ``manifest*.json`` in the folder."""

    def __init__(self, root: Path, step: str) -> None:
        self.root = root
        self.file = root / f"manifest-{step}.json"
        mf = self.file
        self.manifest: dict[str, dict[str, Any]] = json.loads(mf.read_text()) if mf.is_file() else {}

    def has(self, label: str, family: str, name: str) -> bool:
        return f"{label}/{family}/{name}" in self.manifest

    def put(self, label: str, family: str, name: str, data: bytes, *, bpp: float | None, source: str,
            variant: str, group: str | None = None) -> None:
        folder = self.root / label / family
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        self.manifest[f"{label}/{family}/{name}"] = {
            "label": 1 if label == "positives" else 0, "family": group or family, "variant": variant,
            "source": source, "bpp": None if bpp is None else round(bpp, 4)}

    def close(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.manifest, indent=0, sort_keys=True))
        tmp.replace(self.file)


def negatives(w: Writer, kodak: list[Path], rng: np.random.Generator) -> None:
    cjxl = shutil.which("cjxl")
    for path in kodak:
        stem = path.stem
        if w.has("negatives", "camera-like", f"{stem}_cam2.jpg"):
            continue  # this source is done (camera-like images are written last)
        img = np.asarray(Image.open(path).convert("RGB"))
        h, wd = img.shape[:2]

        def neg(group: str, name: str, data: bytes, bpp: float | None, variant: str, stem: str = stem) -> None:
            w.put("negatives", group, name, data, bpp=bpp, source=stem, variant=variant)

        neg("original", f"{stem}.png", path.read_bytes(), None, "original")
        for q in JPEG_QUALITIES:
            data = encode(img, "JPEG", quality=q)
            neg("jpeg", f"{stem}_q{q}.jpg", data, bpp_of(data, img), f"q{q}")
        for rate in MATCHED_RATES:
            q, data = jpeg_for_bpp(img, rate)
            neg("jpeg-bpp-matched", f"{stem}_{rate:g}bpp_q{q}.jpg", data, bpp_of(data, img), f"{rate:g} bpp")
        for q in WEBP_QUALITIES:
            data = encode(img, "WEBP", quality=q)
            neg("webp", f"{stem}_q{q}.webp", data, bpp_of(data, img), f"q{q}")
        for q in (40, 70):
            data = encode(img, "AVIF", quality=q)
            neg("avif", f"{stem}_q{q}.avif", data, bpp_of(data, img), f"q{q}")
        if cjxl:
            with tempfile.TemporaryDirectory() as tmp:
                src = Path(tmp) / "in.png"
                src.write_bytes(png(img))
                for dist in (1.0, 3.0):
                    dst, dec = Path(tmp) / "o.jxl", Path(tmp) / "d.png"
                    subprocess.run([cjxl, str(src), str(dst), "-d", str(dist), "--quiet"], check=True, capture_output=True)
                    subprocess.run(["djxl", str(dst), str(dec), "--quiet"], check=True, capture_output=True)
                    neg("jpegxl", f"{stem}_d{dist:g}.png", dec.read_bytes(), bpp_of(dst.read_bytes(), img), f"d{dist:g}")
        for f, interp, kname in ((0.5, cv2.INTER_AREA, "area"), (0.75, cv2.INTER_CUBIC, "cubic"),
                                 (0.8, cv2.INTER_LANCZOS4, "lanczos"), (1.25, cv2.INTER_LINEAR, "linear"),
                                 (1.5, cv2.INTER_CUBIC, "cubic"), (2.0, cv2.INTER_LANCZOS4, "lanczos")):
            r = cv2.resize(img, (int(wd * f), int(h * f)), interpolation=interp)
            neg("resized", f"{stem}_x{f:g}_{kname}.png", png(r), None, f"x{f:g} {kname}")
        for dy, dx in ((1, 2), (3, 5), (7, 4)):
            neg("cropped", f"{stem}_crop{dy}{dx}.png", png(img[dy:, dx:]), None, f"crop {dy},{dx}")
        pil = Image.fromarray(img)
        sharp = np.asarray(pil.filter(ImageFilter.UnsharpMask(radius=2, percent=120, threshold=2)))
        neg("sharpened", f"{stem}_usm.png", png(sharp), None, "unsharp mask")
        data = encode(sharp, "JPEG", quality=90)
        neg("sharpened", f"{stem}_usm_q90.jpg", data, bpp_of(data, sharp), "unsharp mask + q90")
        for sigma in (2.0, 5.0):
            noisy = np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)
            neg("noise", f"{stem}_n{sigma:g}.png", png(noisy), None, f"gaussian {sigma:g}")
        jq = decode(encode(img, "JPEG", quality=75))[4:, 3:]
        data = encode(jq, "JPEG", quality=85)
        neg("re-saved", f"{stem}_q75crop_q85.jpg", data, bpp_of(data, jq), "q75, crop, q85")
        r = cv2.resize(decode(encode(img, "JPEG", quality=90)), (int(wd * 0.75), int(h * 0.75)), interpolation=cv2.INTER_AREA)
        data = encode(r, "JPEG", quality=80)
        neg("re-saved", f"{stem}_q90x0.75_q80.jpg", data, bpp_of(data, r), "q90, x0.75, q80")
        data = encode(decode(encode(img, "WEBP", quality=80)), "JPEG", quality=90)
        neg("re-saved", f"{stem}_webp80_q90.jpg", data, bpp_of(data, img), "webp q80, jpeg q90")
        for method in range(3):
            cam = camera_like(img, rng, method)
            if method == 0:
                neg("camera-like", f"{stem}_cam{method}.png", png(cam), None, "bilinear demosaic")
            else:
                data = encode(cam, "JPEG", quality=int(rng.integers(80, 96)))
                neg("camera-like", f"{stem}_cam{method}.jpg", data, bpp_of(data, cam), "demosaic + jpeg")
        w.close()
        print(f"negatives from {stem} done", flush=True)


def positive_variants(w: Writer, family: str, folder: str, f: Path, rate: float | None, source: str) -> None:
    if w.has("positives", folder, f"{f.stem}_crop.png"):
        return
    img = np.asarray(Image.open(f).convert("RGB"))

    def pos(name: str, data: bytes, variant: str) -> None:
        w.put("positives", folder, name, data, bpp=rate, source=source, variant=variant, group=family)

    pos(f.name, f.read_bytes(), "decoded")
    pos(f"{f.stem}_q90.jpg", encode(img, "JPEG", quality=90), "jpeg q90")
    pos(f"{f.stem}_crop.png", png(img[3:, 5:]), "crop 3,5")


def external(w: Writer, shared: Path) -> None:
    nd = shared / "neural-dev"
    for fam, sub, rate in (("swint-charm", "swint-charm", 1.0), ("mric", "mric", 0.2), ("checkerboard", "checkerboard", None),
                           ("jpegai", "jpegai/bpp12", 0.12), ("jpegai", "jpegai/bpp50", 0.5),
                           ("jpegai", "jpegai/bpp100", 1.0), ("msillm", "msillm", None)):
        for f in sorted((nd / sub).glob("*.png")):
            if fam == "msillm":
                rate = float(f.stem.split("_")[2])
                source = f.stem.split("_")[0]
            elif fam == "jpegai":
                source = f"jpegai-{f.stem}"  # no originals: each file is its own source
            else:
                source = f.stem[:7]
            positive_variants(w, fam, f"{fam}/{sub.replace('/', '-')}" if fam == "jpegai" else fam, f, rate, source)
        w.close()
        print(f"positives from {sub} done", flush=True)


def own_codecs(w: Writer, out: Path, kodak: list[Path]) -> None:
    import detector_v3_codecs as dc
    import torch

    torch.set_num_threads(1)
    train_imgs = [np.asarray(Image.open(p).convert("RGB")) for p in kodak if int(p.stem[5:7]) <= 12]
    for spec in dc.SPECS:
        folder = out / "codecs" / spec.name
        if (folder / "card.json").is_file():
            rec_dir = folder / "decoded"
        else:
            model = dc.train(spec, train_imgs, folder, lambda s: print(s, flush=True))
            rec_dir = folder / "decoded"
            rec_dir.mkdir(exist_ok=True)
            psnrs, bpps = [], []
            for p in kodak:
                img = np.asarray(Image.open(p).convert("RGB"))
                rec, bpp = dc.reconstruct(model, img)
                mse = float(np.mean((rec.astype(np.float64) - img) ** 2))
                psnrs.append(10 * math.log10(255.0**2 / max(mse, 1e-10)))
                bpps.append(bpp)
                Image.fromarray(rec).save(rec_dir / f"{p.stem}.png", compress_level=1)
                (rec_dir / f"{p.stem}.bpp").write_text(f"{bpp:.4f}")
            print(json.dumps(dc.card(spec, folder, psnrs, bpps, model)), flush=True)
        for f in sorted(rec_dir.glob("*.png")):
            positive_variants(w, spec.name, spec.name, f, float(f.with_suffix(".bpp").read_text()), f.stem)
        w.close()


def demo_codec(w: Writer, out: Path, kodak: list[Path]) -> None:
    """The bundled demonstration codec's outputs (forward pass with rounded latents, which is
    what its decoder reconstructs from the real bitstream)."""
    import torch
    from compressai.models import MeanScaleHyperprior

    from examiner.codecs.weights import load_verified

    torch.set_num_threads(1)
    gan = next(DEMO.glob("examiner-demo-gan-g_s-q1-*.safetensors"))
    jobs = [(f"examiner-demo-q{q}", "examiner-demo", q) for q in (1, 2, 3)] + [("examiner-demo-gan-q1", "examiner-demo-gan", 1)]
    for folder_name, family, q in jobs:
        rec_dir = out / "codecs" / folder_name
        if not (rec_dir / "kodim24.png").is_file():
            rec_dir.mkdir(parents=True, exist_ok=True)
            wf = next(DEMO.glob(f"examiner-demo-mbt2018-mean-N64-M96-q{q}-*.safetensors"))
            state, _ = load_verified(wf, expected_prefix=wf.stem.rsplit("-", 1)[1])
            if family == "examiner-demo-gan":
                overlay, _ = load_verified(gan, expected_prefix=gan.stem.rsplit("-", 1)[1])
                state.update({k: v.float() for k, v in overlay.items()})
            model = MeanScaleHyperprior(64, 96)
            model.load_state_dict(state)
            model.eval()
            import detector_v3_codecs as dc

            for p in kodak:
                rec, bpp = dc.reconstruct(model, np.asarray(Image.open(p).convert("RGB")))
                Image.fromarray(rec).save(rec_dir / f"{p.stem}.png", compress_level=1)
                (rec_dir / f"{p.stem}.bpp").write_text(f"{bpp:.4f}")
        for f in sorted(rec_dir.glob("*.png")):
            positive_variants(w, family, folder_name, f, float(f.with_suffix(".bpp").read_text()), f.stem)
        w.close()
        print(f"{folder_name} done", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--steps", nargs="*", default=["negatives", "external", "demo", "own"],
                    choices=["negatives", "external", "demo", "own"])
    args = ap.parse_args()
    kodak = sorted((args.shared / "kodak").glob("kodim*.png"))
    if len(kodak) != 24:
        raise SystemExit(f"{args.shared / 'kodak'}: expected the 24 Kodak images")
    rng = np.random.default_rng(20261202)
    for step in args.steps:
        w = Writer(args.out / "images", step)
        if step == "negatives":
            negatives(w, kodak, rng)
        elif step == "external":
            external(w, args.shared)
        elif step == "demo":
            demo_codec(w, args.out, kodak)
        else:
            own_codecs(w, args.out, kodak)
        w.close()
        print(f"step {step}: {len(w.manifest)} images in {args.out / 'images'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
