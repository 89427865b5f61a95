"""Outputs of the project's demonstration codec on the Kodak images, as detector positives.

    python bench/make_demo_codec_outputs.py --weights codecs/examiner-demo/*.safetensors \
        --kodak ../shared/data/kodak --out /tmp/demo-outputs

Each weight file (CompressAI mbt2018-mean, N and M read from its name, the 8-hex SHA-256 prefix
in its name checked against the file) codes every Kodak image with real entropy coding
(compress/decompress); the reconstruction goes to ``OUT/examiner-demo-q<k>/kodimNN.png`` with
the measured bpp in ``kodimNN.bpp``. ``bench/make_detector_sets.py --codec-outputs OUT`` then
adds them to the sets (split by Kodak index like everything else).
"""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path

import numpy as np
from PIL import Image


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", nargs="+", type=Path, required=True)
    ap.add_argument("--kodak", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import torch
    from compressai.models import MeanScaleHyperprior
    from safetensors.torch import load_file

    torch.set_num_threads(args.threads)
    for wpath in args.weights:
        m = re.search(r"N(\d+)-M(\d+)-q(\d+)-([0-9a-f]{8})\.safetensors$", wpath.name)
        if not m:
            raise SystemExit(f"{wpath}: name does not say N, M, quality and hash prefix")
        n, mm, q, prefix = int(m[1]), int(m[2]), int(m[3]), m[4]
        digest = hashlib.sha256(wpath.read_bytes()).hexdigest()
        if not digest.startswith(prefix):
            raise SystemExit(f"{wpath}: SHA-256 {digest[:8]} does not match the name's {prefix}")
        model = MeanScaleHyperprior(N=n, M=mm)
        model.load_state_dict(load_file(str(wpath)))
        model.eval()
        model.update(force=True)
        folder = args.out / f"examiner-demo-q{q}"
        folder.mkdir(parents=True, exist_ok=True)
        for src in sorted(args.kodak.glob("kodim*.png")):
            x = np.asarray(Image.open(src).convert("RGB"))
            t = torch.from_numpy(x.copy()).permute(2, 0, 1).float().div(255).unsqueeze(0)
            with torch.no_grad():
                enc = model.compress(t)
                dec = model.decompress(enc["strings"], enc["shape"])
            y = (dec["x_hat"].clamp(0, 1)[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
            n_bytes = sum(len(s) for group in enc["strings"] for s in group)
            Image.fromarray(y).save(folder / f"{src.stem}.png")
            (folder / f"{src.stem}.bpp").write_text(f"{8.0 * n_bytes / (x.shape[0] * x.shape[1]):.5f}\n")
            print(f"{wpath.name}: {src.name} done", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
