"""ISO base media file boxes, as HEIF and the JPEG XL container use them: walked, bounded, checked.

Decoders read what they need and stop, so a file cut off after the primary image's data decodes
without complaint. Walking every top-level box and requiring that each fits in the file is what
turns such a truncation into an error. The same walk finds the HEIF item list (which item is the
primary image, how each is coded) and the metadata boxes, without decoding anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

# A hostile file can declare any number of boxes; nobody needs more than this to find the few
# that matter, and the count is reported when it is reached.
MAX_BOXES = 4096
MAX_ITEMS = 1024


class BoxError(ValueError):
    """The box structure is broken: the message says where and how."""


@dataclass(frozen=True)
class Box:
    type: bytes
    start: int  # offset of the box header
    body: int  # offset of the payload
    end: int  # offset just past the box

    @property
    def name(self) -> str:
        return "".join(chr(c) if 32 <= c < 127 else "?" for c in self.type)


def iter_boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes between ``start`` and ``end``, each checked to lie inside that range."""
    end = len(data) if end is None else end
    pos = start
    count = 0
    while pos < end:
        if end - pos < 8:
            raise BoxError(f"{end - pos} stray bytes at offset {pos} (a box header needs 8)")
        size = int.from_bytes(data[pos : pos + 4], "big")
        btype = data[pos + 4 : pos + 8]
        header = 8
        if size == 1:
            if end - pos < 16:
                raise BoxError(f"box {btype!r} at offset {pos} is cut off in its header")
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:
            size = end - pos  # "to the end of the file"
        if btype == b"uuid":
            header += 16
        if size < header:
            raise BoxError(f"box {btype!r} at offset {pos} declares an impossible size {size}")
        if pos + size > end:
            raise BoxError(f"box {btype!r} at offset {pos} runs past the end ({pos + size} > {end}): truncated")
        yield Box(btype, pos, pos + header, pos + size)
        pos += size
        count += 1
        if count >= MAX_BOXES:
            raise BoxError(f"more than {MAX_BOXES} boxes")


def top_level(data: bytes) -> list[Box]:
    return list(iter_boxes(data))


def find(boxes: list[Box], btype: bytes) -> Box | None:
    return next((b for b in boxes if b.type == btype), None)


def ftyp_brands(data: bytes, box: Box) -> tuple[str, list[str]]:
    """(major brand, compatible brands) of an ``ftyp`` box."""
    body = data[box.body : box.end]
    major = _fourcc(body[0:4])
    compatible = [_fourcc(body[i : i + 4]) for i in range(8, min(len(body), 8 + 4 * 64) - 3, 4)]
    return major, compatible


def _fourcc(b: bytes) -> str:
    return "".join(chr(c) if 32 <= c < 127 else "?" for c in b)


@dataclass
class HeifItems:
    primary_id: int | None
    items: list[dict[str, object]]  # {"id", "type", "name"}
    properties: list[str]  # property box types present (irot, imir, clap, colr, pixi, auxC, ...)
    references: list[str]  # item reference types (thmb, auxl, dimg, cdsc, ...)


def heif_items(data: bytes, meta: Box) -> HeifItems:
    """The item list of a HEIF ``meta`` box: primary item id, item types and names, the kinds of
    property and reference present. Names are untrusted; callers escape them."""
    children = list(iter_boxes(data, meta.body + 4, meta.end))  # meta is a FullBox
    primary: int | None = None
    items: list[dict[str, object]] = []
    props: list[str] = []
    refs: list[str] = []
    pitm = find(children, b"pitm")
    if pitm is not None:
        version = data[pitm.body]
        width = 2 if version == 0 else 4
        primary = int.from_bytes(data[pitm.body + 4 : pitm.body + 4 + width], "big")
    iinf = find(children, b"iinf")
    if iinf is not None:
        version = data[iinf.body]
        first = iinf.body + 4 + (2 if version == 0 else 4)
        for infe in iter_boxes(data, first, iinf.end):
            if infe.type != b"infe" or len(items) >= MAX_ITEMS:
                continue
            items.append(_infe(data, infe))
    iprp = find(children, b"iprp")
    if iprp is not None:
        ipco = find(list(iter_boxes(data, iprp.body, iprp.end)), b"ipco")
        if ipco is not None:
            props = sorted({b.name for b in iter_boxes(data, ipco.body, ipco.end)})
    iref = find(children, b"iref")
    if iref is not None:
        refs = sorted({b.name for b in iter_boxes(data, iref.body + 4, iref.end)})
    return HeifItems(primary, items, props, refs)


def _infe(data: bytes, box: Box) -> dict[str, object]:
    version = data[box.body]
    pos = box.body + 4
    if version >= 2:
        width = 2 if version == 2 else 4
        item_id = int.from_bytes(data[pos : pos + width], "big")
        pos += width + 2  # item_protection_index
        item_type = _fourcc(data[pos : pos + 4])
        pos += 4
    else:
        item_id = int.from_bytes(data[pos : pos + 2], "big")
        pos += 4
        item_type = ""
    name_end = data.find(b"\x00", pos, box.end)
    name = data[pos : name_end if name_end >= 0 else box.end][:120].decode("utf-8", "replace")
    return {"id": item_id, "type": item_type, "name": name}
