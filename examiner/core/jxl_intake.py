"""JPEG XL intake: header read here, pixels decoded by libjxl's reference decoder ``djxl``.

The size, orientation and bit depth are read from the codestream header before anything is
decoded, so the pixel limit is checked first. Decoding runs ``djxl`` (libjxl-tools) in a separate
process: a hostile file cannot take the program down with it, and it keeps 16-bit samples (the
Python bindings available deliver 8 bits). ``djxl`` reads a file, so the exact bytes that were
hashed are written to a private temporary folder (mode 0700) that is removed afterwards; the
evidence file itself is never handed to another program. ``djxl`` applies the codestream's
orientation; the tool undoes it exactly (orientations are pixel permutations) so the pixels are
kept as stored and the orientation is recorded, as for every other format.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from examiner.core.isobmff import BoxError, iter_boxes
from examiner.core.text_safety import safe_text
from examiner.errors import EvidenceError

CODESTREAM_SIGNATURE = b"\xff\x0a"
CONTAINER_SIGNATURE = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
DJXL_TIMEOUT_S = 300
_RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}


def is_jxl(head: bytes) -> bool:
    return head.startswith(CODESTREAM_SIGNATURE) or head.startswith(CONTAINER_SIGNATURE)


class _Bits:
    """LSB-first bit reader over the start of a codestream (JPEG XL reads fields this way)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def u(self, n: int) -> int:
        value = 0
        for i in range(n):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise ValueError("the header is cut off")
            value |= ((self.data[byte] >> (self.pos & 7)) & 1) << i
            self.pos += 1
        return value

    def u32(self, *dist: tuple[int, int]) -> int:
        bits, offset = dist[self.u(2)]
        return self.u(bits) + offset


def _size(b: _Bits, small_dist: tuple[tuple[int, int], ...] | None, big_dist: tuple[tuple[int, int], ...]) -> tuple[int, int]:
    """A SizeHeader (``small_dist`` None: the "small" form is a plain 5-bit field) or a
    PreviewHeader."""

    def small() -> int:
        return (b.u(5) + 1 if small_dist is None else b.u32(*small_dist)) * 8

    div8 = b.u(1)
    height = small() if div8 else b.u32(*big_dist)
    ratio = b.u(3)
    if ratio:
        num, den = _RATIOS[ratio]
        width = height * num // den
    else:
        width = small() if div8 else b.u32(*big_dist)
    return width, height


_SIZE_SMALL = None
_SIZE_BIG = ((9, 1), (13, 1), (18, 1), (30, 1))
_PREVIEW_SMALL = ((0, 16), (0, 32), (5, 1), (9, 33))
_PREVIEW_BIG = ((6, 1), (8, 65), (10, 321), (12, 1345))


def read_header(codestream: bytes) -> dict[str, Any]:
    """Size, orientation, bit depth and animation flag from the SizeHeader and ImageMetadata."""
    b = _Bits(codestream[2:4096])
    width, height = _size(b, _SIZE_SMALL, _SIZE_BIG)
    header: dict[str, Any] = {"width": width, "height": height, "orientation": 1, "bit_depth": 8,
                              "float_samples": False, "animated": False, "extra_channels": 0}  # fmt: skip
    if b.u(1):  # all_default
        return header
    if b.u(1):  # extra_fields
        header["orientation"] = 1 + b.u(3)
        if b.u(1):  # intrinsic size
            _size(b, _SIZE_SMALL, _SIZE_BIG)
        if b.u(1):  # preview
            _size(b, _PREVIEW_SMALL, _PREVIEW_BIG)
        if b.u(1):  # animation
            header["animated"] = True
            b.u32((0, 100), (0, 1000), (10, 1), (30, 1))
            b.u32((0, 1), (0, 1001), (8, 1), (10, 1))
            b.u32((0, 0), (3, 0), (16, 0), (32, 0))
            b.u(1)
    if b.u(1):  # float samples
        header["float_samples"] = True
        header["bit_depth"] = b.u32((0, 32), (0, 16), (0, 24), (6, 1))
        b.u(4)
    else:
        header["bit_depth"] = b.u32((0, 8), (0, 10), (0, 12), (6, 1))
    b.u(1)  # modular_16bit_buffers
    header["extra_channels"] = b.u32((0, 0), (0, 1), (4, 2), (12, 1))
    return header


def split_container(p: Path, data: bytes) -> tuple[bytes, dict[str, Any]]:
    """(codestream, container facts) of a JPEG XL file; a bare codestream is its own."""
    if data.startswith(CODESTREAM_SIGNATURE):
        return data, {"iso_container": False, "boxes": []}
    parts: list[tuple[int, bytes]] = []
    names: list[str] = []
    try:
        for box in iter_boxes(data):
            names.append(box.name)
            if box.type == b"jxlc":
                parts.append((0, data[box.body : box.end]))
            elif box.type == b"jxlp":
                index = int.from_bytes(data[box.body : box.body + 4], "big") & 0x7FFFFFFF
                parts.append((index, data[box.body + 4 : box.end]))
    except BoxError as exc:
        raise EvidenceError(p, f"JPEG XL container is broken: {exc}") from None
    if not parts:
        raise EvidenceError(p, "JPEG XL container holds no codestream (no jxlc or jxlp box)")
    codestream = b"".join(part for _, part in sorted(parts, key=lambda x: x[0]))
    facts = {
        "iso_container": True,
        "boxes": names[:64],
        "jpeg_reconstruction": "jbrd" in names,
        "exif_box": "Exif" in names,
        "xmp_box": "xml " in names,
        "c2pa_box": "jumb" in names,
        "brotli_boxes": names.count("brob"),
    }
    return codestream, facts


def decode_jxl(p: Path, data: bytes, limit: int, facts: Any, check_limit: Any) -> np.ndarray:
    codestream, details = split_container(p, data)
    if not codestream.startswith(CODESTREAM_SIGNATURE):
        raise EvidenceError(p, "JPEG XL codestream does not start with its signature")
    try:
        header = read_header(codestream)
    except (ValueError, KeyError) as exc:
        raise EvidenceError(p, f"JPEG XL header is broken ({exc})") from None
    check_limit(p, (header["width"], header["height"]), limit)
    details.update(header)
    facts.format_facts = {"container": "JPEG XL", **details}
    facts.width, facts.height = header["width"], header["height"]
    facts.bit_depth = int(header["bit_depth"])
    facts.exif_orientation = int(header["orientation"]) if header["orientation"] != 1 else None
    if header["float_samples"]:
        raise EvidenceError(p, f"JPEG XL with {header['bit_depth']}-bit floating-point samples is not supported by the decode policy")
    arr = _run_djxl(p, data)
    if header["orientation"] != 1:
        arr = undo_orientation(arr, int(header["orientation"]))
        facts.conversions.append(
            f"JPEG XL orientation {header['orientation']} applied by djxl and undone by the tool (exact): "
            "pixels kept as stored, orientation recorded"
        )
    if arr.shape[:2] != (header["height"], header["width"]):
        raise EvidenceError(p, f"djxl returned {arr.shape[1]} x {arr.shape[0]} pixels where the header says "
                               f"{header['width']} x {header['height']}")  # fmt: skip
    if header["animated"]:
        facts.conversions.append("animated JPEG XL: first frame decoded")
    if header["extra_channels"]:
        facts.conversions.append(
            f"{header['extra_channels']} extra channel(s) (alpha, depth or spot colour) not decoded; colour channels examined"
        )
    return _layout(p, arr, facts)


def _run_djxl(p: Path, data: bytes) -> np.ndarray:
    djxl = shutil.which("djxl")
    if djxl is None:
        raise EvidenceError(p, "JPEG XL needs djxl (Debian package libjxl-tools), which is not installed")
    with tempfile.TemporaryDirectory(prefix="examiner-jxl-") as tmp:
        src = Path(tmp) / "in.jxl"
        # PPM/PGM, not PNG: the same samples (16-bit kept), five times faster to write and read
        # for a 12-megapixel image. It holds no alpha; extra channels are recorded from the header.
        out = Path(tmp) / "out.ppm"
        src.write_bytes(data)
        try:
            done = subprocess.run(
                [djxl, str(src), str(out), "--quiet"],
                capture_output=True, timeout=DJXL_TIMEOUT_S, check=False, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise EvidenceError(p, f"djxl did not finish decoding within {DJXL_TIMEOUT_S} s") from None
        said = " ".join(done.stderr.decode("utf-8", "replace").split())
        if done.returncode != 0 or not out.exists():
            raise EvidenceError(p, f"corrupt or unsupported JPEG XL data (djxl said: {safe_text(said or done.returncode, 200)})")
        arr = read_netpbm(out.read_bytes())
    if arr is None:
        raise EvidenceError(p, "djxl wrote no readable image")
    return arr


def read_netpbm(data: bytes) -> np.ndarray | None:
    """Samples of the PGM (P5), PPM (P6) or PAM (P7) file djxl writes, in RGB(A) order, 8 or 16
    bits. Read here rather than by OpenCV, whose channel order differs between P6 and P7."""
    if data[:2] in (b"P5", b"P6"):
        fields: list[bytes] = []
        pos = 2
        while len(fields) < 3:
            while pos < len(data) and data[pos : pos + 1].isspace():
                pos += 1
            if data[pos : pos + 1] == b"#":
                pos = data.index(b"\n", pos)
                continue
            end = pos
            while end < len(data) and not data[end : end + 1].isspace():
                end += 1
            fields.append(data[pos:end])
            pos = end
        width, height, maxval = (int(f) for f in fields)
        depth = 1 if data[:2] == b"P5" else 3
        pos += 1
    elif data[:2] == b"P7":
        end = data.index(b"ENDHDR\n")
        header = dict(line.split(b" ", 1) for line in data[3:end].splitlines() if b" " in line)
        width, height = int(header[b"WIDTH"]), int(header[b"HEIGHT"])
        depth, maxval = int(header[b"DEPTH"]), int(header[b"MAXVAL"])
        pos = end + len(b"ENDHDR\n")
    else:
        return None
    dtype = np.dtype(np.uint8) if maxval < 256 else np.dtype(">u2")
    count = width * height * depth
    if len(data) - pos < count * dtype.itemsize:
        return None
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=pos).astype(dtype.newbyteorder("="))
    return arr.reshape(height, width, depth) if depth > 1 else arr.reshape(height, width)


def undo_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    """The stored pixel grid from the displayed one, for EXIF-style orientation values 1-8."""
    if orientation == 2:
        return arr[:, ::-1]
    if orientation == 3:
        return arr[::-1, ::-1]
    if orientation == 4:
        return arr[::-1, :]
    if orientation == 5:
        return arr.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(arr, 1)
    if orientation == 7:
        return arr[::-1, ::-1].swapaxes(0, 1)
    if orientation == 8:
        return np.rot90(arr, -1)
    return arr


def _layout(p: Path, arr: np.ndarray, facts: Any) -> np.ndarray:
    if arr.ndim == 2:
        facts.channels, facts.mode = 1, "L" if arr.dtype == np.uint8 else "I;16"
        return np.ascontiguousarray(arr)
    channels = arr.shape[2]
    facts.channels = channels
    if channels in (2, 4):
        arr = arr[..., : channels - 1]
        if channels == 2:
            arr = arr[..., 0]
    elif channels != 3:
        raise EvidenceError(p, f"unexpected JPEG XL layout {arr.shape}")
    grey = arr.ndim == 2
    facts.mode = ("L" if grey else "RGB") if arr.dtype == np.uint8 else ("I;16" if grey else "RGB;16")
    if arr.dtype == np.uint16 and facts.bit_depth < 16:
        facts.conversions.append(f"{facts.bit_depth}-bit samples delivered by djxl in 16 bits (scaled to the 16-bit range)")
    return np.ascontiguousarray(arr)
