"""What a report says, as plain data: no reportlab, no Qt.

Every string here is plain text exactly as it should read, whoever wrote it (an EXIF tag, a
file name, a note). Escaping for the PDF renderer happens in :mod:`examiner.report.pdf`, never
here, so the model is also what tests and other renderers compare against. Citations are keys
into the bundled bibliography; :attr:`ReportModel.bibliography` numbers them in order of first
citation, and the renderer prints the numbers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

import numpy as np

from examiner.analysis.likelihood import VERBAL_SCALE

REPORT_TITLE = "Forensic Image Examination Report"
REPORT_SUBTITLE = "Examination for semantic changes made by neural image compression (miscompressions)"

SCOPE_STATEMENT = (
    "The results in this report relate only to the items listed under Evidence and integrity, in "
    "the state identified by their SHA-256 hashes. They do not extend to other copies, versions or "
    "sources of these images, nor to the scene they depict."
)

# The verbal scale for the conclusion: the ENFSI guideline's (2015), the one trace detection
# states its likelihood ratios in, for support of either proposition; strongest support for the
# proposition first. The words come from :data:`examiner.analysis.likelihood.VERBAL_SCALE`, so
# the conclusion, the detection results, the command line and the window read the same.
CONCLUSION_PROPOSITION = (
    "the evidence image has passed through a neural image codec and its marked content may not "
    "show the scene as originally recorded"
)
CONCLUSION_ALTERNATIVE = (
    "the evidence image has not passed through a neural image codec, or its marked content shows "
    "the scene as originally recorded"
)
# ENFSI's plain-words meaning of each band, weakest first (as VERBAL_SCALE).
_ENFSI_MEANING = ("about as probable", "slightly more probable", "more probable", "appreciably more probable",
                  "much more probable", "far more probable", "exceedingly more probable")  # fmt: skip


def _band(lower: float, upper: float, against: bool = False) -> str:
    if against:
        if upper == float("inf"):
            return f"likelihood ratio below 1/{lower:,.0f}"
        return f"likelihood ratio 1/{upper:,.0f} to 1/{lower:,.0f}"
    if upper == float("inf"):
        return f"likelihood ratio above {lower:,.0f}"
    return f"likelihood ratio {lower:,.0f} to {upper:,.0f}"


def _conclusion_scale() -> tuple[tuple[str, str], ...]:
    for_p: list[tuple[str, str]] = []
    for_a: list[tuple[str, str]] = []
    lower = 1.0
    for (upper, words), meaning in zip(VERBAL_SCALE, _ENFSI_MEANING, strict=True):
        if words == "no support":
            neutral = ("No support for either proposition",
                       f"The findings are {meaning} if the proposition is true as if the alternative is true "
                       f"(likelihood ratio between 1/{upper:,.0f} and {upper:,.0f}).")  # fmt: skip
        else:
            for_p.append((f"{words.capitalize()} for the proposition",
                          f"The findings are {meaning} if the proposition is true than if the alternative is true "
                          f"({_band(lower, upper)}).",))  # fmt: skip
            for_a.append((f"{words.capitalize()} for the alternative",
                          f"The findings are {meaning} if the alternative is true than if the proposition is true "
                          f"({_band(lower, upper, against=True)}).",))  # fmt: skip
        lower = upper
    return (*reversed(for_p), neutral, *for_a)


CONCLUSION_SCALE: tuple[tuple[str, str], ...] = _conclusion_scale()
# Levels of the program's earlier scale: a case may still hold one. The report says so and
# shows it as recorded, off the scale, until the examiner states the level again.
EARLIER_CONCLUSION_LEVELS = ("Strong support", "Moderate support", "Limited support", "Inconclusive",
                             "Limited support against", "Moderate support against", "Strong support against")  # fmt: skip
CONCLUSION_LEVELS: tuple[str, ...] = tuple(level for level, _ in CONCLUSION_SCALE)


# Case meta keys the examiner sets for the report (summary text, conclusion, reviewer, extra
# limitations); the report reads them, the CLI and the window write them.
META_SUMMARY = "report.summary"
META_CONCLUSION = "report.conclusion"
META_REVIEWER = "report.reviewer"
META_LIMITATIONS = "report.limitations"


@dataclass
class Para:
    """A paragraph of plain text, optionally followed by citation markers."""

    text: str
    cites: tuple[str, ...] = ()


@dataclass(eq=False)
class Figure:
    """An image in the report: 8-bit RGB pixels, embedded losslessly (Flate) exactly as held here.

    Its hash, the SHA-256 of the raw ``height x width x 3`` bytes in row order, is what the
    manifest lists; it equals the hash of the decoded image stream extracted from the PDF.
    """

    name: str
    rgb: np.ndarray
    caption: str = ""

    @property
    def width_px(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height_px(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def sha256(self) -> str:
        return hashlib.sha256(np.ascontiguousarray(self.rgb).tobytes()).hexdigest()


@dataclass
class HashCheck:
    algorithm: str
    at_intake: str
    at_report: str | None  # None: the file could not be read at report time

    @property
    def matches(self) -> bool:
        return self.at_report is not None and self.at_report.lower() == self.at_intake.lower()


@dataclass
class EvidenceBlock:
    label: str  # "E1", "E2", ... as used throughout the report
    evidence_id: int
    file_name: str
    path: str
    size_bytes: int | None
    format: str
    dimensions: str
    hashes: list[HashCheck]
    status: str  # plain statement: "match", "MISMATCH", "MISSING"
    decode_policy: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    metadata: list[tuple[str, str]] = field(default_factory=list)
    jpeg: list[tuple[str, str]] = field(default_factory=list)
    reference: list[tuple[str, str]] = field(default_factory=list)
    provenance: list[tuple[str, str]] = field(default_factory=list)  # see report/provenance_section.py

    @property
    def intact(self) -> bool:
        return bool(self.hashes) and all(h.matches for h in self.hashes)


@dataclass
class CodecUse:
    codec_id: str
    name: str
    family: str
    demonstration: bool
    weights: list[tuple[str, str]] = field(default_factory=list)  # (file, sha256)
    versions: list[tuple[str, str]] = field(default_factory=list)
    cites: tuple[str, ...] = ()


@dataclass
class MethodBlock:
    name: str
    description: str
    parameters: list[tuple[str, str]] = field(default_factory=list)
    limitations: list[str] = field(default_factory=list)
    cites: tuple[str, ...] = ()
    labels: list[str] = field(default_factory=list)
    version: str = ""


@dataclass
class DetectionBlock:
    evidence_label: str
    verdict: str
    score: float | None
    explanation: str
    features: list[tuple[str, str]] = field(default_factory=list)
    candidates: list[tuple[str, str]] = field(default_factory=list)  # (codec/quality, fit)
    spectrum: Figure | None = None
    error_rates: list[tuple[str, str]] = field(default_factory=list)
    error_rate_set: str = ""
    cites: tuple[str, ...] = ()
    # The calibrated likelihood ratio as a sentence (value, interval, ENFSI verbal scale), and
    # why a result is inconclusive; empty for results recorded without them.
    likelihood: str = ""
    inconclusive_reason: str = ""
    localisation: str = ""  # where in the image the trace is, with the map's measured rates
    finding: str = ""  # the finding's label, e.g. F3
    created: str = ""  # when the run was recorded (UTC)
    model: str = ""  # which detector model gave it


@dataclass
class EarlierRun:
    """A detection run superseded by a later one of the same method on the same item: listed
    once in the appendix, never shown as a result."""

    finding: str
    evidence_label: str
    created: str
    model: str
    verdict: str
    likelihood_ratio: str
    superseded_by: str


@dataclass
class FeatureTable:
    """The measured features behind one detection result (appendix), named as the legend does."""

    finding: str
    evidence_label: str
    rows: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class RecompressionBlock:
    evidence_label: str
    codec_name: str
    codec_id: str
    demonstration: bool
    quality: str
    bpp: str
    psnr: str
    device: str
    artefacts: list[tuple[str, str]] = field(default_factory=list)  # (name, artefact SHA-256)
    finding: str = ""  # the finding's label, e.g. F3
    thumbnail: Figure | None = None
    cites: tuple[str, ...] = ()


@dataclass
class OtherResultBlock:
    """A result of another analysis (assisted symbol checks, identification, ...)."""

    title: str
    evidence_label: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    cites: tuple[str, ...] = ()


@dataclass
class OverviewBlock:
    """A reduced view of a whole evidence image with the marked regions' boxes drawn over it."""

    evidence_label: str
    figure: Figure
    reduction: int  # evidence pixels per figure pixel along each axis
    boxes: list[tuple[int, tuple[int, int, int, int]]] = field(default_factory=list)  # (region number, x y w h)


@dataclass
class RegionBlock:
    number: int
    evidence_label: str
    shape: str
    box: tuple[int, int, int, int]  # x, y, w, h in evidence pixels
    share_percent: float
    categories: list[str]
    symbol: bool
    evidence_says: str
    comparison_says: str
    confidence: str
    notes: str
    provenance: str
    author: str
    created: str
    comparison_label: str
    # The three crops at the same zoom: evidence, comparison, amplified difference.
    crops: list[Figure] = field(default_factory=list)
    crop_origin: tuple[int, int] = (0, 0)  # top-left of the crops in evidence pixels
    zoom: int = 1  # image pixels are enlarged by this integer factor in the crops
    difference_gain: float = 1.0
    outline: list[tuple[float, float]] = field(default_factory=list)  # region in crop pixels
    outline_closed: bool = True
    ellipse: bool = False
    problems: list[str] = field(default_factory=list)  # why a crop could not be made


@dataclass
class AuditRow:
    seq: int
    time_utc: str
    actor: str
    action: str
    details: str
    entry_hash: str
    sentence: str = ""  # the entry in words: who did what, with which hash


@dataclass
class ManifestRow:
    item: str
    role: str
    sha256: str


@dataclass
class ReportModel:
    report_id: str
    title: str
    subtitle: str
    lab: str
    case_id: str
    case_title: str
    requester: str
    examiner: str
    reviewer: str
    received: str
    examined: str
    issued: str
    issued_epoch: int  # the PDF's creation date, taken from the case state
    amends: str = ""
    summary: list[Para] = field(default_factory=list)
    integrity_statement: str = ""
    integrity_ok: bool = True
    evidence: list[EvidenceBlock] = field(default_factory=list)
    tools: list[tuple[str, str]] = field(default_factory=list)
    device: str = ""
    codecs: list[CodecUse] = field(default_factory=list)
    settings: list[tuple[str, str]] = field(default_factory=list)
    methods: list[MethodBlock] = field(default_factory=list)
    detections: list[DetectionBlock] = field(default_factory=list)
    earlier_detections: list[EarlierRun] = field(default_factory=list)
    feature_tables: list[FeatureTable] = field(default_factory=list)
    feature_legend: list[tuple[str, str]] = field(default_factory=list)
    recompressions: list[RecompressionBlock] = field(default_factory=list)
    other_results: list[OtherResultBlock] = field(default_factory=list)
    overviews: list[OverviewBlock] = field(default_factory=list)
    regions: list[RegionBlock] = field(default_factory=list)
    taxonomy: list[tuple[str, str]] = field(default_factory=list)
    taxonomy_cites: tuple[str, ...] = ("hofer2024taxonomy",)
    limitations: list[str] = field(default_factory=list)
    scope: str = SCOPE_STATEMENT
    conclusion_proposition: str = CONCLUSION_PROPOSITION
    conclusion_alternative: str = CONCLUSION_ALTERNATIVE
    conclusion_scale: list[tuple[str, str]] = field(default_factory=lambda: list(CONCLUSION_SCALE))
    conclusion_level: str = ""
    conclusion_text: str = ""
    conclusion_basis: str = ""  # who set the level, or how it was derived
    bibliography: list[tuple[int, str, str]] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)
    audit_verification: str = ""
    audit_ok: bool = True
    audit_head: str = ""  # "N:HASH", the anchor to check the case against later
    head_signature: dict[str, Any] | None = None  # an examiner's signature over audit_head
    audit_note: str = ""
    manifest: list[ManifestRow] = field(default_factory=list)

    def citation_number(self, key: str) -> int | None:
        for n, k, _ in self.bibliography:
            if k == key:
                return n
        return None

    def fingerprint(self) -> str:
        """SHA-256 of everything the report says except its own id: the basis of the id."""
        data = _plain(self)
        data.pop("report_id", None)
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def derive_report_id(model: ReportModel) -> str:
    return "MER-" + model.fingerprint()[:12].upper()


def _plain(obj: Any) -> Any:
    """JSON-able form; images are represented by their hashes."""
    if isinstance(obj, Figure):
        return {"name": obj.name, "sha256": obj.sha256, "caption": obj.caption}
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, bytes):
        return hashlib.sha256(obj).hexdigest()
    return obj


def model_as_dict(model: ReportModel) -> dict[str, Any]:
    plain: dict[str, Any] = _plain(model)  # a dataclass becomes a dict
    return plain


__all__ = [
    "REPORT_TITLE",
    "REPORT_SUBTITLE",
    "AuditRow",
    "CodecUse",
    "DetectionBlock",
    "EarlierRun",
    "FeatureTable",
    "EvidenceBlock",
    "Figure",
    "HashCheck",
    "ManifestRow",
    "MethodBlock",
    "OtherResultBlock",
    "OverviewBlock",
    "Para",
    "RecompressionBlock",
    "RegionBlock",
    "ReportModel",
    "derive_report_id",
    "model_as_dict",
]
