"""OCR difference: read the same places in both images with Tesseract and compare the text.

Each candidate text region (see :mod:`examiner.analysis.symbols.text_regions`) is cut from both
images at the same box, enlarged when its characters are small, and read with Tesseract's LSTM
engine, which gives every character a box and a confidence. The two character sequences are
aligned (a longest-matching-blocks alignment, so a split or joined word does not matter) and
every difference becomes a proposal: a changed glyph (Shape), a glyph or word present in one
image only, or a word whose confidence dropped sharply (Amplitude: text that faded).
"""

from __future__ import annotations

import difflib
import os
import shutil
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from examiner.analysis.symbols.imaging import check_same_size, to_gray_u8
from examiner.analysis.symbols.proposals import CHECK_OCR, Box, CheckResult, Proposal, clip_box, union_box
from examiner.analysis.symbols.text_regions import TextRegion, find_text_regions
from examiner.core.regions import Category
from examiner.core.tasks import TaskContext

# Characters are enlarged to about this height before OCR: Tesseract's LSTM engine reads best
# with capitals of roughly 30 to 40 pixels and degrades quickly below 20.
TARGET_CHAR_PX = 36.0
MAX_UPSCALE = 6.0
# A word counts as read when it has at least two letters or digits, mostly letters or digits,
# and at least this confidence (0..100); a lone character needs STRONG_SINGLE_CONF. Tesseract
# reads textures (foliage, gravel) as short runs of letters and marks with confidences up to
# the high 80s, so weaker readings are not trusted.
MIN_CONF = 75.0
STRONG_SINGLE_CONF = 92.0
# Differences must survive a second reading at another size (the first of these that confirms
# it): misreadings of texture change with the scale, a changed glyph does not. Two sizes, because
# Tesseract itself now and then fails on one particular size of an otherwise clean line.
CONFIRM_SCALES = (0.8, 1.2)
# A region is read only when, in one of the images, at least MIN_GLYPHS of its shapes and at
# least this share of them have the size of a character. Text regions of the generated test set
# score 0.5 to 0.9; edge clusters in photographs of foliage, fabric or water 0.3 at most.
MIN_GLYPHS = 2
MIN_GLYPH_SHARE = 0.4
# Crops are never enlarged beyond this many pixels (speed; large regions have large text).
MAX_CROP_PIXELS = 1_500_000
# A word read alike on both sides whose confidence falls by this much, to below FADED_CONF on
# the weaker side, is reported as fading. Tesseract's confidences move by 30 to 40 points between
# a clean image and its JPEG re-save, so smaller drops are noise.
CONF_DROP = 40.0
FADED_CONF = 45.0
TESSERACT_PSM = 6

# Glyphs whose capital and small forms differ only in size, and the sans-serif I, l and bar that
# are drawn identically: OCR confuses them, so such a swap alone is not a changed symbol.
_CASE_BLIND = str.maketrans("COSUVWXZIil|", "cosuvwxzllll")

_XHTML = "{http://www.w3.org/1999/xhtml}"

METHOD: dict[str, Any] = {
    "name": "OCR difference (Tesseract)",
    "check": CHECK_OCR,
    "description": (
        "Candidate text regions are found from clusters of strong edges in both images together. "
        "Each region is cut from the evidence and from the comparison image at the same place, "
        f"enlarged with bicubic interpolation when its characters are shorter than {TARGET_CHAR_PX:.0f} "
        f"pixels (up to {MAX_UPSCALE:.0f} times), binarised with Otsu's threshold (the same polarity "
        "for both images) with frames, border lines and shapes touching the region's edge removed, "
        "and read with the Tesseract OCR engine (LSTM "
        "recogniser, English model, page segmentation as one uniform block), which reports each "
        "character with a box and a confidence. Regions where fewer than "
        f"{MIN_GLYPH_SHARE:.0%} of the shapes (or fewer than {MIN_GLYPHS}) have the size of a character "
        "are not read. Regions much taller than wide are also read turned "
        "by 90 degrees each way and the most confident orientation is kept. The two readings are "
        "aligned character by character. Only words read confidently count (at least two letters or "
        f"digits and confidence {MIN_CONF:.0f} or more, or a lone character at {STRONG_SINGLE_CONF:.0f} or more), "
        "and a difference must be found again when the region is read a second time at "
        f"{CONFIRM_SCALES[0]} (or else {CONFIRM_SCALES[1]}) times that size. A changed character is proposed as Shape, a character or "
        "word present in one image only or a word whose confidence dropped by "
        f"{CONF_DROP:.0f} points or more, to below {FADED_CONF:.0f}, is proposed as Amplitude (faded "
        "text). Every proposal "
        "carries the Symbol flag, both readings and both confidences."
    ),
    "parameters": {
        "target_char_px": TARGET_CHAR_PX,
        "max_upscale": MAX_UPSCALE,
        "min_word_confidence": MIN_CONF,
        "min_single_character_confidence": STRONG_SINGLE_CONF,
        "confirmation_scales": list(CONFIRM_SCALES),
        "max_crop_pixels": MAX_CROP_PIXELS,
        "min_character_shapes": MIN_GLYPHS,
        "min_character_shape_share": MIN_GLYPH_SHARE,
        "confidence_drop": CONF_DROP,
        "faded_below_confidence": FADED_CONF,
        "page_segmentation_mode": TESSERACT_PSM,
        "language": "eng",
        "equivalent_glyphs": "case of C O S U V W X Z; I, i, l and |",
    },
    "limitations": (
        "OCR misses and misreads text: stylised fonts, text on busy backgrounds, strongly slanted, "
        "curved or perspective-distorted text and characters only a few pixels high may be read "
        "wrongly or not at all, and a misreading on one side shows up as a difference that is not "
        "in the image. Only the 90-degree turns of tall regions are tried; other rotations are read "
        "as they are. Only the English model is used. A proposal is a place to look, not a finding."
    ),
    "citations": ["smith2007tesseract"],
    "version": "1",
}


@dataclass(frozen=True)
class Char:
    text: str
    box: Box  # evidence-pixel coordinates
    conf: float  # character confidence, 0..100
    word_conf: float
    word: int  # index of the word within its region's reading


def tesseract_status() -> tuple[bool, str]:
    """Whether the Tesseract engine and its English model can be used here, and why not."""
    try:
        import pytesseract
    except ImportError:
        return False, "OCR unavailable: the Python package pytesseract is not installed"
    return _tesseract_status(str(pytesseract.pytesseract.tesseract_cmd))


@lru_cache(maxsize=4)
def _tesseract_status(cmd: str) -> tuple[bool, str]:
    # Cached per program path: asking the engine costs two process starts.
    import pytesseract

    if shutil.which(cmd) is None and not os.path.isfile(cmd):
        return False, (
            f"OCR unavailable: the Tesseract program ({cmd}) is not installed; install the Debian "
            "packages tesseract-ocr and tesseract-ocr-eng (make system-packages)"
        )
    try:
        version = str(pytesseract.get_tesseract_version())
        languages = pytesseract.get_languages(config="")
    except Exception as exc:  # noqa: BLE001 - any failure to start the engine means: unavailable
        return False, f"OCR unavailable: Tesseract ({cmd}) does not run: {exc}"
    if "eng" not in languages:
        return False, "OCR unavailable: Tesseract's English model is missing; install tesseract-ocr-eng"
    return True, f"Tesseract {version}"


def _title_fields(title: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in title.split(";"):
        bits = part.strip().split()
        if bits:
            out[bits[0]] = bits[1:]
    return out


def _parse_hocr(hocr: bytes) -> list[tuple[str, tuple[float, float, float, float], float, float, int]]:
    """(char, (x0, y0, x1, y1), char conf, word conf, word index) in the OCR'd image's pixels."""
    root = ET.fromstring(hocr)
    out: list[tuple[str, tuple[float, float, float, float], float, float, int]] = []
    for w_index, word in enumerate(
        el for el in root.iter(f"{_XHTML}span") if el.get("class") == "ocrx_word"
    ):
        wf = _title_fields(word.get("title", ""))
        wbox = tuple(float(v) for v in wf.get("bbox", ["0", "0", "0", "0"]))
        wconf = float(wf.get("x_wconf", ["0"])[0])
        chars = [el for el in word.iter(f"{_XHTML}span") if el.get("class") == "ocrx_cinfo"]
        if chars:
            for ch in chars:
                cf = _title_fields(ch.get("title", ""))
                text = (ch.text or "").strip()
                if not text:
                    continue
                cbox = tuple(float(v) for v in cf.get("x_bboxes", [str(v) for v in wbox]))
                cconf = float(cf.get("x_conf", [str(wconf)])[0])
                out.append((text, cbox, cconf, wconf, w_index))  # type: ignore[arg-type]
        else:
            text = "".join(word.itertext()).strip()
            # No character boxes: share the word box out evenly.
            n = max(1, len(text))
            step = (wbox[2] - wbox[0]) / n
            for i, c in enumerate(text):
                cbox = (wbox[0] + i * step, wbox[1], wbox[0] + (i + 1) * step, wbox[3])
                out.append((c, cbox, wconf, wconf, w_index))
    return out


def _scale_for(char_h: float) -> float:
    if char_h < TARGET_CHAR_PX:
        return min(MAX_UPSCALE, TARGET_CHAR_PX / max(char_h, 1.0))
    if char_h > 3 * TARGET_CHAR_PX:
        return 2 * TARGET_CHAR_PX / char_h
    return 1.0


def _resize(crop: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return crop
    interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=interp)


def _ink_layers(crop: np.ndarray, char_h: float) -> list[tuple[int, int, np.ndarray, list[int]]]:
    """For both polarities: (glyph-like components, components of at least a third of a
    character's height, labels, components to keep).

    Plates and signs put a frame, a border line or a busy backdrop next to the text; Tesseract
    then often reads nothing at all. Keeping only components that do not touch the crop's edge
    and are not frames (large and thin) leaves the glyphs alone on white.
    """
    _, bw = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    height, width = bw.shape
    layers = []
    for ink in (255 - bw, bw):  # dark text on light ground, then light text on dark ground
        n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        keep: list[int] = []
        glyphs = sizeable = 0
        for i in range(1, n):
            x, y, w, h, area = (int(v) for v in stats[i])
            if x == 0 or y == 0 or x + w >= width or y + h >= height:
                continue
            fill = area / float(max(1, w * h))
            if h > 4 * char_h or ((h > 3 * char_h or w > 12 * char_h) and fill < 0.2):
                continue
            if max(h, w) < 0.12 * char_h:
                continue  # specks of noise, smaller than any punctuation mark
            keep.append(i)
            if h >= char_h / 3:
                sizeable += 1  # punctuation and specks neither count for nor against text
            if 0.5 * char_h <= h <= 1.6 * char_h and w <= 1.6 * char_h:
                glyphs += 1
        layers.append((glyphs, sizeable, labels, keep))
    return layers


def _prepare_pair(
    ev: np.ndarray, cp: np.ndarray, region: TextRegion, boost: float = 1.0
) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """Both crops enlarged and binarised to black glyphs on white with the same polarity, and
    whether either looks like text (enough of its shapes have the size of a character)."""
    x, y, w, h = region.box
    scale = _scale_for(region.char_height) * boost
    scale = min(scale, float(np.sqrt(MAX_CROP_PIXELS / max(1, w * h))))
    crops = [_resize(img[y : y + h, x : x + w], scale) for img in (ev, cp)]
    char_h = region.char_height * scale
    layers = [_ink_layers(c, char_h) for c in crops]
    # One polarity for both images, chosen by the glyph-like components in both together.
    polarity = max((0, 1), key=lambda k: layers[0][k][0] + layers[1][k][0])
    out = []
    text_like = False
    for crop, layer in zip(crops, layers, strict=True):
        glyphs, sizeable, labels, keep = layer[polarity]
        if glyphs >= MIN_GLYPHS and glyphs >= MIN_GLYPH_SHARE * sizeable:
            text_like = True
        clean = np.full(crop.shape, 255, np.uint8)
        clean[np.isin(labels, keep)] = 0
        out.append(clean)
    return out[0], out[1], scale, text_like


def _ocr(img: np.ndarray, origin: tuple[int, int], scale: float, turn: int) -> list[Char]:
    """OCR one prepared crop; ``turn`` is 0, 90 or 270 (degrees clockwise)."""
    import pytesseract
    from PIL import Image

    ch, cw = img.shape[:2]
    if turn == 90:
        img = cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
    elif turn == 270:
        img = cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)
    hocr = pytesseract.image_to_pdf_or_hocr(
        Image.fromarray(img), extension="hocr", config=f"--psm {TESSERACT_PSM} -c hocr_char_boxes=1"
    )
    x, y = origin
    chars: list[Char] = []
    for text, (a0, b0, a1, b1), conf, wconf, word in _parse_hocr(hocr):
        # Undo the turn: map the box corners back into the unturned crop.
        if turn == 90:  # (u, v) in the turned image came from (v, ch - 1 - u)
            a0, b0, a1, b1 = b0, ch - a1, b1, ch - a0
        elif turn == 270:  # (u, v) came from (cw - 1 - v, u)
            a0, b0, a1, b1 = cw - b1, a0, cw - b0, a1
        bx0, by0 = x + a0 / scale, y + b0 / scale
        bx1, by1 = x + a1 / scale, y + b1 / scale
        box = (int(np.floor(bx0)), int(np.floor(by0)), int(np.ceil(bx1 - bx0)), int(np.ceil(by1 - by0)))
        chars.append(Char(text, box, conf, wconf, word))
    return chars


def _touch(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _score(chars: list[Char]) -> float:
    return sum(c.conf for c in chars if c.text.isalnum())


def _read_both(
    ev: np.ndarray, cp: np.ndarray, region: TextRegion, boost: float = 1.0, turns: tuple[int, ...] | None = None
) -> tuple[list[Char], list[Char], int]:
    """Both readings of a region, in the orientation read most confidently."""
    a_img, b_img, scale, _ = _prepare_pair(ev, cp, region, boost)
    origin = (region.box[0], region.box[1])
    if turns is None:
        turns = (0, 90, 270) if region.vertical else (0,)
    best: tuple[list[Char], list[Char], int] | None = None
    best_score = -1.0
    for turn in turns:
        a = _ocr(a_img, origin, scale, turn)
        b = _ocr(b_img, origin, scale, turn)
        s = _score(a) + _score(b)
        if s > best_score:
            best, best_score = (a, b, turn), s
    assert best is not None
    return best


def _norm(c: str) -> str:
    return c.translate(_CASE_BLIND)


def _mean_word_conf(chars: list[Char]) -> float:
    if not chars:
        return 0.0
    return float(np.mean([c.word_conf for c in chars]))


def _pad(box: Box, chars: list[Char], width: int, height: int) -> Box:
    heights = [c.box[3] for c in chars if c.box[3] > 0]
    pad = int(round(0.15 * (float(np.median(heights)) if heights else 4.0))) + 1
    return clip_box((box[0] - pad, box[1] - pad, box[2] + 2 * pad, box[3] + 2 * pad), width, height)


def _text(chars: list[Char]) -> str:
    """The characters with spaces where the words change."""
    out: list[str] = []
    last = None
    for c in chars:
        if last is not None and c.word != last:
            out.append(" ")
        out.append(c.text)
        last = c.word
    return "".join(out)


def _has_alnum(chars: list[Char], word: int) -> bool:
    return any(c.text.isalnum() for c in chars if c.word == word)


def _word(chars: list[Char], word: int) -> list[Char]:
    return [c for c in chars if c.word == word]


def _strong(word: list[Char], min_conf: float = MIN_CONF) -> bool:
    """A confidently read, text-like word (see MIN_CONF)."""
    if not word:
        return False
    alnum = sum(1 for c in word if c.text.isalnum())
    conf = word[0].word_conf
    if alnum >= 2:
        return alnum >= 0.75 * len(word) and conf >= min_conf
    return alnum == 1 and len(word) == 1 and conf >= max(min_conf, STRONG_SINGLE_CONF)


def _word_text(chars: list[Char], word: int) -> str:
    return "".join(c.text for c in chars if c.word == word)


def diff_readings(
    ev: list[Char],
    cp: list[Char],
    width: int,
    height: int,
    min_conf: float = MIN_CONF,
    conf_drop: float = CONF_DROP,
    region: Box | None = None,
) -> list[Proposal]:
    """Proposals from two aligned readings of the same region."""
    proposals: list[Proposal] = []
    matcher = difflib.SequenceMatcher(None, [_norm(c.text) for c in ev], [_norm(c.text) for c in cp], autojunk=False)
    pairs: dict[int, set[int]] = {}
    differing: set[int] = set()
    base = {"region": list(region) if region else None}
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        a, b = ev[i1:i2], cp[j1:j2]
        if tag == "equal":
            for ca, cb in zip(a, b, strict=True):
                pairs.setdefault(ca.word, set()).add(cb.word)
            continue
        differing.update(c.word for c in a)
        # Words without a letter or digit are stray marks from edges and borders: left out.
        a = [c for c in a if _has_alnum(ev, c.word)]
        b = [c for c in b if _has_alnum(cp, c.word)]
        if not any(c.text.isalnum() for c in a + b):
            continue
        ce, cc = _mean_word_conf(a), _mean_word_conf(b)
        strong_a = bool(a) and all(_strong(_word(ev, w), min_conf) for w in {c.word for c in a})
        strong_b = bool(b) and all(_strong(_word(cp, w), min_conf) for w in {c.word for c in b})
        box = _pad(union_box([c.box for c in a + b]), a + b, width, height)
        details = {
            **base,
            "evidence_confidence": round(ce, 1) if a else None,
            "comparison_confidence": round(cc, 1) if b else None,
            "evidence_context": _text([c for c in ev if c.word in {x.word for x in a}]) if a else "",
            "comparison_context": _text([c for c in cp if c.word in {x.word for x in b}]) if b else "",
        }
        ea, cb_ = "".join(c.text for c in a), "".join(c.text for c in b)
        if tag == "replace":
            if strong_a and strong_b:
                category, conf, kind = Category.SHAPE, min(ce, cc) / 100.0, "changed characters"
            elif strong_a or strong_b:
                category, conf = Category.AMPLITUDE, 0.7 * max(ce, cc) / 100.0
                kind = "characters legible in one image only"
            else:
                continue
        else:
            if not (strong_a or strong_b):
                continue
            present = ce if a else cc
            category, conf = Category.AMPLITUDE, 0.8 * present / 100.0
            side = "evidence" if a else "comparison"
            kind = f"characters present in the {side} only"
        details["difference"] = kind
        proposals.append(Proposal(box, CHECK_OCR, ea, cb_, category, True, conf, details))
    # Words read the same on both sides whose confidence collapsed on one side: faded text.
    for wa, wbs in pairs.items():
        if len(wbs) != 1 or wa in differing:
            continue
        wb = next(iter(wbs))
        a = [c for c in ev if c.word == wa]
        b = [c for c in cp if c.word == wb]
        ce, cc = a[0].word_conf, b[0].word_conf
        if abs(ce - cc) < conf_drop or min(ce, cc) >= FADED_CONF:
            continue
        if not _strong(a if ce > cc else b, max(min_conf, 85.0)) or sum(c.text.isalnum() for c in a) < 2:
            continue
        box = _pad(union_box([c.box for c in a + b]), a + b, width, height)
        weaker = "evidence" if ce < cc else "comparison"
        details = {
            **base,
            "evidence_confidence": round(ce, 1),
            "comparison_confidence": round(cc, 1),
            "difference": f"confidence dropped in the {weaker}",
        }
        conf = 0.6 * abs(ce - cc) / 100.0
        proposals.append(
            Proposal(box, CHECK_OCR, _word_text(ev, wa), _word_text(cp, wb), Category.AMPLITUDE, True, conf, details)
        )
    return proposals


def ocr_check(
    evidence: np.ndarray,
    comparison: np.ndarray,
    ctx: TaskContext | None = None,
    min_conf: float = MIN_CONF,
    conf_drop: float = CONF_DROP,
    max_regions: int = 40,
) -> CheckResult:
    """Run the OCR difference. Returns an unavailable result (no exception) without Tesseract."""
    ctx = ctx or TaskContext()
    started = time.monotonic()
    method = dict(METHOD)
    ok, message = tesseract_status()
    method["engine"] = message
    if not ok:
        return CheckResult(CHECK_OCR, False, message, [], method, time.monotonic() - started)
    check_same_size(evidence, comparison)
    ev, cp = to_gray_u8(evidence), to_gray_u8(comparison)
    height, width = ev.shape
    regions = find_text_regions([ev, cp], max_regions=max_regions)
    proposals: list[Proposal] = []
    read = unconfirmed = 0
    for i, region in enumerate(regions):
        ctx.progress(i, len(regions), f"OCR of text region {i + 1} of {len(regions)}")
        x, y, w, h = region.box
        if np.array_equal(ev[y : y + h, x : x + w], cp[y : y + h, x : x + w]):
            continue  # identical pixels read identically
        if not _prepare_pair(ev, cp, region)[3]:
            continue
        a, b, turn = _read_both(ev, cp, region)
        read += 1
        found = diff_readings(a, b, width, height, min_conf, conf_drop, region.box)
        kept: list[Proposal] = []
        for boost in CONFIRM_SCALES:
            open_ = [p for p in found if p not in kept]
            if not open_:
                break
            a2, b2, _ = _read_both(ev, cp, region, boost, (turn,))
            again = diff_readings(a2, b2, width, height, min_conf, conf_drop, region.box)
            kept += [p for p in open_ if any(q.category == p.category and _touch(p.box, q.box) for q in again)]
        unconfirmed += len(found) - len(kept)
        found = [p for p in found if p in kept]
        for p in found:
            p.details["turn_degrees"] = turn
            p.details["upscaled"] = region.char_height < TARGET_CHAR_PX
            proposals.append(p)
    ctx.progress(len(regions), len(regions), "OCR done")
    msg = (
        f"{message}: {len(regions)} candidate text regions, {read} read on both images, "
        f"{unconfirmed} differences not confirmed by a second reading"
    )
    return CheckResult(CHECK_OCR, True, msg, proposals, method, time.monotonic() - started)
