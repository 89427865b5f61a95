"""XMP packets: found in every format intake takes, parsed safely, read for provenance.

A packet is attacker-controlled XML. It is parsed with defusedxml with DTDs forbidden (so no
entity expansion, no external entities) and only when it is under :data:`MAX_XMP_BYTES`; the
properties are flattened into at most :data:`MAX_PROPERTIES` ``prefix:Name -> text`` pairs, every
value bounded and escaped by :func:`~examiner.core.text_safety.safe_text`. Namespaces are mapped
to their usual prefixes by URI (never by the prefix the file chose), so a file cannot pass its own
property off as an IPTC one by naming its prefix ``Iptc4xmpExt``.
"""

from __future__ import annotations

import io
import zlib
from typing import Any

from examiner.core.text_safety import safe_text

MAX_XMP_BYTES = 1 << 20
MAX_PROPERTIES = 500
MAX_DEPTH = 12

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
IPTC_SOURCE_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# The namespace this tool writes its neural-codec statements in (see provenance_write).
NEURAL_NS = "urn:miscompression-examiner:xmp:neural-codec:1.0#"
NEURAL_PREFIX = "mxnc"

PREFIXES: dict[str, str] = {
    RDF: "rdf",
    "adobe:ns:meta/": "x",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#": "stEvt",
    "http://ns.adobe.com/xap/1.0/sType/ResourceRef#": "stRef",
    "http://ns.adobe.com/xap/1.0/rights/": "xmpRights",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://cipa.jp/exif/1.0/": "exifEX",
    "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": "Iptc4xmpCore",
    IPTC_EXT: "Iptc4xmpExt",
    "http://ns.useplus.org/ldf/xmp/1.0/": "plus",
    "http://ns.adobe.com/camera-raw-settings/1.0/": "crs",
    "http://ns.google.com/photos/1.0/camera/": "GCamera",
    "http://ns.adobe.com/hdr-gain-map/1.0/": "hdrgm",
    "http://c2pa.org/ns/1.0/": "c2pa",
    NEURAL_NS: NEURAL_PREFIX,
}

# IPTC digital source types that say a trained model made or changed the pixels.
LEARNED_SOURCE_TYPES = frozenset({"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicallyEnhanced"})

# Fields recorded by name under ``iptc`` (the rest stay in ``fields``).
IPTC_FIELDS = {
    "Iptc4xmpExt:DigitalSourceType": "digital_source_type",
    "Iptc4xmpExt:AISystemUsed": "ai_system_used",
    "Iptc4xmpExt:AISystemVersionUsed": "ai_system_version_used",
    "Iptc4xmpExt:AIPromptInformation": "ai_prompt_information",
    "Iptc4xmpExt:AIPromptWriterName": "ai_prompt_writer_name",
    "plus:DataMining": "data_mining",
    "xmp:CreatorTool": "creator_tool",
    "photoshop:Credit": "credit",
    "photoshop:Source": "source",
    "dc:creator": "creator",
    "dc:rights": "rights",
    "dc:description": "description",
    "xmpMM:History/stEvt:softwareAgent": "history_software_agents",
    "xmpMM:History/stEvt:action": "history_actions",
}


# --------------------------------------------------------------------------------------------
# Finding the packet


def find_packet(data: bytes, fmt: str) -> bytes | None:
    """The raw XMP packet of an image file, or None. Never raises on hostile input."""
    try:
        finder = _FINDERS.get(fmt)
        return finder(data) if finder is not None else None
    except Exception:  # noqa: BLE001 - a broken container is reported by intake, not here
        return None


def _jpeg_packet(data: bytes) -> bytes | None:
    from examiner.core.jpeg_structure import scan_segments

    for seg in scan_segments(data).segments:
        body = data[seg.payload_start : seg.payload_start + seg.length - 2]
        if seg.marker == 0xE1 and body.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
            return bytes(body[29:])
    return None


def _png_packet(data: bytes) -> bytes | None:
    pos = 8
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        ctype = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if ctype == b"iTXt" and body.startswith(b"XML:com.adobe.xmp\x00"):
            rest = body[18:]
            compressed = rest[0] == 1
            # compression flag, method, then language tag and translated keyword, NUL-terminated
            text = rest[2:].split(b"\x00", 2)[-1]
            if compressed:
                inflater = zlib.decompressobj()
                text = inflater.decompress(text, MAX_XMP_BYTES + 1)
            return text
        if ctype == b"IEND":
            break
        pos += 12 + length
    return None


def _tiff_packet(data: bytes) -> bytes | None:
    from PIL import Image

    with Image.open(io.BytesIO(data), formats=["TIFF"]) as img:
        raw = getattr(img, "tag_v2", {}).get(700)
    if isinstance(raw, str):
        return raw.encode("utf-8", "replace")
    return bytes(raw) if raw else None


def _webp_packet(data: bytes) -> bytes | None:
    pos = 12
    while pos + 8 <= len(data):
        ctype = data[pos : pos + 4]
        length = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if ctype == b"XMP ":
            return data[pos + 8 : pos + 8 + length]
        pos += 8 + length + (length & 1)
    return None


def _heif_packet(data: bytes) -> bytes | None:
    import pillow_heif

    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)
    raw = heif[heif.primary_index].info.get("xmp")
    return bytes(raw) if isinstance(raw, (bytes, bytearray)) and raw else None


def _jxl_packet(data: bytes) -> bytes | None:
    from examiner.core.isobmff import iter_boxes

    if not data.startswith(b"\x00\x00\x00\x0cJXL "):
        return None
    for box in iter_boxes(data):
        if box.type == b"xml ":
            return data[box.body : box.end]
    return None


_FINDERS = {
    "jpeg": _jpeg_packet,
    "png": _png_packet,
    "tiff": _tiff_packet,
    "webp": _webp_packet,
    "heif": _heif_packet,
    "jxl": _jxl_packet,
}


# --------------------------------------------------------------------------------------------
# Parsing


def parse_packet(packet: bytes) -> dict[str, Any]:
    """Flattened properties of an XMP packet: ``{"fields": {...}, "errors": [...]}``."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    out: dict[str, Any] = {"fields": {}, "errors": []}
    if len(packet) > MAX_XMP_BYTES:
        out["errors"].append(f"XMP packet is {len(packet)} bytes, over the {MAX_XMP_BYTES}-byte parsing limit: not parsed")
        return out
    text = packet.strip(b"\x00 \t\r\n")
    try:
        root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        out["errors"].append(f"XMP packet refused by the safe parser ({type(exc).__name__}): not parsed")
        return out
    except (ParseError, ValueError) as exc:
        out["errors"].append(f"XMP packet is not well-formed XML ({safe_text(exc, 160)})")
        return out
    fields: dict[str, list[str]] = {}
    for desc in root.iter(f"{{{RDF}}}Description"):
        _collect(desc, "", fields, 0)
        if len(fields) >= MAX_PROPERTIES:
            out["errors"].append(f"more than {MAX_PROPERTIES} XMP properties; the rest were not listed")
            break
    out["fields"] = {k: v[0] if len(v) == 1 else v for k, v in fields.items()}
    return out


def qualified(tag: str) -> str:
    """``{uri}local`` as ``prefix:local`` with the canonical prefix for the URI."""
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        prefix = PREFIXES.get(uri)
        return f"{prefix}:{safe_text(local, 80)}" if prefix else f"{{{safe_text(uri, 120)}}}{safe_text(local, 80)}"
    return safe_text(tag, 80)


def _add(fields: dict[str, list[str]], key: str, value: str) -> None:
    if len(fields) >= MAX_PROPERTIES and key not in fields:
        return
    values = fields.setdefault(key, [])
    if len(values) < 50:
        values.append(safe_text(value))


def _collect(node: Any, path: str, fields: dict[str, list[str]], depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    for name, value in node.attrib.items():
        if name.startswith(f"{{{RDF}}}") or name.startswith("{http://www.w3.org/XML/1998/namespace}"):
            continue
        _add(fields, path + qualified(name), value)
    for child in node:
        if not isinstance(child.tag, str):
            continue
        if child.tag == f"{{{RDF}}}Description":
            continue  # reached by root.iter at top level; nested ones through their property
        key = path + qualified(child.tag)
        resource = child.attrib.get(f"{{{RDF}}}resource")
        if resource is not None:
            _add(fields, key, resource)
        containers = [c for c in child if c.tag in (f"{{{RDF}}}Alt", f"{{{RDF}}}Seq", f"{{{RDF}}}Bag")]
        if containers:
            for li in containers[0]:
                if len(li) or li.attrib.get(f"{{{RDF}}}parseType") == "Resource":
                    inner = li[0] if len(li) == 1 and li[0].tag == f"{{{RDF}}}Description" else li
                    _collect(inner, key + "/", fields, depth + 1)
                elif li.text and li.text.strip():
                    _add(fields, key, li.text.strip())
        elif len(child):
            inner = child[0] if child[0].tag == f"{{{RDF}}}Description" else child
            _collect(inner, key + "/", fields, depth + 1)
        elif child.text and child.text.strip():
            _add(fields, key, child.text.strip())
        elif child.attrib and resource is None:
            _collect(child, key + "/", fields, depth + 1)


def _values(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def read_xmp(data: bytes, fmt: str) -> dict[str, Any] | None:
    """The XMP of an image file as provenance facts, or None when it has no packet."""
    packet = find_packet(data, fmt)
    if packet is None:
        return None
    parsed = parse_packet(packet)
    fields = parsed["fields"]
    iptc = {name: fields[key] for key, name in IPTC_FIELDS.items() if key in fields}
    neural = {k.split(":", 1)[1]: v for k, v in fields.items() if k.startswith(f"{NEURAL_PREFIX}:")}
    return {
        "length": len(packet),
        "fields": fields,
        "iptc": iptc,
        "neural_codec": neural or None,
        "statements": statements(iptc, neural),
        "errors": parsed["errors"],
    }


def source_type_name(uri: str) -> str:
    return uri[len(IPTC_SOURCE_TYPES) :] if uri.startswith(IPTC_SOURCE_TYPES) else uri


def statements(iptc: dict[str, Any], neural: dict[str, Any]) -> list[str]:
    """What the file says about learned processing, as sentences that name it as the file's claim."""
    out: list[str] = []
    if neural:
        codec = neural.get("CodecId", "an unnamed codec")
        parts = [f"quality {neural['Quality']}" if neural.get("Quality") else "",
                 f"{neural['BitsPerPixel']} bpp" if neural.get("BitsPerPixel") else "",
                 f"written by {neural['Tool']}" if neural.get("Tool") else ""]  # fmt: skip
        extra = ", ".join(p for p in parts if p)
        learned = str(neural.get("Learned", "")).lower() == "true"
        kind = "learned codec" if learned else "codec"
        if "CodecId" in neural and str(neural.get("CodecMadePixels", "True")) != "False":
            out.append(f"this file states it was made by {kind} {codec}" + (f" ({extra})" if extra else ""))
        elif neural.get("Statement") or neural.get("Kind"):
            out.append(f"this file states: {neural.get('Statement') or neural.get('Kind')}")
    for uri in _values(iptc.get("digital_source_type", [])):
        name = source_type_name(str(uri))
        trained = " (a trained model made or changed the pixels)" if name in LEARNED_SOURCE_TYPES else ""
        out.append(f"this file declares the IPTC digital source type {name}{trained}")
    if iptc.get("ai_system_used"):
        out.append(f"this file names the AI system used: {_values(iptc['ai_system_used'])[0]}")
    return out
