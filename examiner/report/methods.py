"""Methods text that comes from the code that ran, so the report never drifts from it.

The convention every analysis follows: its module defines a module-level ``METHOD`` dict::

    METHOD = {
        "name": "Spectral trace analysis",          # required
        "description": "What it does, in prose.",   # required
        "parameters": {"tile": 256, ...},           # the values that shape the result
        "limitations": "..." or ["...", "..."],    # what it cannot tell
        "citations": ["bergmann2023frequency"],     # keys of examiner/data/references.bib
        "version": "1",                             # optional: bump when the method changes
    }

A finding names its method in its data in one of two ways (the first wins):

* ``data["method"]``: a snapshot of the ``METHOD`` dict taken when the analysis ran, which is
  the most faithful record (it is what actually ran, even after the code changes);
* ``data["method_module"]``: the dotted module name, whose ``METHOD`` is read at report time.

Otherwise :data:`KIND_MODULES` maps the finding kind to the module that produces it. Codecs are
described by their :class:`~examiner.codecs.api.CodecInfo` (``description`` and ``citations``).
Methods that are not analyses of their own (intake, the audit log, marking regions) are
registered here with :func:`register`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from examiner.codecs.api import CodecInfo


@dataclass(frozen=True)
class MethodInfo:
    id: str
    name: str
    description: str
    parameters: tuple[tuple[str, str], ...] = ()
    limitations: tuple[str, ...] = ()
    citations: tuple[str, ...] = ()
    version: str = ""
    # Free-form flags a renderer must show, e.g. "demonstration codec".
    labels: tuple[str, ...] = field(default_factory=tuple)


def _as_text_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, Iterable):
        return tuple(str(v) for v in value if str(v).strip())
    return (str(value),)


def _format_param(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_format_param(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k} = {_format_param(v)}" for k, v in value.items())
    return str(value)


def method_from_dict(method_id: str, d: Mapping[str, Any]) -> MethodInfo:
    """A :class:`MethodInfo` from a ``METHOD`` dict; tolerant of str-or-list fields."""
    params = d.get("parameters") or {}
    if isinstance(params, Mapping):
        param_rows = tuple((str(k), _format_param(v)) for k, v in params.items())
    else:
        param_rows = tuple((str(i + 1), _format_param(v)) for i, v in enumerate(params))
    return MethodInfo(
        id=method_id,
        name=str(d.get("name") or method_id),
        description=str(d.get("description") or ""),
        parameters=param_rows,
        limitations=_as_text_list(d.get("limitations")),
        citations=_as_text_list(d.get("citations")),
        version=str(d.get("version") or ""),
        labels=_as_text_list(d.get("labels")),
    )


def method_of_module(module_name: str) -> MethodInfo | None:
    """The ``METHOD`` a module declares, or None when the module or its METHOD is absent."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    d = getattr(module, "METHOD", None)
    if not isinstance(d, Mapping):
        return None
    return method_from_dict(module_name, d)


# Finding kinds whose producing module is known (first importable one with a METHOD wins); a
# finding's own data takes precedence.
KIND_MODULES: dict[str, tuple[str, ...]] = {
    "detection": ("examiner.analysis.detector", "examiner.analysis.spectral"),
    "identification": ("examiner.analysis.identify",),
    "variability": ("examiner.analysis.variability",),
    "comparison": ("examiner.analysis.compare",),
}

# Regions accepted from an assisted check are described by that check's method.
PROVENANCE_MODULES: dict[str, str] = {
    "accepted from OCR suggestion": "examiner.analysis.symbols.ocr_diff",
    "accepted from detector suggestion": "examiner.analysis.symbols.object_diff",
}

_REGISTRY: dict[str, MethodInfo] = {}


def register(info: MethodInfo) -> None:
    """Make a method known by id (later registrations replace earlier ones)."""
    _REGISTRY[info.id] = info


def registered(method_id: str) -> MethodInfo | None:
    return _REGISTRY.get(method_id)


def method_for_finding(kind: str, data: Mapping[str, Any]) -> MethodInfo | None:
    snapshot = data.get("method")
    if isinstance(snapshot, Mapping):
        return method_from_dict(str(data.get("method_module") or kind), snapshot)
    module_name = data.get("method_module")
    if isinstance(module_name, str) and module_name:
        found = method_of_module(module_name)
        if found is not None:
            return found
    if kind in _REGISTRY:
        return _REGISTRY[kind]
    for candidate in KIND_MODULES.get(kind, ()):
        found = method_of_module(candidate)
        if found is not None:
            return found
    return None


def _ranges(values: Iterable[int]) -> str:
    """``1, 2, 3, 5`` -> ``1\u20133, 5``."""
    nums = sorted(set(int(v) for v in values))
    runs: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        runs.append(str(nums[i]) if i == j else f"{nums[i]}\u2013{nums[j]}")
        i = j + 1
    return ", ".join(runs)


def method_for_codec(info: CodecInfo, weights: Mapping[str, str] | None = None) -> MethodInfo:
    """Methods text for a codec that was run, from its manifest."""
    params: list[tuple[str, str]] = [
        ("codec id", info.id),
        ("family", str(info.family)),
        ("quality levels offered", _ranges(info.qualities)),
    ]
    if info.stochastic:
        params.append(("decoder", "stochastic (seed recorded per run)"))
    for name, digest in sorted((weights or {}).items()):
        params.append((f"weights {name} SHA-256", digest))
    limitations: list[str] = []
    labels: list[str] = []
    if info.demonstration:
        labels.append("demonstration codec")
        limitations.append(
            "Demonstration codec trained by this project: it is not a published model, and its "
            "outputs show the kind of change a neural codec can make, not what any particular "
            "published codec would have made."
        )
    description = info.description or f"Re-compression with {info.name}."
    return MethodInfo(
        id=f"codec:{info.id}",
        name=f"Codec: {info.name}",
        description=description,
        parameters=tuple(params),
        limitations=tuple(limitations),
        citations=tuple(info.citations),
        labels=tuple(labels),
    )


register(
    MethodInfo(
        id="intake",
        name="Evidence intake and integrity",
        description=(
            "Each evidence file is opened read-only and hashed from the bytes on disk with SHA-256 "
            "(primary) and MD5 (legacy) at intake. The format is identified from the file's bytes, "
            "not its name. Pixels are kept as stored: EXIF orientation is not applied to "
            "coordinates, 16-bit samples are kept, and any colour conversion (CMYK, palette) is "
            "explicit and recorded. Before this report was generated every evidence file was hashed "
            "again and compared with its intake hashes."
        ),
        parameters=(("hash functions", "SHA-256, MD5"), ("file access", "read-only")),
        limitations=(
            "A matching hash shows the file is the one taken in; it says nothing about the "
            "image's history before intake.",
        ),
    )
)

register(
    MethodInfo(
        id="audit",
        name="Hash-chained audit log",
        description=(
            "Every action on the case is appended to a log in which each entry holds the hash of "
            "the previous entry together with its own canonical content, so that altering, "
            "removing or reordering an entry breaks the chain from that point on. The chain is "
            "verified when the case is opened and again for this report."
        ),
        limitations=(
            "The chain proves the log's internal consistency; it cannot prove that the log as a "
            "whole was not replaced by another consistent log.",
        ),
        citations=("schneier1999audit",),
    )
)

register(
    MethodInfo(
        id="regions",
        name="Marked regions and their classification",
        description=(
            "The examiner marks regions in evidence-pixel coordinates and classifies each by the "
            "miscompression taxonomy (Amplitude, Geometry, Shape, and the Symbol flag), with a "
            "verbal description of what the evidence shows and what the comparison shows. The "
            "report shows each region's neighbourhood cropped from the evidence and from the "
            "comparison image at the same integer zoom with nearest-neighbour enlargement (no "
            "smoothing), and the absolute difference between them multiplied by a stated gain."
        ),
        limitations=(
            "Classification is the examiner's judgement, informed by but not computed from the "
            "pixels. The amplified difference exaggerates small changes on purpose and is not a "
            "measure of visual significance.",
        ),
        citations=("hofer2024taxonomy",),
    )
)


def describe(methods: Iterable[MethodInfo]) -> list[MethodInfo]:
    """Methods in first-seen order, one per id."""
    seen: dict[str, MethodInfo] = {}
    for m in methods:
        seen.setdefault(m.id, m)
    return list(seen.values())
