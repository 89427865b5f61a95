"""A generated test set for the symbol checks: plates, signs and text lines at several sizes.

Every scene is rendered by code with a known layout, so the generator knows the box of every
glyph. Each scene has variants where one glyph is changed into another, blurred, or removed,
and the scenes with people have a variant with the person removed. Pairs are formed as
(evidence, comparison) = (altered scene, original scene); unchanged pairs compare the original
with itself passed through a codec (JPEG re-saves, and the bundled demonstration neural codec
where installed). :func:`evaluate` runs the checks over the pairs and counts how often the
altered symbol is proposed and how often unchanged pairs get proposals anyway.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from examiner.analysis.symbols.proposals import Box, Proposal
from examiner.codecs.demo_pack import DEMO_CODEC_ID

_FONT_DIRS = (
    Path(__file__).resolve().parents[2] / "resources" / "fonts",
    Path("/usr/share/fonts/truetype/dejavu"),
)

# One glyph into another of similar build: the change a generative decoder is likely to make.
GLYPH_SWAPS: dict[str, str] = {
    **dict(zip("0123456789", "8779643118", strict=True)),
    **dict(zip("ABCDEFGHIKLMNOPRSTXZ", "RPGOFECNTXENMQRABIKS", strict=True)),
}

ALTERATIONS = ("changed", "blurred", "removed")


def font(size: int, bold: bool = True) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for d in _FONT_DIRS:
        if (d / name).is_file():
            return ImageFont.truetype(str(d / name), size)
    return ImageFont.load_default(size)


@dataclass
class Scene:
    name: str
    kind: str  # plate | sign | text | person
    char_px: int  # capital height in pixels (0 for scenes without text)
    image: np.ndarray  # H x W x 3 uint8
    text: str = ""
    glyph_boxes: list[Box] = field(default_factory=list)  # one per character of ``text``
    background: tuple[int, int, int] = (255, 255, 255)  # the colour behind the glyphs
    ink: tuple[int, int, int] = (0, 0, 0)
    origin: tuple[int, int] = (0, 0)
    font_size: int = 0
    object_box: Box | None = None  # the person, for person scenes


@dataclass
class Pair:
    name: str
    evidence: np.ndarray
    comparison: np.ndarray
    alteration: str  # changed | blurred | removed | person removed | none
    codec: str
    target: Box | None  # the altered glyph or object; None for unchanged pairs
    scene: Scene
    before: str = ""
    after: str = ""


def _backdrop(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A street-like backdrop: vertical gradient, a few soft shapes and sensor noise."""
    yy = np.linspace(0.0, 1.0, height)[:, None, None]
    top = np.array(rng.integers(120, 200, 3), dtype=np.float64)
    bottom = np.array(rng.integers(40, 110, 3), dtype=np.float64)
    img = (top * (1 - yy) + bottom * yy) * np.ones((1, width, 1))
    for _ in range(3):
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(min(height, width) // 8, min(height, width) // 3))
        colour = [int(v) for v in rng.integers(50, 200, 3)]
        cv2.circle(img, (cx, cy), r, colour, -1, lineType=cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), 3.0)
    img += rng.normal(0.0, 2.5, img.shape)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def _draw_text(
    img: np.ndarray, text: str, origin: tuple[int, int], size: int, ink: tuple[int, int, int]
) -> list[Box]:
    """Draw glyph by glyph at fixed advances, so a swapped glyph leaves the others in place."""
    pil = Image.fromarray(img)
    draw = ImageDraw.Draw(pil)
    f = font(size)
    boxes: list[Box] = []
    x0, y0 = origin
    for i, ch in enumerate(text):
        x = x0 + int(round(f.getlength(text[:i])))
        if ch != " ":
            draw.text((x, y0), ch, font=f, fill=ink)
            x0_, t, r, b = draw.textbbox((x, y0), ch, font=f)
            boxes.append((int(x0_), int(t), int(r - x0_), int(b - t)))
        else:
            boxes.append((x, y0, 0, 0))
    img[:] = np.asarray(pil)
    return boxes


def _centred_panel_text(
    img: np.ndarray,
    text: str,
    f: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    size: int,
    tw: int,
    char_px: int,
    pad: int,
    fill: tuple[int, int, int],
    ink: tuple[int, int, int],
    border: tuple[int, int, int] | None = None,
) -> tuple[tuple[int, int], list[Box]]:
    """Draw ``text`` (``tw`` pixels wide in font ``f``) on a filled panel ``pad`` larger on every
    side, centred in ``img``; returns the text origin and the glyph boxes."""
    height, width = img.shape[:2]
    x0, y0 = (width - tw) // 2 - pad, (height - char_px) // 2 - pad
    corner = (x0 + tw + 2 * pad, y0 + char_px + 2 * pad)
    cv2.rectangle(img, (x0, y0), corner, fill, -1)
    if border is not None:
        cv2.rectangle(img, (x0, y0), corner, border, max(1, char_px // 12))
    # Pillow draws from the ascender line; move up so capitals sit inside the panel.
    origin = (x0 + pad, y0 + pad - int(f.getbbox("H")[1]))
    return origin, _draw_text(img, text, origin, size, ink)


def _size_for(char_px: int) -> int:
    # DejaVu Sans Bold capitals are about 0.73 of the nominal size.
    return max(6, int(round(char_px / 0.73)))


def plate_scene(text: str, char_px: int, seed: int = 0) -> Scene:
    rng = np.random.default_rng(seed)
    size = _size_for(char_px)
    f = font(size)
    tw = int(f.getlength(text))
    pad = max(4, char_px // 2)
    width, height = max(160, tw + 8 * pad), max(96, char_px * 4)
    img = _backdrop(height, width, rng)
    plate = (235, 235, 228)
    ink = (15, 15, 20)
    origin, boxes = _centred_panel_text(img, text, f, size, tw, char_px, pad, plate, ink, border=(20, 20, 20))
    return Scene(f"plate {text!r} {char_px}px", "plate", char_px, img, text, boxes, plate, ink, origin, size)


def sign_scene(text: str, char_px: int, seed: int = 0) -> Scene:
    """White letters on a red or blue sign: light-on-dark text."""
    rng = np.random.default_rng(seed + 1000)
    size = _size_for(char_px)
    f = font(size)
    tw = int(f.getlength(text))
    pad = max(5, char_px // 2 + 2)
    width, height = max(160, tw + 8 * pad), max(110, char_px * 5)
    img = _backdrop(height, width, rng)
    colour = (190, 25, 30) if seed % 2 == 0 else (20, 60, 160)
    ink = (245, 245, 245)
    origin, boxes = _centred_panel_text(img, text, f, size, tw, char_px, pad, colour, ink)
    return Scene(f"sign {text!r} {char_px}px", "sign", char_px, img, text, boxes, colour, ink, origin, size)


def text_scene(text: str, char_px: int, seed: int = 0) -> Scene:
    """A printed line on paper, as on a document or a notice."""
    rng = np.random.default_rng(seed + 2000)
    size = _size_for(char_px)
    f = font(size, bold=True)
    tw = int(f.getlength(text))
    width, height = tw + 6 * char_px + 20, char_px * 4 + 20
    paper = (246, 244, 236)
    img = np.empty((height, width, 3), np.uint8)
    img[:] = paper
    noise = rng.normal(0.0, 2.0, img.shape)
    img = np.clip(img + noise, 0, 255).astype(np.uint8)
    top_offset = f.getbbox("H")[1]
    origin = ((width - tw) // 2, (height - char_px) // 2 - int(top_offset))
    ink = (25, 25, 35)
    boxes = _draw_text(img, text, origin, size, ink)
    return Scene(f"text {text!r} {char_px}px", "text", char_px, img, text, boxes, paper, ink, origin, size)


def draw_person(img: np.ndarray, cx: int, foot_y: int, height: int) -> Box:
    """A simple upright figure (head, torso, arms, legs) that OpenCV's people detectors find."""
    u = height / 8.0
    top = foot_y - height
    skin, shirt, trousers = (150, 170, 200), (140, 60, 40), (40, 40, 60)
    cv2.ellipse(img, (cx, int(top + u / 2)), (int(u * 0.38), int(u * 0.5)), 0, 0, 360, skin, -1)
    cv2.rectangle(img, (int(cx - u * 0.12), int(top + u * 0.95)), (int(cx + u * 0.12), int(top + u * 1.2)), skin, -1)
    torso = np.array(
        [[cx - u * 0.75, top + u * 1.2], [cx + u * 0.75, top + u * 1.2], [cx + u * 0.6, top + u * 4.1], [cx - u * 0.6, top + u * 4.1]],
        np.int32,
    )
    cv2.fillPoly(img, [torso], shirt)
    for s in (-1, 1):
        arm = np.array(
            [[cx + s * u * 0.75, top + u * 1.25], [cx + s * u * 1.0, top + u * 1.4], [cx + s * u * 0.95, top + u * 4.2], [cx + s * u * 0.75, top + u * 4.2]],
            np.int32,
        )
        cv2.fillPoly(img, [arm], shirt)
        cv2.circle(img, (int(cx + s * u * 0.86), int(top + u * 4.35)), int(u * 0.15), skin, -1)
        leg = np.array(
            [[cx + s * u * 0.05, top + u * 4.1], [cx + s * u * 0.6, top + u * 4.1], [cx + s * u * 0.5, top + u * 7.8], [cx + s * u * 0.15, top + u * 7.8]],
            np.int32,
        )
        cv2.fillPoly(img, [leg], trousers)
        cv2.ellipse(img, (int(cx + s * u * 0.4), int(top + u * 7.9)), (int(u * 0.3), int(u * 0.12)), 0, 0, 360, (20, 20, 20), -1)
    x0, x1 = int(cx - u * 1.05), int(cx + u * 1.05)
    return x0, int(top), x1 - x0, int(foot_y - top)


def person_scene(height_px: int, seed: int = 0) -> tuple[Scene, Scene]:
    """A street backdrop with one standing figure, and the same backdrop without it."""
    rng = np.random.default_rng(seed + 3000)
    width, height = max(320, int(height_px * 2.4)), int(height_px * 1.5) + 40
    empty = _backdrop(height, width, rng)
    full = empty.copy()
    box = draw_person(full, width // 2, height - 20, height_px)
    name = f"person {height_px}px"
    with_person = Scene(name, "person", 0, full, object_box=box)
    without = Scene(name + " removed", "person", 0, empty, object_box=box)
    return with_person, without


def alter(scene: Scene, how: str, index: int | None = None) -> tuple[np.ndarray, Box, str]:
    """The scene with one glyph changed, blurred or removed: (image, glyph box, new text)."""
    candidates = [i for i, c in enumerate(scene.text) if c.upper() in GLYPH_SWAPS or c.isdigit()]
    if not candidates:
        raise ValueError(f"{scene.name}: no glyph to alter")
    i = candidates[-1] if index is None else index
    x, y, w, h = scene.glyph_boxes[i]
    pad = max(2, scene.char_px // 6)
    img = scene.image.copy()
    # Clean the glyph cell first (the background is flat behind the glyphs).
    cell = (x - pad, y - pad, x + w + pad, y + h + pad)
    if how == "blurred":
        sigma = max(1.5, 0.3 * scene.char_px)
        k = int(6 * sigma) | 1
        blurred = cv2.GaussianBlur(img, (k, k), sigma)
        img[cell[1] : cell[3], cell[0] : cell[2]] = blurred[cell[1] : cell[3], cell[0] : cell[2]]
        return img, (x, y, w, h), scene.text
    cv2.rectangle(img, (cell[0], cell[1]), (cell[2] - 1, cell[3] - 1), scene.background, -1)
    new_text = scene.text[:i] + " " + scene.text[i + 1 :]
    if how == "changed":
        new = GLYPH_SWAPS[scene.text[i].upper()]
        new_text = scene.text[:i] + new + scene.text[i + 1 :]
        pil = Image.fromarray(img)
        draw = ImageDraw.Draw(pil)
        f = font(scene.font_size)
        gx = scene.origin[0] + int(round(f.getlength(scene.text[:i])))
        draw.text((gx, scene.origin[1]), new, font=f, fill=scene.ink)
        left, t, r, b = draw.textbbox((gx, scene.origin[1]), new, font=f)
        img = np.asarray(pil).copy()
        x0, y0 = min(x, int(left)), min(y, int(t))
        x1, y1 = max(x + w, int(r)), max(y + h, int(b))
        return img, (x0, y0, x1 - x0, y1 - y0), new_text
    return img, (x, y, w, h), new_text


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=quality)
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        return np.asarray(im.convert("RGB")).copy()


CodecFn = Callable[[np.ndarray], np.ndarray]


def default_codecs() -> dict[str, CodecFn]:
    """JPEG re-saves through Pillow; the demonstration neural codec is added when installed."""
    codecs: dict[str, CodecFn] = {
        "jpeg q90": lambda a: jpeg(a, 90),
        "jpeg q75": lambda a: jpeg(a, 75),
        "jpeg q50": lambda a: jpeg(a, 50),
    }
    demo = demo_codecs()
    if demo is not None:
        codecs.update(demo)
    return codecs



def demo_codecs(qualities: Sequence[int] | None = None, codec_id: str = DEMO_CODEC_ID) -> dict[str, CodecFn] | None:
    """The bundled demonstration codec through the codec engine (default: its lowest and highest
    quality), if this installation has it."""
    try:
        from examiner.codecs import engine
        from examiner.codecs.api import RunOptions
        from examiner.codecs.registry import get_codec

        codec = get_codec(codec_id)
        ok, _ = codec.available()
        if not ok:
            return None
    except Exception:  # noqa: BLE001 - the demo codec is optional for the test set
        return None
    out: dict[str, CodecFn] = {}
    offered = codec.info.qualities
    for q in sorted(set(qualities) if qualities else {offered[0], offered[-1]}):

        def run(a: np.ndarray, q: int = q) -> np.ndarray:
            return engine.run(codec, a, q, RunOptions(device="cpu")).pixels

        out[f"{codec_id} q{q}"] = run
    return out


PLATES = ("KA 4711", "B MX 2049", "HH 3865")
SIGNS = ("STOP", "EXIT 12", "ZONE 30")
TEXTS = ("Invoice 2024-117 total 84.50",)
CHAR_SIZES = (10, 14, 20, 32, 48)
PERSON_HEIGHTS = (110, 160, 220)


def scenes(char_sizes: Sequence[int] = CHAR_SIZES) -> Iterator[Scene]:
    seed = 0
    for px in char_sizes:
        for t in PLATES:
            seed += 1
            yield plate_scene(t, px, seed)
        for t in SIGNS:
            seed += 1
            yield sign_scene(t, px, seed)
        for t in TEXTS:
            seed += 1
            yield text_scene(t, px, seed)


def pairs(
    char_sizes: Sequence[int] = CHAR_SIZES,
    codecs: dict[str, CodecFn] | None = None,
    person_heights: Sequence[int] = PERSON_HEIGHTS,
) -> Iterator[Pair]:
    """Altered and unchanged pairs, without and with each codec applied to the evidence."""
    codecs = default_codecs() if codecs is None else codecs
    variants: list[tuple[str, CodecFn | None]] = [("none", None), *codecs.items()]
    for scene in scenes(char_sizes):
        for how in ALTERATIONS:
            img, box, new_text = alter(scene, how)
            for cname, fn in variants:
                ev = img if fn is None else fn(img)
                yield Pair(f"{scene.name} {how} / {cname}", ev, scene.image, how, cname, box, scene, scene.text, new_text)
        for cname, fn in variants[1:]:
            yield Pair(f"{scene.name} unchanged / {cname}", fn(scene.image), scene.image, "none", cname, None, scene)
    for i, h in enumerate(person_heights):
        with_person, without = person_scene(h, seed=i)
        for cname, fn in variants:
            ev = without.image if fn is None else fn(without.image)
            yield Pair(f"{without.name} / {cname}", ev, with_person.image, "person removed", cname, with_person.object_box, with_person)
        for cname, fn in variants[1:]:
            yield Pair(f"{with_person.name} unchanged / {cname}", fn(with_person.image), with_person.image, "none", cname, None, with_person)


def _touches(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@dataclass
class PairOutcome:
    pair: str
    alteration: str
    codec: str
    kind: str
    char_px: int
    detected: bool | None  # None for unchanged pairs
    false_proposals: int
    proposals: list[dict[str, Any]]


def score_pair(pair: Pair, proposals: list[Proposal]) -> PairOutcome:
    """A changed symbol is detected when a proposal box overlaps its box; every proposal that
    does not is a false proposal."""
    hits = [p for p in proposals if pair.target is not None and _touches(p.box, pair.target)]
    detected = None if pair.target is None else bool(hits)
    return PairOutcome(
        pair.name,
        pair.alteration,
        pair.codec,
        pair.scene.kind,
        pair.scene.char_px,
        detected,
        len(proposals) - len(hits),
        [p.to_dict() for p in proposals],
    )


def summarise(outcomes: list[PairOutcome]) -> dict[str, Any]:
    """Detection rates by alteration, size and codec; false-proposal rates on unchanged pairs."""

    def rate(items: list[PairOutcome]) -> dict[str, Any]:
        n = len(items)
        hit = sum(1 for o in items if o.detected)
        return {"pairs": n, "detected": hit, "rate": round(hit / n, 3) if n else None}

    altered = [o for o in outcomes if o.detected is not None]
    unchanged = [o for o in outcomes if o.detected is None]
    out: dict[str, Any] = {"altered": rate(altered)}
    out["by_alteration"] = {a: rate([o for o in altered if o.alteration == a]) for a in sorted({o.alteration for o in altered})}
    out["by_char_px"] = {
        str(s): rate([o for o in altered if o.char_px == s and o.kind != "person"])
        for s in sorted({o.char_px for o in altered if o.kind != "person"})
    }
    out["by_codec"] = {c: rate([o for o in altered if o.codec == c]) for c in sorted({o.codec for o in altered})}
    flagged = sum(1 for o in unchanged if o.false_proposals > 0)
    out["unchanged"] = {
        "pairs": len(unchanged),
        "with_proposals": flagged,
        "false_proposal_rate": round(flagged / len(unchanged), 3) if unchanged else None,
        "proposals": sum(o.false_proposals for o in unchanged),
    }
    out["unchanged_by_codec"] = {
        c: {
            "pairs": len(items),
            "with_proposals": sum(1 for o in items if o.false_proposals > 0),
        }
        for c in sorted({o.codec for o in unchanged})
        for items in [[o for o in unchanged if o.codec == c]]
    }
    out["stray_proposals_on_altered_pairs"] = sum(o.false_proposals for o in altered)
    return out
