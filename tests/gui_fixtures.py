"""Generated cases for the GUI tests: a small scene with a plate and a light, and its original."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        return ImageFont.load_default()


def scene_pair(width: int = 192, height: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(evidence, reference): the evidence has one digit changed and the light darkened."""
    yy, xx = np.mgrid[0:height, 0:width]
    bg = np.stack(
        [90 + 40 * np.sin(xx / 14), 110 + 30 * np.cos(yy / 11), 130 + 20 * np.sin((xx + yy) / 17)], axis=2
    )
    base = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8))

    def draw(text: str, light: tuple[int, int, int]) -> np.ndarray:
        img = base.copy()
        d = ImageDraw.Draw(img)
        d.rectangle([20, 80, 130, 112], fill=(240, 240, 240), outline=(0, 0, 0), width=2)
        d.text((26, 82), text, fill=(0, 0, 0), font=_font(22))
        d.ellipse([140, 14, 176, 50], fill=light)
        return np.array(img)

    reference = draw("KA 4711", (210, 30, 30))
    changed = draw("KA 4717", (90, 30, 30)).astype(np.int16)
    noise = np.random.default_rng(seed).integers(-2, 3, changed.shape)
    evidence = np.clip(changed + noise, 0, 255).astype(np.uint8)
    return evidence, reference


def make_case(folder: Path, width: int = 192, height: int = 128) -> Path:
    from examiner.core.case import Case

    folder.mkdir(parents=True, exist_ok=True)
    evidence, reference = scene_pair(width, height)
    Image.fromarray(evidence).save(folder / "evidence.png")
    Image.fromarray(reference).save(folder / "reference.png")
    path = folder / "case.mcase"
    case = Case.create(path, case_id="T-1", examiner="Test Examiner")
    case.add_evidence(folder / "evidence.png", reference=folder / "reference.png")
    case.close()
    return path


# Targets for process jobs: module-level, so a spawned worker process can import them.
def job_fails(ctx: object) -> None:
    from examiner.errors import ExaminerError

    raise ExaminerError("codec pack is broken")


def job_dies(ctx: object) -> None:
    import os

    os._exit(3)  # what a segfaulting native library looks like from outside


def job_slow(ctx: object, steps: int) -> int:
    import time

    for i in range(steps):
        ctx.progress(i, steps, "working")  # type: ignore[attr-defined]
        time.sleep(0.01)
    return steps


def job_pid(ctx: object) -> int:
    import os

    return os.getpid()


def make_scene_case(folder: Path) -> Path:
    """The demo street scene with the plate's last digit changed, against the unchanged scene."""
    from examiner.core.case import Case
    from examiner.demo_scene import render_scene

    folder.mkdir(parents=True, exist_ok=True)
    reference, _ = render_scene(0)
    evidence, _ = render_scene(0, {"plate_text": "KA 4827"})
    Image.fromarray(reference).save(folder / "reference.png")
    Image.fromarray(evidence).save(folder / "evidence.png")
    path = folder / "scene.mcase"
    with Case.create(path, case_id="T-2", examiner="Test Examiner") as case:
        case.add_evidence(folder / "evidence.png", reference=folder / "reference.png")
    return path
