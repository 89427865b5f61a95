"""The project's bibliography and numbered citations.

The reference data lives in ``examiner/data/references.bib`` so that reports build anywhere.
This module reads the small subset of BibTeX that file uses (``@type{key, field = {value}}``,
``"value"`` or bare numbers; LaTeX accents such as ``{\\"o}``) and formats entries in one plain,
numbered style. :class:`Citations` numbers works in the order they are first cited, so the
bibliography of a report lists exactly the works its text cites.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from examiner.errors import ExaminerError

# The accents the bundled file uses; anything else is left as written (minus braces).
_ACCENTS: dict[str, dict[str, str]] = {
    '"': {"o": "ö", "a": "ä", "u": "ü", "O": "Ö", "A": "Ä", "U": "Ü", "e": "ë", "i": "ï"},
    "'": {"e": "é", "a": "á", "o": "ó", "i": "í", "u": "ú", "E": "É", "c": "ć", "n": "ń"},
    "`": {"e": "è", "a": "à", "o": "ò", "i": "ì", "u": "ù"},
    "~": {"a": "ã", "o": "õ", "n": "ñ"},
    "^": {"e": "ê", "a": "â", "o": "ô", "i": "î", "u": "û"},
    "c": {"c": "ç", "C": "Ç"},
}
_ACCENT_RE = re.compile(r"\{?\\([\"'`~^]|c )\{?\\?([A-Za-z])\}?\}?")


def latex_to_text(value: str) -> str:
    """Plain Unicode from a BibTeX field value: accents resolved, protective braces dropped."""

    def accent(m: re.Match[str]) -> str:
        mark = m.group(1).strip()
        return _ACCENTS.get(mark, {}).get(m.group(2), m.group(2))

    text = _ACCENT_RE.sub(accent, value)
    text = text.replace("--", "\u2013").replace("\\&", "&")
    text = text.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class BibEntry:
    key: str
    kind: str
    fields: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return latex_to_text(self.fields.get(name.lower(), ""))

    def authors(self) -> list[str]:
        raw = self.fields.get("author", "")
        return [latex_to_text(a) for a in re.split(r"\s+and\s+", raw) if a.strip()]

    def format(self) -> str:
        """One plain-text reference: authors. Title. Venue, details, year."""
        authors = self.authors()
        who = ", ".join(authors[:-1]) + ", and " + authors[-1] if len(authors) > 2 else " and ".join(authors)
        parts: list[str] = []
        if who:
            parts.append(who + ".")
        title = self.get("title")
        if title:
            parts.append(title.rstrip(".") + ".")
        venue_bits: list[str] = []
        venue = self.get("booktitle") or self.get("journal")
        if venue:
            venue_bits.append(("In " if self.kind == "inproceedings" else "") + venue)
        volume, number = self.get("volume"), self.get("number")
        if volume:
            venue_bits.append(f"vol. {volume}" + (f", no. {number}" if number else ""))
        pages = self.get("pages")
        if pages:
            venue_bits.append(f"pp. {pages}")
        eprint = self.get("eprint")
        if eprint and self.get("archiveprefix").lower() == "arxiv":
            venue_bits.append(f"arXiv:{eprint}")
        year = self.get("year")
        if year:
            venue_bits.append(year)
        if venue_bits:
            parts.append(", ".join(venue_bits) + ".")
        doi = self.get("doi")
        if doi:
            parts.append(f"doi:{doi}.")
        return " ".join(parts)


def _read_value(text: str, i: int) -> tuple[str, int]:
    """Read one field value starting at ``text[i]``; returns it and the index after it."""
    if text[i] == "{":
        depth, j = 0, i
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    return text[i + 1 : j], j + 1
            j += 1
        raise ValueError("unbalanced braces")
    if text[i] == '"':
        j = text.index('"', i + 1)
        return text[i + 1 : j], j + 1
    m = re.match(r"[A-Za-z0-9_.:-]+", text[i:])
    if not m:
        raise ValueError(f"unexpected {text[i]!r}")
    return m.group(0), i + m.end()


def parse_bibtex(text: str, source: str = "bibliography") -> dict[str, BibEntry]:
    entries: dict[str, BibEntry] = {}
    for m in re.finditer(r"@(\w+)\s*\{\s*([^,\s]+)\s*,", text):
        kind, key = m.group(1).lower(), m.group(2)
        i = m.end()
        fields: dict[str, str] = {}
        try:
            while True:
                while i < len(text) and text[i] in " \t\r\n,":
                    i += 1
                if i >= len(text):
                    raise ValueError("entry is not closed")
                if text[i] == "}":
                    break
                fm = re.match(r"([A-Za-z][A-Za-z0-9_-]*)\s*=\s*", text[i:])
                if not fm:
                    raise ValueError(f"expected a field name at offset {i}")
                i += fm.end()
                value, i = _read_value(text, i)
                fields[fm.group(1).lower()] = value
        except ValueError as exc:
            raise ExaminerError(f"{source}: entry {key!r} cannot be read ({exc})") from exc
        entries[key] = BibEntry(key=key, kind=kind, fields=fields)
    return entries


@lru_cache(maxsize=1)
def bundled() -> dict[str, BibEntry]:
    """The bibliography shipped with the package."""
    path = resources.files("examiner") / "data" / "references.bib"
    return parse_bibtex(path.read_text(encoding="utf-8"), source=str(path))


class Citations:
    """Numbers works in the order of first citation; unknown keys are kept and flagged."""

    def __init__(self, library: dict[str, BibEntry] | None = None) -> None:
        self.library = bundled() if library is None else library
        self._order: list[str] = []

    def cite(self, *keys: str) -> list[int]:
        numbers: list[int] = []
        for key in keys:
            if not key:
                continue
            if key not in self._order:
                self._order.append(key)
            numbers.append(self._order.index(key) + 1)
        return numbers

    def number(self, key: str) -> int | None:
        return self._order.index(key) + 1 if key in self._order else None

    @property
    def keys(self) -> list[str]:
        return list(self._order)

    def entries(self) -> list[tuple[int, str, str]]:
        """(number, key, formatted reference) in citation order."""
        out: list[tuple[int, str, str]] = []
        for n, key in enumerate(self._order, start=1):
            entry = self.library.get(key)
            text = entry.format() if entry else f"{key}: not in the bundled bibliography."
            out.append((n, key, text))
        return out


def format_numbers(numbers: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``[1–3, 5]``."""
    if not numbers:
        return ""
    nums = sorted(set(numbers))
    runs: list[str] = []
    start = prev = nums[0]
    for n in nums[1:] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        runs.append(str(start) if start == prev else f"{start}\u2013{prev}" if prev > start + 1 else f"{start}, {prev}")
        if n is not None:
            start = prev = n
    return "[" + ", ".join(runs) + "]"
