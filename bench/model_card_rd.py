"""Rate-distortion table of the bundled demonstration codec beside JPEG at matched bpp.

Reproduces the table in ``codecs/examiner-demo/MODEL_CARD.md``: for every held-out Kodak image
(kodim19-24) and every quality of the demonstration codec, the real bitstream's bpp, PSNR and
MS-SSIM, and JPEG (the project's JPEG pack, 4:2:0) at the quality whose bpp is closest to it
(``examiner match-rate``). Run from the repository root::

    .venv/bin/python bench/model_card_rd.py [--images ../shared/data/kodak] [--write-json]

``--write-json`` stores the per-image figures in ``codecs/examiner-demo/rd_heldout.json``,
which the tests use to check that the card's numbers are reproduced.

When the pack also holds the generative variant (``<codec>-gan``), its table follows: the same
bitstream as the base quality, with PSNR, MS-SSIM, the high-frequency energy of the decoded image
relative to the original's (detail the decoder keeps or invents) and the trace detector's score,
beside the base decoder's figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from examiner.codecs import engine  # noqa: E402
from examiner.codecs.rate_match import match_rate  # noqa: E402
from examiner.codecs.registry import get_codec  # noqa: E402
from examiner.core.evidence import open_evidence  # noqa: E402
from examiner.demo import DEMO_CODEC_ID  # noqa: E402
from examiner.training.codec_training import DEFAULT_HOLDOUT  # noqa: E402

PACK_DIR = REPO / "codecs" / "examiner-demo"


def measure(images: Path, names: list[str], codec_id: str, jpeg: bool = True) -> list[dict[str, Any]]:
    codec = get_codec(codec_id)
    rows: list[dict[str, Any]] = []
    for name in names:
        ev = open_evidence(images / f"{name}.png")
        ref = ev.pixels
        for q in codec.info.qualities:
            rec = engine.run(codec, ref, q)
            row: dict[str, Any] = {
                "image": name,
                "sha256": ev.sha256,
                "quality": q,
                "bpp": rec.bpp,
                "bytes": len(rec.bitstream or b""),
                "psnr": engine.psnr(ref, rec.pixels),
                "ms_ssim": engine.ms_ssim(ref, rec.pixels),
                "encode_s": rec.encode_s,
                "decode_s": rec.decode_s,
            }
            if jpeg:
                m = match_rate("jpeg", ref, float(rec.bpp or 0.0))
                assert m.reconstruction is not None
                row["jpeg"] = {
                    "quality": m.quality,
                    "bpp": m.bpp,
                    "psnr": engine.psnr(ref, m.reconstruction.pixels),
                    "ms_ssim": engine.ms_ssim(ref, m.reconstruction.pixels),
                }
            rows.append(row)
            print(
                f"{name} q{q}: {row['bpp']:.4f} bpp {row['psnr']:.2f} dB MS-SSIM {row['ms_ssim']:.4f}"
                + (
                    f" | JPEG q{row['jpeg']['quality']}: {row['jpeg']['bpp']:.4f} bpp {row['jpeg']['psnr']:.2f} dB "
                    f"MS-SSIM {row['jpeg']['ms_ssim']:.4f}"
                    if jpeg
                    else ""
                ),
                file=sys.stderr,
                flush=True,
            )
    return rows


def summary_table(rows: list[dict[str, Any]], lambdas: dict[int, float]) -> str:
    out = [
        "| quality | lambda | bpp | PSNR (dB) | MS-SSIM | JPEG bpp (matched) | JPEG PSNR (dB) | JPEG MS-SSIM | PSNR gain over JPEG (dB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for q in sorted({r["quality"] for r in rows}):
        rs = [r for r in rows if r["quality"] == q]

        def mean(key: str, rs: list[dict[str, Any]] = rs, jpeg: bool = False) -> float:
            return float(np.mean([(r["jpeg"] if jpeg else r)[key] for r in rs]))

        gain = mean("psnr") - mean("psnr", jpeg=True)
        out.append(
            f"| {q} | {lambdas.get(q, float('nan'))} | {mean('bpp'):.3f} | {mean('psnr'):.2f} | {mean('ms_ssim'):.4f} "
            f"| {mean('bpp', jpeg=True):.3f} | {mean('psnr', jpeg=True):.2f} | {mean('ms_ssim', jpeg=True):.4f} | {gain:+.2f} |"
        )
    return "\n".join(out)


def per_image_table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| image | quality | bpp | PSNR (dB) | MS-SSIM | JPEG quality | JPEG bpp | JPEG PSNR (dB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        j = r["jpeg"]
        out.append(
            f"| {r['image']} | {r['quality']} | {r['bpp']:.4f} | {r['psnr']:.2f} | {r['ms_ssim']:.4f} "
            f"| {j['quality']} | {j['bpp']:.4f} | {j['psnr']:.2f} |"
        )
    return "\n".join(out)


def measure_generative(images: Path, names: list[str], codec_id: str, base_id: str) -> list[dict[str, Any]]:
    from examiner.analysis import detector
    from examiner.training.generative import high_frequency_ratio

    gan, base = get_codec(codec_id), get_codec(base_id)
    rows: list[dict[str, Any]] = []
    for name in names:
        ref = open_evidence(images / f"{name}.png").pixels
        row: dict[str, Any] = {"image": name}
        for key, codec in (("base", base), ("generative", gan)):
            rec = engine.run(codec, ref, 1)
            row[key] = {
                "bpp": rec.bpp,
                "psnr": engine.psnr(ref, rec.pixels),
                "ms_ssim": engine.ms_ssim(ref, rec.pixels),
                "high_frequency_ratio": high_frequency_ratio(rec.pixels, ref),
                "detector_score": detector.detect_pixels(rec.pixels).score,
                "bitstream_sha256": hashlib.sha256(rec.bitstream or b"").hexdigest(),
            }
        rows.append(row)
        b, g = row["base"], row["generative"]
        print(
            f"{name}: base {b['bpp']:.4f} bpp {b['psnr']:.2f} dB HF {b['high_frequency_ratio']:.3f} | "
            f"generative {g['psnr']:.2f} dB HF {g['high_frequency_ratio']:.3f} "
            f"(same bitstream: {b['bitstream_sha256'] == g['bitstream_sha256']})",
            file=sys.stderr,
            flush=True,
        )
    return rows


def generative_table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| image | bpp (both) | PSNR base (dB) | PSNR generative (dB) | MS-SSIM base | MS-SSIM generative "
        "| HF energy base | HF energy generative | detector score base | detector score generative |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows + [_mean_row(rows)]:
        b, g = r["base"], r["generative"]
        out.append(
            f"| {r['image']} | {b['bpp']:.4f} | {b['psnr']:.2f} | {g['psnr']:.2f} | {b['ms_ssim']:.4f} | {g['ms_ssim']:.4f} "
            f"| {b['high_frequency_ratio']:.3f} | {g['high_frequency_ratio']:.3f} | {b['detector_score']:.2f} | {g['detector_score']:.2f} |"
        )
    return "\n".join(out)


def _mean_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("bpp", "psnr", "ms_ssim", "high_frequency_ratio", "detector_score")
    return {
        "image": "**mean**",
        **{side: {k: float(np.mean([r[side][k] for r in rows])) for k in keys} for side in ("base", "generative")},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=Path, default=REPO.parent / "shared" / "data" / "kodak")
    ap.add_argument("--names", default=",".join(DEFAULT_HOLDOUT), help="comma-separated image stems")
    ap.add_argument("--codec", default=DEMO_CODEC_ID)
    ap.add_argument("--write-json", action="store_true", help=f"write {PACK_DIR.name}/rd_heldout.json")
    args = ap.parse_args()
    if not args.images.is_dir():
        print(f"model_card_rd: {args.images} is absent; nothing to measure", file=sys.stderr)
        return 1
    names = [n for n in args.names.split(",") if n]
    t0 = time.perf_counter()
    rows = measure(args.images, names, args.codec)
    info = get_codec(args.codec).info
    lambdas = {int(w["quality"]): float(w.get("lambda", float("nan"))) for w in info.extra.get("weights", [])}
    print("## Mean over the held-out images\n")
    print(summary_table(rows, lambdas))
    print("\n## Per image\n")
    print(per_image_table(rows))
    print(f"\n(measured in {time.perf_counter() - t0:.0f} s)")
    from examiner.codecs.registry import list_codecs

    gan_id = f"{args.codec}-gan"
    generative: list[dict[str, Any]] = []
    if any(e.info.id == gan_id and e.available for e in list_codecs()[0]):
        generative = measure_generative(args.images, names, gan_id, args.codec)
        print("\n## Generative variant (quality 1 bitstream, two decoders)\n")
        print(generative_table(generative))
    if args.write_json:
        weights = {str(w["quality"]): w["sha256"] for w in info.extra.get("weights", [])}
        data: dict[str, Any] = {"codec": args.codec, "weights_sha256": weights, "rows": rows}
        if generative:
            gan_info = get_codec(gan_id).info
            data["generative"] = {
                "codec": gan_id,
                "decoder_sha256": gan_info.extra["weights"][0]["decoder_sha256"],
                "rows": generative,
            }
        (PACK_DIR / "rd_heldout.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
