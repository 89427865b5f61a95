"""The report's look: embedded fonts, colours, page geometry and paragraph styles."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from reportlab import rl_config

# Set before any canvas exists: some reportlab code paths read the global rather than the
# canvas's own flag (comments, the document ID).
rl_config.invariant = 1
# Binary image streams: ASCII85 text encoding is pure Python here and would dominate export time.
rl_config.useA85 = 0

from reportlab.lib import colors  # noqa: E402
from reportlab.lib.enums import TA_CENTER, TA_LEFT  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402

PAGE_W, PAGE_H = A4


FONT = "DejaVuSans"


FONT_BOLD = "DejaVuSans-Bold"


FONT_ITALIC = "DejaVuSans-Oblique"


FONT_MONO = "DejaVuSansMono"


_FONT_FILES = {
    FONT: "DejaVuSans.ttf",
    FONT_BOLD: "DejaVuSans-Bold.ttf",
    FONT_ITALIC: "DejaVuSans-Oblique.ttf",
    FONT_MONO: "DejaVuSansMono.ttf",
}


INK = colors.HexColor("#1a1a1a")


ACCENT = colors.HexColor("#1f3a5f")


MUTED = colors.HexColor("#5b6573")


RULE = colors.HexColor("#b8c0cc")


SHADE = colors.HexColor("#eef1f5")


ALERT = colors.HexColor("#a11d2b")


OK = colors.HexColor("#1d6b3a")


OUTLINE = colors.HexColor("#d4007a")


MARGIN_X = 20 * mm


MARGIN_TOP = 24 * mm


MARGIN_BOTTOM = 20 * mm


FRAME_W = PAGE_W - 2 * MARGIN_X


# Longer values leave the table: a table row cannot break across pages.
LONG_CELL_CHARS = 1200


@lru_cache(maxsize=1)
def register_fonts() -> None:
    base = resources.files("examiner") / "data" / "fonts"
    for name, file_name in _FONT_FILES.items():
        with resources.as_file(base / file_name) as path:
            pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD)
    pdfmetrics.registerFontFamily(FONT_MONO, normal=FONT_MONO, bold=FONT_MONO, italic=FONT_MONO, boldItalic=FONT_MONO)


def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, bulletFontName=FONT, fontSize=9.2, leading=12.6, textColor=INK, spaceAfter=4)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10.4, spaceAfter=0),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10.2, spaceAfter=0),
        "cellb": ParagraphStyle("cellb", parent=body, fontName=FONT_BOLD, fontSize=8, leading=10.2, spaceAfter=0),
        "cellh": ParagraphStyle(
            "cellh", parent=body, fontName=FONT_BOLD, fontSize=7.6, leading=9.6, textColor=ACCENT, spaceAfter=0
        ),
        "mono": ParagraphStyle("mono", parent=body, fontName=FONT_MONO, fontSize=7.2, leading=9.4, spaceAfter=0),
        "caption": ParagraphStyle(
            "caption", parent=body, fontName=FONT_ITALIC, fontSize=7.6, leading=9.6, textColor=MUTED, spaceAfter=6
        ),
        "h1": ParagraphStyle(
            "h1", parent=body, fontName=FONT_BOLD, fontSize=13.5, leading=17, textColor=ACCENT,
            spaceBefore=10, spaceAfter=6,
        ),
        "h2": ParagraphStyle(
            "h2", parent=body, fontName=FONT_BOLD, fontSize=10.5, leading=13.5, textColor=ACCENT,
            spaceBefore=8, spaceAfter=4,
        ),
        "h3": ParagraphStyle("h3", parent=body, fontName=FONT_BOLD, fontSize=9.2, leading=12, spaceBefore=4, spaceAfter=2),
        "title": ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=22, leading=27, textColor=ACCENT, spaceAfter=6
        ),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=11.5, leading=15, textColor=MUTED, spaceAfter=14),
        "center": ParagraphStyle("center", parent=body, alignment=TA_CENTER),
        "left": ParagraphStyle("left", parent=body, alignment=TA_LEFT),
        "flag": ParagraphStyle("flag", parent=body, fontName=FONT_BOLD, textColor=ALERT),
    }
