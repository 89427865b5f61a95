"""XMP statements on the images the tool writes: which codec made the pixels, from what, with what.

Every image the program derives (a re-compression written with ``--out``, the crops of a dataset
export, the reconstructions of a training exercise, a copy made by ``examiner annotate``) carries
one XMP packet. It says, in the IPTC Digital Source Type and in the tool's own namespace
(:data:`~examiner.core.xmp.NEURAL_NS`), whether a learned codec made the pixels, the codec id,
quality, bits per pixel, the SHA-256 of the weight files, the SHA-256 of the source image and the
tool's version. Why ``trainedAlgorithmicMedia`` for a learned decode: docs/reference/provenance.md.

The packet is inserted into the container without touching the image data: the pixels of the
annotated file are bit-identical to those of the file it was made from. No timestamp is written,
so the same input gives the same bytes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from examiner.core.xmp import IPTC_EXT, IPTC_SOURCE_TYPES, NEURAL_NS, NEURAL_PREFIX, RDF

TOOL_NAME = "Miscompression Examiner"
# A learned decoder synthesises every output pixel from quantised latents: see the docs page.
LEARNED_SOURCE_TYPE = IPTC_SOURCE_TYPES + "trainedAlgorithmicMedia"
_XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
MAX_JPEG_PACKET = 65535 - 2 - len(_XMP_APP1)


def tool_label() -> str:
    from examiner import __version__

    return f"{TOOL_NAME} {__version__}"


@dataclass
class MakingStatement:
    """What made a derived image. ``learned`` None: no codec made the pixels (e.g. a crop)."""

    kind: str  # "re-compression", "dataset crop", "training exercise reconstruction", "annotation", ...
    source_sha256: str | None = None
    codec_id: str | None = None
    learned: bool | None = None
    quality: int | None = None
    bpp: float | None = None
    weights_sha256: dict[str, str] = field(default_factory=dict)
    note: str = ""
    codec_made: bool = True  # False: no codec made these pixels (a crop of the source, a computed map)

    def sentence(self) -> str:
        if self.codec_id is not None and not self.codec_made:
            what = "learned (neural) codec" if self.learned else "codec"
            made = (f"{self.kind} computed by {tool_label()} from decodes by the {what} {self.codec_id}; "
                    "its pixels show a measurement, not a picture")  # fmt: skip
        elif self.codec_id is None and not self.codec_made:
            made = f"{self.kind} written by {tool_label()}; no codec was run by the tool to make these pixels (they are the source image's own)"
        elif self.codec_id is None:
            made = f"{self.kind} written by {tool_label()}; made by a codec that was not recorded"
        else:
            what = "learned (neural) codec" if self.learned else "codec"
            made = f"{self.kind}: pixels decoded by the {what} {self.codec_id}"
            if self.quality is not None:
                made += f" at quality {self.quality}"
            if self.bpp is not None:
                made += f" ({self.bpp:.4f} bpp)"
        if self.source_sha256:
            made += f", from the image with SHA-256 {self.source_sha256}"
        return made + (f". {self.note}" if self.note else "")


def codec_is_learned(info: object) -> bool:
    """A codec counts as learned when it is a neural pack or runs on weight files."""
    extra = getattr(info, "extra", {}) or {}
    # Compared as text: the core does not import the codecs package (CodecFamily is a StrEnum).
    return str(getattr(info, "family", "")) == "neural" or bool(extra.get("weights")) or extra.get("learned") is True


def build_packet(st: MakingStatement) -> bytes:
    """One XMP packet (UTF-8) stating how the image was made."""
    props: list[str] = []

    def prop(name: str, value: object) -> None:
        props.append(f"   <{name}>{escape(str(value))}</{name}>")

    if st.learned and st.codec_made:
        prop("Iptc4xmpExt:DigitalSourceType", LEARNED_SOURCE_TYPE)
        prop("Iptc4xmpExt:AISystemUsed", st.codec_id)
    prop("xmp:CreatorTool", tool_label())
    props.append(f'   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(st.sentence())}</rdf:li></rdf:Alt></dc:description>')
    prop(f"{NEURAL_PREFIX}:Kind", st.kind)
    prop(f"{NEURAL_PREFIX}:Learned", {True: "True", False: "False", None: "Unknown"}[st.learned])
    if st.codec_id is not None:
        prop(f"{NEURAL_PREFIX}:CodecId", st.codec_id)
    prop(f"{NEURAL_PREFIX}:CodecMadePixels", "True" if st.codec_made else "False")
    if st.quality is not None:
        prop(f"{NEURAL_PREFIX}:Quality", st.quality)
    if st.bpp is not None:
        prop(f"{NEURAL_PREFIX}:BitsPerPixel", f"{st.bpp:.6f}")
    if st.weights_sha256:
        items = "".join(f"<rdf:li>{escape(sha)}  {escape(name)}</rdf:li>" for name, sha in sorted(st.weights_sha256.items()))
        props.append(f"   <{NEURAL_PREFIX}:WeightsSha256><rdf:Bag>{items}</rdf:Bag></{NEURAL_PREFIX}:WeightsSha256>")
    if st.source_sha256:
        prop(f"{NEURAL_PREFIX}:SourceSha256", st.source_sha256)
    prop(f"{NEURAL_PREFIX}:Tool", tool_label())
    prop(f"{NEURAL_PREFIX}:Statement", st.sentence())
    body = "\n".join(props)
    text = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        f' <rdf:RDF xmlns:rdf="{RDF}">\n'
        '  <rdf:Description rdf:about=""\n'
        f'    xmlns:Iptc4xmpExt="{IPTC_EXT}"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        f'    xmlns:{NEURAL_PREFIX}="{NEURAL_NS}">\n'
        f"{body}\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="r"?>'
    )
    return text.encode("utf-8")


class AnnotateError(ValueError):
    """The bytes cannot carry the statement (format, size, an existing foreign packet)."""


def embed_png(png: bytes, packet: bytes) -> bytes:
    """The PNG with an iTXt ``XML:com.adobe.xmp`` chunk after IHDR (replacing an earlier XMP
    chunk); every other chunk, IDAT included, is copied byte for byte."""
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise AnnotateError("not a PNG")
    body = b"XML:com.adobe.xmp\x00" + b"\x00\x00" + b"\x00" + b"\x00" + packet
    chunk = len(body).to_bytes(4, "big") + b"iTXt" + body + zlib.crc32(b"iTXt" + body).to_bytes(4, "big")
    out = [png[:8]]
    pos = 8
    inserted = False
    while pos + 12 <= len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        ctype = png[pos + 4 : pos + 8]
        end = pos + 12 + length
        is_xmp = ctype == b"iTXt" and png[pos + 8 : pos + 8 + 18] == b"XML:com.adobe.xmp\x00"
        if not is_xmp:
            out.append(png[pos:end])
        if ctype == b"IHDR" and not inserted:
            out.append(chunk)
            inserted = True
        pos = end
        if ctype == b"IEND":
            break
    if not inserted:
        raise AnnotateError("PNG has no IHDR chunk")
    return b"".join(out) + png[pos:]


def embed_jpeg(jpeg: bytes, packet: bytes) -> bytes:
    """The JPEG with an APP1 XMP segment after SOI and the leading APP0/APP1 segments
    (replacing an earlier XMP segment); the rest is copied byte for byte."""
    from examiner.core.jpeg_structure import scan_segments

    if len(packet) > MAX_JPEG_PACKET:
        raise AnnotateError(f"XMP packet of {len(packet)} bytes does not fit one JPEG segment")
    segment = b"\xff\xe1" + (len(packet) + len(_XMP_APP1) + 2).to_bytes(2, "big") + _XMP_APP1 + packet
    layout = scan_segments(jpeg)
    insert_at = 2
    drop: list[tuple[int, int]] = []
    for seg in layout.segments:
        start = seg.payload_start - 4
        end = seg.payload_start + seg.length - 2
        if seg.marker == 0xE1 and jpeg[seg.payload_start : seg.payload_start + len(_XMP_APP1)] == _XMP_APP1:
            drop.append((start, end))
        elif seg.marker in (0xE0, 0xE1) and start == insert_at:
            insert_at = end
    kept = bytearray()
    pos = 0
    for start, end in drop:
        kept += jpeg[pos:start]
        pos = end
    kept += jpeg[pos:]
    shift = sum(e - s for s, e in drop if e <= insert_at)
    at = insert_at - shift
    return bytes(kept[:at]) + segment + bytes(kept[at:])


def embed(data: bytes, fmt: str, packet: bytes) -> bytes:
    if fmt == "png":
        return embed_png(data, packet)
    if fmt == "jpeg":
        return embed_jpeg(data, packet)
    raise AnnotateError(f"writing XMP into {fmt.upper()} files is not supported (JPEG and PNG are)")


def png_with_statement(png: bytes, st: MakingStatement) -> bytes:
    return embed_png(png, build_packet(st))
