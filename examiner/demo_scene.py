"""A synthetic street scene full of symbols, drawn by code.

The scene holds the kinds of objects whose miscompression matters most (a licence plate, a
street sign, arrow-shaped and round lights, a watch-face dial, small print) beside textured
areas that a codec may smooth or re-synthesise. Every symbol's box is returned with its label,
so callers know where the meaning sits: the demo case marks regions with it, and training sets
can change one symbol on purpose (``variant``) and know exactly what changed.

Rendering is deterministic for a given seed, variant, Pillow and font file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SCENE_WIDTH = 768
SCENE_HEIGHT = 512
# The fonts bundled for reports come first, so the scene looks the same on every machine.
FONT_DIRS = (Path(__file__).resolve().parent / "data" / "fonts", Path("/usr/share/fonts/truetype/dejavu"))
_PLATE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


@dataclass(frozen=True)
class SceneSpec:
    """What the scene shows; every field can be overridden through ``variant``."""

    plate_text: str = "KA 4821"
    street_name: str = "MAIN ST 12"
    speed_limit: int = 30
    brake_lights_on: bool = True
    traffic_light: str = "red"  # red | amber | green: the lit round lamp
    arrow_direction: str = "left"  # left | right | up: the arrow-shaped green lamp
    arrow_lit: bool = True
    clock_hour: int = 10
    clock_minute: int = 10
    notice_lines: tuple[str, ...] = (
        "NO PARKING 8-18",
        "EXCEPT LOADING",
        "PERMIT ZONE B7",
        "TOW AWAY 24H",
    )
    facade_hue: int = 0  # shifts the brick colour a little between seeds


@dataclass(frozen=True)
class SymbolBox:
    """Where a symbol sits, in pixel coordinates (x0, y0, x1, y1), and what it says."""

    label: str
    kind: str  # text | sign | light | arrow | dial
    box: tuple[int, int, int, int]
    content: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "kind": self.kind,
            "box": list(self.box),
            "content": self.content,
            "attributes": dict(self.attributes),
        }


def scene_spec(seed: int = 0) -> SceneSpec:
    """The spec a seed gives; seed 0 is the demo case's scene."""
    if seed == 0:
        return SceneSpec()
    rng = np.random.default_rng(seed)
    letters = "".join(rng.choice(list(_PLATE_LETTERS), 2))
    digits = "".join(str(d) for d in rng.integers(0, 10, 4))
    streets = ("MAIN ST", "HIGH ST", "PARK AVE", "OAK RD", "MILL LN", "KING ST")
    return SceneSpec(
        plate_text=f"{letters} {digits}",
        street_name=f"{streets[int(rng.integers(len(streets)))]} {int(rng.integers(1, 99))}",
        speed_limit=int(rng.choice([20, 30, 40, 50, 60, 70])),
        brake_lights_on=bool(rng.integers(2)),
        traffic_light=str(rng.choice(["red", "amber", "green"])),
        arrow_direction=str(rng.choice(["left", "right", "up"])),
        arrow_lit=bool(rng.integers(2)),
        clock_hour=int(rng.integers(1, 13)),
        clock_minute=int(rng.integers(0, 12)) * 5,
        facade_hue=int(rng.integers(-20, 21)),
    )


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return ImageFont.truetype(str(folder / name), size)
    return ImageFont.load_default(size)


def _noise(rng: np.random.Generator, h: int, w: int, scale: float) -> np.ndarray:
    return rng.normal(0.0, scale, (h, w, 1))


def _background(rng: np.random.Generator, spec: SceneSpec) -> np.ndarray:
    h, w = SCENE_HEIGHT, SCENE_WIDTH
    img = np.zeros((h, w, 3), dtype=np.float64)
    # Sky: a smooth gradient, the easy part for any codec.
    t = np.linspace(0, 1, 140)[:, None]
    img[:140] = (np.array([120, 165, 215]) * (1 - t) + np.array([200, 220, 235]) * t)[:, None, :]
    # Brick facade: a regular texture with mortar lines and per-brick tone jitter.
    facade = np.zeros((200, w, 3))
    brick = np.array([150 + spec.facade_hue, 70, 50], dtype=np.float64)
    for row in range(0, 200, 12):
        offset = 0 if (row // 12) % 2 == 0 else 14
        for col in range(-offset, w, 28):
            tone = rng.normal(0, 12)
            facade[row : row + 10, max(0, col) : max(0, col + 26)] = brick + tone
    facade[facade.sum(axis=2) == 0] = (185, 180, 170)  # mortar
    img[140:340] = facade + _noise(rng, 200, w, 6)
    # Pavement and road: fine grain noise (a texture codecs like to re-synthesise).
    img[340:380] = np.array([165, 160, 150]) + _noise(rng, 40, w, 10)
    img[380:] = np.array([85, 85, 90]) + _noise(rng, h - 380, w, 14)
    for x in range(20, w, 120):
        img[444:450, x : x + 60] = (225, 225, 215)
    # Foliage: blotchy green noise, smoothed a little.
    leaves = rng.normal(0, 1, (60, 140))
    leaves = (leaves + np.roll(leaves, 1, 0) + np.roll(leaves, 1, 1)) / 3
    img[150:210, 610:750] = np.stack([50 + 25 * leaves, 110 + 40 * leaves, 40 + 15 * leaves], axis=2)
    return img


def _arrow_polygon(cx: float, cy: float, r: float, direction: str) -> list[tuple[float, float]]:
    # An arrow pointing right, rotated into place.
    pts = [(-0.8, -0.25), (0.1, -0.25), (0.1, -0.6), (0.85, 0.0), (0.1, 0.6), (0.1, 0.25), (-0.8, 0.25)]
    angle = {"right": 0.0, "left": math.pi, "up": -math.pi / 2}.get(direction, 0.0)
    ca, sa = math.cos(angle), math.sin(angle)
    return [(cx + r * (x * ca - y * sa), cy + r * (x * sa + y * ca)) for x, y in pts]


def _text_center(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], text: str, fnt: Any, fill: Any) -> None:
    x0, y0, x1, y1 = box
    draw.text(((x0 + x1) / 2, (y0 + y1) / 2), text, font=fnt, fill=fill, anchor="mm")


def render_scene(seed: int = 0, variant: dict[str, Any] | None = None) -> tuple[np.ndarray, list[SymbolBox]]:
    """Render the scene; returns an ``H x W x 3`` uint8 RGB array and the symbol boxes.

    ``variant`` overrides fields of the seed's :class:`SceneSpec` (for example
    ``{"plate_text": "KA 4824"}`` or ``{"arrow_direction": "right"}``).
    """
    spec = scene_spec(seed)
    if variant:
        unknown = set(variant) - set(SceneSpec.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown scene fields: {sorted(unknown)}")
        spec = replace(spec, **variant)
    rng = np.random.default_rng(10_000 + seed)  # textures depend on the seed, not the variant
    base = np.clip(_background(rng, spec), 0, 255).astype(np.uint8)
    im = Image.fromarray(base, "RGB")
    d = ImageDraw.Draw(im)
    boxes: list[SymbolBox] = []

    # Street sign on a pole.
    d.rectangle((96, 150, 102, 370), fill=(110, 110, 115))
    sign = (30, 120, 170, 158)
    d.rectangle(sign, fill=(20, 70, 150), outline=(240, 240, 240), width=3)
    _text_center(d, sign, spec.street_name, font(17, bold=True), (245, 245, 245))
    boxes.append(SymbolBox("street sign", "sign", sign, spec.street_name))

    # Round speed-limit sign.
    sl = (180, 190, 240, 250)
    d.ellipse(sl, fill=(250, 250, 250), outline=(200, 20, 30), width=7)
    _text_center(d, sl, str(spec.speed_limit), font(22, bold=True), (10, 10, 10))
    d.rectangle((207, 250, 212, 370), fill=(110, 110, 115))
    boxes.append(SymbolBox("speed-limit sign", "sign", sl, str(spec.speed_limit)))

    # Traffic light: three round lamps and an arrow-shaped lamp beside them.
    d.rectangle((290, 300, 296, 372), fill=(60, 60, 60))
    housing = (270, 150, 316, 300)
    d.rectangle(housing, fill=(30, 30, 32))
    lamp_colours = {"red": (235, 30, 30), "amber": (250, 170, 20), "green": (40, 220, 90)}
    for i, name in enumerate(("red", "amber", "green")):
        cy = 175 + 50 * i
        lit = spec.traffic_light == name
        colour = lamp_colours[name] if lit else tuple(c // 5 + 15 for c in lamp_colours[name])
        lamp = (279, cy - 17, 307, cy + 17)
        d.ellipse((lamp[0], cy - 14, lamp[2], cy + 14), fill=colour)
        boxes.append(SymbolBox(f"{name} lamp", "light", lamp, "on" if lit else "off", {"lit": lit}))
    arrow_housing = (318, 250, 362, 300)
    d.rectangle(arrow_housing, fill=(30, 30, 32))
    arrow_colour = (40, 220, 90) if spec.arrow_lit else (25, 60, 35)
    d.polygon(_arrow_polygon(340, 275, 18, spec.arrow_direction), fill=arrow_colour)
    boxes.append(
        SymbolBox(
            "arrow lamp",
            "arrow",
            arrow_housing,
            spec.arrow_direction,
            {"lit": spec.arrow_lit, "direction": spec.arrow_direction},
        )
    )

    # Clock on the facade: a watch-face dial with ticks, numerals and two hands.
    cx, cy, r = 470, 205, 46
    d.ellipse((cx - r - 5, cy - r - 5, cx + r + 5, cy + r + 5), fill=(40, 40, 40))
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(245, 242, 230))
    for k in range(60):
        a = math.radians(6 * k)
        r0 = r - (8 if k % 5 == 0 else 4)
        d.line(
            (cx + r0 * math.sin(a), cy - r0 * math.cos(a), cx + (r - 1) * math.sin(a), cy - (r - 1) * math.cos(a)),
            fill=(20, 20, 20),
            width=2 if k % 5 == 0 else 1,
        )
    for num, k in (("12", 0), ("3", 3), ("6", 6), ("9", 9)):
        a = math.radians(30 * k)
        d.text((cx + (r - 17) * math.sin(a), cy - (r - 17) * math.cos(a)), num, font=font(11, bold=True), fill=(20, 20, 20), anchor="mm")
    minute_a = math.radians(6 * spec.clock_minute)
    hour_a = math.radians(30 * (spec.clock_hour % 12) + 0.5 * spec.clock_minute)
    d.line((cx, cy, cx + 0.55 * r * math.sin(hour_a), cy - 0.55 * r * math.cos(hour_a)), fill=(10, 10, 10), width=4)
    d.line((cx, cy, cx + 0.85 * r * math.sin(minute_a), cy - 0.85 * r * math.cos(minute_a)), fill=(10, 10, 10), width=2)
    d.ellipse((cx - 3, cy - 3, cx + 3, cy + 3), fill=(160, 20, 20))
    dial = (cx - r - 5, cy - r - 5, cx + r + 5, cy + r + 5)
    time_text = f"{spec.clock_hour:02d}:{spec.clock_minute:02d}"
    boxes.append(SymbolBox("clock dial", "dial", dial, time_text, {"hour": spec.clock_hour, "minute": spec.clock_minute}))

    # Notice with small print.
    notice = (540, 240, 690, 318)
    d.rectangle(notice, fill=(250, 250, 245), outline=(30, 30, 30), width=2)
    small = font(11)
    for i, line in enumerate(spec.notice_lines):
        d.text((notice[0] + 8, notice[1] + 8 + 16 * i), line, font=small, fill=(15, 15, 15))
    boxes.append(SymbolBox("notice (small text)", "text", notice, " / ".join(spec.notice_lines)))

    # Rear of a car: body, round brake lights and the licence plate.
    d.rounded_rectangle((420, 350, 700, 470), radius=18, fill=(180, 185, 195), outline=(60, 60, 70), width=2)
    d.rectangle((440, 362, 680, 402), fill=(60, 75, 90))  # rear window
    d.rectangle((430, 470, 470, 490), fill=(20, 20, 20))
    d.rectangle((650, 470, 690, 490), fill=(20, 20, 20))
    brake = (230, 20, 20) if spec.brake_lights_on else (90, 30, 30)
    for lx in (448, 672):
        lamp = (lx - 16, 412, lx + 16, 444)
        d.ellipse(lamp, fill=brake, outline=(40, 10, 10), width=2)
        side = "left" if lx < 560 else "right"
        boxes.append(
            SymbolBox(f"{side} brake light", "light", lamp, "on" if spec.brake_lights_on else "off", {"lit": spec.brake_lights_on})
        )
    plate = (490, 412, 630, 446)
    d.rectangle(plate, fill=(245, 245, 240), outline=(20, 20, 20), width=2)
    d.rectangle((plate[0] + 2, plate[1] + 2, plate[0] + 12, plate[3] - 2), fill=(30, 60, 160))
    _text_center(d, (plate[0] + 12, plate[1], plate[2], plate[3]), spec.plate_text, font(22, bold=True), (10, 10, 10))
    boxes.append(SymbolBox("licence plate", "text", plate, spec.plate_text))
    return np.asarray(im, dtype=np.uint8).copy(), boxes
