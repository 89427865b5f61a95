"""How the report writes values: dates, numbers, labels of recorded figures, library versions."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from typing import Any

import numpy as np

from examiner import __version__

# The libraries whose versions every report lists (label, distribution name).
LIBRARIES: tuple[tuple[str, str], ...] = (
    ("numpy", "numpy"),
    ("SciPy", "scipy"),
    ("Pillow", "Pillow"),
    ("OpenCV", "opencv-python-headless"),
    ("PyTorch", "torch"),
    ("torchvision", "torchvision"),
    ("CompressAI", "compressai"),
    ("constriction", "constriction"),
    ("safetensors", "safetensors"),
    ("exifread", "exifread"),
    ("pytesseract", "pytesseract"),
    ("ReportLab", "reportlab"),
    ("pikepdf", "pikepdf"),
)

# Readable names for the figures analyses commonly record.
LABELS: dict[str, str] = {
    "roc_auc": "ROC AUC",
    "tpr_at_fpr_1pct": "true-positive rate at 1 % false positives",
    "tpr_at_fpr_5pct": "true-positive rate at 5 % false positives",
    "false_positive_rate": "false-positive rate (shipped thresholds)",
    "true_positive_rate": "true-positive rate (shipped thresholds)",
    "n_positives": "positives in the set",
    "n_negatives": "negatives in the set",
    "model_version": "model version",
    "psnr_db": "PSNR dB",
    "psnr_reference_db": "PSNR of the reference dB",
    "fixed_point_gain_db": "fixed-point gain dB",
    "fpr": "false-positive rate",
}


def parse_time(text: str) -> datetime | None:
    if not text:
        return None
    t = text.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def when(text: str) -> str:
    dt = parse_time(text)
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if dt else text


def date_text(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d")


def fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "\u2013"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not np.isfinite(value):
            return "\u221e" if value > 0 else str(value)
        return f"{value:.{digits}g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v, digits) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{figure_label(str(k))} {fmt(v, digits)}" for k, v in value.items())
    return str(value)


def figure_label(key: str) -> str:
    return LABELS.get(key, key.replace("_", " "))


def scalar_rows(d: Any, prefix: str = "", limit: int = 14) -> list[tuple[str, str]]:
    """Readable (name, value) rows from a flat-ish dict; long arrays are skipped."""
    rows: list[tuple[str, str]] = []
    if not isinstance(d, dict):
        return rows
    for k, v in d.items():
        if len(rows) >= limit:
            break
        name = f"{prefix}{figure_label(str(k))}"
        if isinstance(v, dict):
            rows.extend(scalar_rows(v, prefix=f"{name}: ", limit=limit - len(rows)))
        elif isinstance(v, (list, tuple)):
            if len(v) <= 6 and all(not isinstance(x, (list, dict)) for x in v):
                rows.append((name, fmt(v)))
        else:
            rows.append((name, fmt(v)))
    return rows


def library_versions() -> list[tuple[str, str]]:
    rows = [("Miscompression Examiner", __version__), ("Python", platform.python_version())]
    for label, dist in LIBRARIES:
        try:
            rows.append((label, importlib_metadata.version(dist)))
        except importlib_metadata.PackageNotFoundError:
            continue
    rows.append(("Operating system", f"{platform.system()} {platform.machine()}"))
    return rows
