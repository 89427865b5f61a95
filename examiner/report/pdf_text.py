"""Untrusted text made safe for the report: control and bidi characters shown as escapes,
long values cut with a statement of their length, markup shown literally."""

from __future__ import annotations

import re
import sys
from typing import Any

from examiner.core.text_safety import BIDI_AND_SEPARATORS

# Untrusted text longer than this is cut (with a statement saying so) so one hostile EXIF field
# cannot turn the report into hundreds of pages.
MAX_FIELD_CHARS = 4000
METADATA_CHARS = 400
# The examiner's own words (notes, descriptions) are never cut: layout is linear in their length.
AUTHORED_CHARS = sys.maxsize
# Text with more lines than this leaves the table for a PlainText block (see plain_text.py).
LINES_PER_PARAGRAPH = 40


_CONTROL = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{BIDI_AND_SEPARATORS}\\ud800-\\udfff\\ufffe\\uffff]")


def _control_escape(m: re.Match[str]) -> str:
    code = ord(m.group(0))
    if code < 0x100:
        return f"\\x{code:02x}"
    if m.group(0) in BIDI_AND_SEPARATORS:
        return f"\\u{code:04x}"  # shown, as inspect shows them, instead of reordering the text
    return "\ufffd"


def one_line(value: Any, limit: int = 300) -> str:
    """Untrusted value for a single drawn line (page header, crop titles)."""
    return clean_text(value, limit).replace("\n", " ")


def clean_text(value: Any, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted value -> plain, printable text: control characters shown as ``\\xNN``,
    lone surrogates replaced, long values cut with a statement of the full length."""
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    text = _CONTROL.sub(_control_escape, text)
    if len(text) > limit:
        text = text[:limit] + f" \u2026 [cut: {len(value):,} characters in total]"
    return text


def esc(value: Any, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted value -> Paragraph markup that shows it literally."""
    text = clean_text(value, limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\n", "<br/>")
