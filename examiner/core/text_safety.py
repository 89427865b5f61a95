"""Untrusted text on a terminal: control and direction characters shown as escapes.

Case files, packs and datasets carry text typed by others. Printed raw, ESC starts terminal
control sequences (retitling the window, moving the cursor, hiding lines), BEL rings, and the
bidirectional overrides and isolates reorder what is shown, so a hash or a path can read as
something it is not. The same characters are escaped in the PDF report and by ``inspect``.
"""

from __future__ import annotations

import io
import re
from typing import Any, TextIO

# Bidi embeddings/overrides (U+202A-202E), isolates (U+2066-2069), marks (U+200E, U+200F,
# U+061C) and the Unicode line and paragraph separators.
BIDI_AND_SEPARATORS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u2028\u2029"
_UNSAFE = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{BIDI_AND_SEPARATORS}\\ud800-\\udfff]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(value: Any) -> str:
    """``value`` as text with every control, bidi and separator character escaped; newlines
    and tabs are kept."""
    return _UNSAFE.sub(_escape, value if isinstance(value, str) else str(value))


def escape_json_text(json_text: str) -> str:
    """JSON text with the same characters written as JSON ``\\uNNNN`` escapes (they can occur
    only inside strings, where that escape means the same character)."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", json_text)


class EscapingWriter(io.TextIOBase):
    """A text stream that passes everything through :func:`terminal_safe` to another one."""

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self._target = target

    def write(self, s: str) -> int:
        self._target.write(terminal_safe(s))
        return len(s)

    def carriage_return(self) -> None:
        """A bare carriage return, written as is: the progress line's own way back to the start
        of the line. Text given to :meth:`write` never gets one through."""
        self._target.write("\r")

    def flush(self) -> None:
        self._target.flush()

    def isatty(self) -> bool:
        return self._target.isatty()

    def fileno(self) -> int:
        return self._target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._target, "encoding", "utf-8")


# Bounded, escaped renderings of untrusted values (metadata tags, JPEG comments), with notes on
# why a value deserves a second look.
MAX_TAG_CHARS = 512
# An XMP packet is XML of its own and often a few KiB: it is shown up to this many characters.
MAX_XMP_CHARS = 8192


def safe_text(value: Any, limit: int = MAX_TAG_CHARS) -> str:
    """A printable, bounded rendering of an untrusted value.

    Bytes are decoded as UTF-8 with replacement; NUL and other control characters become
    ``\\xNN`` escapes (tab and newline are kept); the result is cut at ``limit`` characters with
    a note saying how long the original was.
    """
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        total = len(raw)
        text = raw[: limit * 4].decode("utf-8", errors="replace")
    else:
        text = str(value)
        total = len(text)
    out: list[str] = []
    count = 0
    for ch in text:
        if count >= limit:
            break
        code = ord(ch)
        if ch in "\t\n" or (code >= 32 and code != 127 and not 0x80 <= code < 0xA0):
            if ch in BIDI_AND_SEPARATORS:
                out.append(f"\\u{code:04x}")  # the same set the terminal filter escapes
            else:
                out.append(ch)
        else:
            out.append(f"\\x{code:02x}")
        count += 1
    result = "".join(out)
    cut_bytes = isinstance(value, bytes | bytearray | memoryview) and total > limit * 4
    if count < len(text) or cut_bytes:
        result += f" [truncated; {total} {'bytes' if isinstance(value, bytes | bytearray | memoryview) else 'chars'}]"
    return result


_MARKUP_HINTS = ("<script", "<html", "<?xml", "<!doctype", "<iframe", "<svg", "<b>", "<a ", "javascript:")


def text_notices(label: str, value: Any, limit: int = MAX_TAG_CHARS) -> list[str]:
    """Why an untrusted value deserves a second look: control characters, markup, length."""
    raw = bytes(value) if isinstance(value, bytes | bytearray | memoryview) else str(value).encode("utf-8", "replace")
    out = []
    if any(b < 32 and b not in (9, 10, 13) or b == 127 for b in raw[:65536]):
        out.append(f"{label}: contains NUL or control characters (shown escaped)")
    text = raw[:65536].decode("utf-8", "replace")
    if any(c in BIDI_AND_SEPARATORS for c in text):
        out.append(f"{label}: contains bidirectional controls or line separators (shown escaped)")
    low = raw[:65536].lower()
    if any(h.encode() in low for h in _MARKUP_HINTS):
        out.append(f"{label}: contains markup (shown as literal text, never rendered)")
    if len(raw) > limit:
        out.append(f"{label}: {len(raw)} bytes long (shown truncated to {limit} characters)")
    return out


# A person's name (examiner, reviewer, the actor of a log entry) is one short line wherever it is
# shown: a newline in it would forge a log line on the terminal and stretch the report's
# signature block past a page.
MAX_NAME_CHARS = 200
_NAME_UNSAFE = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{BIDI_AND_SEPARATORS}\\ud800-\\udfff]")


def name_text(value: Any, limit: int = MAX_NAME_CHARS) -> str:
    """A name for showing: every control character (newline and tab included), bidi control and
    separator escaped, and the result cut at ``limit`` characters with the full length stated."""
    text = value if isinstance(value, str) else str(value)
    shown = _NAME_UNSAFE.sub(_escape, text)
    if len(shown) > limit:
        shown = shown[:limit] + f" \u2026 [cut: {len(text):,} characters in total]"
    return shown


def name_problem(value: str, what: str) -> str:
    """Why a name given now is refused ('' when it is fine): names are bounded at intake."""
    if len(value) > MAX_NAME_CHARS:
        return f"the {what} is {len(value):,} characters long; a name may have at most {MAX_NAME_CHARS}"
    return ""


def check_names(**names: str) -> None:
    """CaseError naming the first name that is too long (``what=value`` pairs)."""
    from examiner.errors import CaseError

    for what, value in names.items():
        problem = name_problem(value, f"{what}'s name")
        if problem:
            raise CaseError(problem)
