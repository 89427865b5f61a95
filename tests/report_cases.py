"""Generated cases for the report tests and the report benchmark (no files from disk)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from examiner.core.case import Case
from examiner.core.regions import Category, Region, ShapeKind

HOSTILE = '<font size=60>BIG</font> & an unclosed < and <b>bold? \x00 NUL "quotes" <para>'


def scene(text: str, width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    """A small street-like picture with a number plate reading ``text``."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    img = np.stack([90 + xx * 60 // width, 110 + yy * 50 // height, 140 - yy * 40 // height], axis=-1).astype(np.float32)
    img[height * 2 // 3 :] = (70, 70, 75)  # road
    cv2.rectangle(img, (40, 60), (140, 150), (180, 40, 40), -1)  # a car body
    cv2.circle(img, (60, 150), 14, (20, 20, 20), -1)
    cv2.circle(img, (120, 150), 14, (20, 20, 20), -1)
    cv2.rectangle(img, (170, 100), (300, 140), (235, 235, 235), -1)  # the plate
    cv2.rectangle(img, (170, 100), (300, 140), (10, 10, 10), 2)
    cv2.putText(img, text, (178, 131), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (15, 15, 15), 2, cv2.LINE_AA)
    cv2.circle(img, (250, 40), 12, (250, 210, 40), -1)  # a light
    img += rng.normal(0, 3.0, img.shape)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def png_bytes(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def spectrum_png(size: int = 128) -> bytes:
    yy, xx = np.mgrid[0:size, 0:size] - size // 2
    base = 200 - np.hypot(xx, yy) * 1.2
    for period in (2, 4, 8):
        k = size // period
        for u in (-k, 0, k):
            for v in (-k, 0, k):
                if (u, v) != (0, 0):
                    base[np.hypot(xx - u, yy - v) < 2.5] = 255
    return png_bytes(np.clip(base, 0, 255).astype(np.uint8))


def make_case(
    folder: Path,
    n_regions: int = 3,
    note: str = "The second digit differs from the reference.",
    hostile: bool = False,
    with_findings: bool = True,
    name: str = "case.mcase",
    size: tuple[int, int] = (320, 240),
) -> Path:
    """A case with one evidence image, its reference original, a detection finding, a
    re-compression with its output image, and ``n_regions`` regions."""
    folder.mkdir(parents=True, exist_ok=True)
    evidence_name = "plate <font size=60>.png" if hostile else "plate.png"
    evidence = scene("AB 1234", width=size[0], height=size[1], seed=1)
    reference = scene("AB 1734", width=size[0], height=size[1], seed=1)
    ev_path = folder / evidence_name
    ref_path = folder / "plate_original.png"
    ev_path.write_bytes(png_bytes(evidence))
    ref_path.write_bytes(png_bytes(reference))
    case_path = folder / name
    with Case.create(
        case_path,
        case_id="2026-0042" + (" <i>x" if hostile else ""),
        examiner="Dr. A. Examiner",
        requester="Regional Police, Digital Forensics Unit",
        lab="Image Forensics Laboratory",
        actor="Dr. A. Examiner",
        title="Number plate in a traffic photograph",
    ) as case:
        item = case.add_evidence(ev_path, reference=ref_path)
        if with_findings:
            recon = cv2.GaussianBlur(evidence, (3, 3), 0)
            recon_png = png_bytes(recon)
            mse = float(np.mean((evidence.astype(np.float64) - recon) ** 2))
            case.add_finding(
                item.id,
                "recompression",
                {
                    "codec": "jpeg",
                    "quality": 50,
                    "bpp": 1.234,
                    "psnr": 10 * np.log10(255.0**2 / mse),
                    "device": "cpu",
                    "versions": {"Pillow": "11.0.0"},
                    "weights_sha256": {},
                    "output_artefact": hashlib.sha256(recon_png).hexdigest(),
                },
                {"reconstruction.png": recon_png},
            )
            case.add_finding(
                item.id,
                "detection",
                {
                    "verdict": "neural",
                    "score": 0.91,
                    "explanation": "Spectral peaks at periods 2 and 4 on both axes; no JPEG block grid."
                    + (" " + HOSTILE if hostile else ""),
                    "spectral": {"peak_p2": 11.3, "peak_p4": 6.2, "autocorr_p2": 0.41},
                    "error_rates": {
                        "roc_auc": 0.97,
                        "tpr_at_fpr_1pct": 0.88,
                        "fpr": 0.009,
                        "set": "Kodak test images 19-24 with their JPEG/WebP/AVIF versions (negatives) and project codec outputs (positives)",
                    },
                    "method": {
                        "name": "Spectral trace analysis",
                        "description": "Peak-to-neighbourhood ratios of the averaged residual spectrum on the grid k/2^n.",
                        "parameters": {"tile": 128},
                        "limitations": "Calibrated on a limited set.",
                        "citations": ["bergmann2023frequency", "bergmann2024forensic"],
                    },
                },
                {"spectrum.png": spectrum_png()},
            )
        # Regions sit on the digit that differs between the evidence and the reference.
        diff = np.abs(evidence.astype(np.int16) - reference.astype(np.int16)).max(axis=2) > 60
        ys, xs = np.nonzero(diff)
        dx0, dy0, dx1, dy1 = float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)
        for i in range(n_regions):
            dx = float((i % 5) * 3 - 6)
            kind = (ShapeKind.RECT, ShapeKind.ELLIPSE, ShapeKind.POLYGON)[i % 3]
            if kind is ShapeKind.POLYGON:
                points = [(dx0 + dx, dy0 - 2), (dx1 + dx, dy0 - 2), (dx1 + dx + 4, dy1 + 2), (dx0 + dx - 4, dy1 + 2)]
            else:
                points = [(dx0 - 3 + dx, dy0 - 3), (dx1 + 3 + dx, dy1 + 3)]
            case.add_region(
                Region(
                    evidence_id=item.id,
                    kind=kind,
                    points=points,
                    categories=[Category.SHAPE] + ([Category.AMPLITUDE] if i % 2 else []),
                    symbol=True,
                    evidence_says="the digit 2" + (" " + HOSTILE if hostile else ""),
                    comparison_says="the digit 7",
                    confidence="high",
                    notes=note if i == 0 else f"Region {i + 1}.",
                    comparison="reference" if i % 2 == 0 else "finding:1" if with_findings else "reference",
                    author="Dr. A. Examiner",
                )
            )
        case.set_meta("report.conclusion", {"level": "Moderate support for the proposition", "text": "The plate's digits differ."})
    return case_path
