"""A generated seizure for the screening tests: small photos-like images (PNG and JPEG), decoder-like
outputs, optionally real outputs of the bundled demonstration codec, corrupt files, duplicates,
non-images, a too-small image, a link out of the folder and a FIFO."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from detection_images import decoder_output, jpeg_bytes, natural, png_bytes

DEMO_CODEC = "examiner-demo-mbt2018-mean"


def make_seizure(root: Path, photos: int = 170, neural: int = 12, demo_codec: int = 0, copies: int = 20,
                 corrupt: int = 10, outside: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Write the folder; return what it holds (paths by kind) for the checks."""
    kinds: dict[str, list[str]] = {k: [] for k in ("photo", "neural", "demo", "corrupt", "copy", "other")}
    for i in range(photos):
        img = natural(128, 128 + 16 * (i % 3), seed=i)
        folder = root / f"dcim/{i // 50:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        p = folder / (f"img{i:04d}.jpg" if i % 2 else f"img{i:04d}.png")
        p.write_bytes(jpeg_bytes(img, 90) if i % 2 else png_bytes(img))
        kinds["photo"].append(str(p))
    (root / "app/cache").mkdir(parents=True, exist_ok=True)
    for i in range(neural):
        p = root / f"app/cache/gen{i:03d}.png"
        # 256 px a side: the detector calls smaller images inconclusive (outside its validated domain).
        p.write_bytes(png_bytes(decoder_output(256, 256, seed=100 + i)))
        kinds["neural"].append(str(p))
    if demo_codec:
        from examiner.codecs import engine

        for i in range(demo_codec):
            rec = engine.run(DEMO_CODEC, natural(256, 256, seed=500 + i), 1)
            p = root / f"app/demo{i}.png"
            p.write_bytes(png_bytes(rec.pixels))
            kinds["demo"].append(str(p))
    (root / "broken").mkdir(exist_ok=True)
    for i in range(corrupt):
        src = Path(kinds["photo"][i])
        data = src.read_bytes()
        p = root / f"broken/cut{i:02d}{src.suffix}"
        p.write_bytes(data[: max(40, len(data) // (3 + i % 3))])
        kinds["corrupt"].append(str(p))
    (root / "copies").mkdir(exist_ok=True)
    for i in range(copies):
        src = Path(kinds["photo"][(7 * i) % len(kinds["photo"])] if i % 4 else kinds["neural"][i % max(1, neural)])
        p = root / f"copies/copy{i:02d}{src.suffix}"
        shutil.copyfile(src, p)
        kinds["copy"].append(str(p))
    others = {
        "notes.txt": b"meeting at 10\n",
        "empty.jpg": b"",
        "anim.gif": b"GIF89a" + bytes(40),
        "tiny.png": png_bytes(natural(64, 64, seed=9)),
    }
    for name, data in others.items():
        (root / name).write_bytes(data)
        kinds["other"].append(str(root / name))
    if outside is not None:
        os.symlink(outside, root / "link-out")
        kinds["other"].append(str(root / "link-out"))
    os.mkfifo(root / "pipe")
    kinds["other"].append(str(root / "pipe"))
    return {"root": str(root), "kinds": kinds, "all": sorted(p for v in kinds.values() for p in v)}


def every_entry(root: Path) -> list[str]:
    """Everything under ``root`` that is not a folder, found independently of the screening walk."""
    out = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        out.extend(os.path.join(folder, f) for f in files)
        out.extend(os.path.join(folder, d) for d in dirs if os.path.islink(os.path.join(folder, d)))
    return sorted(out)


def comparable_rows(results: Path) -> list[tuple[Any, ...]]:
    """The rows an examiner sees, minus what legitimately differs between runs (which worker,
    which of two identical copies was read)."""
    from examiner.screening.store import ResultsFile, iter_rows

    with ResultsFile.open(results, read_only=True) as rf:
        return [(r["id"], r["path"], r["sha256"], r["outcome"], r["reason"], r["verdict"], r["score"], r["lr"],
                 r["duplicate_of"]) for r in iter_rows(rf.conn)]  # fmt: skip
