"""The external-codec protocol: a codec that is two command lines.

The examiner writes the image as a lossless PNG into a private temporary folder, runs the
pack's encode argv (no shell) to make the bitstream, runs the decode argv to make a PNG, reads
it back and deletes the folder. Non-zero exit, timeout, cancellation or a missing output is a
:class:`~examiner.errors.CodecError` that quotes the command's stderr. See ``codecs/README.md``
for the manifest keys and placeholders.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from examiner.codecs.api import CodecInfo, Reconstruction, RunOptions, bits_per_pixel
from examiner.core.tasks import TaskContext
from examiner.errors import Cancelled, CodecError, ExaminerError

PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
STDERR_TAIL = 2000
_POLL_S = 0.1


def write_png(path: Path, image: np.ndarray) -> None:
    """The lossless PNG input of an external codec (8/16-bit grey or RGB)."""
    from examiner.core.png import encode_png

    try:
        path.write_bytes(encode_png(image))
    except (OSError, ExaminerError) as exc:
        raise CodecError(f"{path}: could not write the PNG input for the external codec ({exc})") from exc


def read_png(path: Path) -> np.ndarray:
    import cv2

    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise CodecError(f"{path}: the external decoder's output is not a readable PNG")
    if arr.dtype not in (np.uint8, np.uint16):
        raise CodecError(f"{path}: the external decoder wrote {arr.dtype} samples; 8 or 16 bits expected")
    if arr.ndim == 3:
        if arr.shape[2] == 4:
            arr = arr[:, :, :3]
        elif arr.shape[2] != 3:
            raise CodecError(f"{path}: the external decoder wrote {arr.shape[2]} channels")
        arr = np.ascontiguousarray(arr[:, :, ::-1])
    return arr


def fill_argv(template: list[str], values: dict[str, Any], where: str) -> list[str]:
    """Replace ``{name}`` in each element on its own; no shell, no attribute or index lookups."""

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in values or values[key] is None:
            raise CodecError(f"{where}: argv placeholder {{{key}}} has no value")
        return str(values[key])

    return [PLACEHOLDER_RE.sub(sub, part) for part in template]


def _tail(text: bytes | str | None) -> str:
    if not text:
        return ""
    s = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    s = s.strip()
    return s if len(s) <= STDERR_TAIL else "..." + s[-STDERR_TAIL:]


def run_command(
    argv: list[str],
    timeout_s: float,
    ctx: TaskContext,
    cwd: Path,
    env: dict[str, str] | None,
    what: str,
) -> tuple[str, str]:
    """Run one argv, polling for cancellation; returns (stdout, stderr) or raises CodecError."""
    exe = argv[0]
    if shutil.which(exe) is None and not Path(exe).is_file():
        raise CodecError(f"{what}: program {exe!r} is not installed or not on PATH")
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise CodecError(f"{what}: could not start {exe!r} ({exc.strerror or exc})") from exc
    deadline = time.monotonic() + timeout_s
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []

    def pump(stream: Any, sink: list[bytes]) -> None:
        for chunk in iter(lambda: stream.read(65536), b""):
            sink.append(chunk)

    # Reader threads keep the pipes drained so a chatty tool cannot block on a full pipe.
    readers = [
        threading.Thread(target=pump, args=(proc.stdout, out_chunks), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, err_chunks), daemon=True),
    ]
    for r in readers:
        r.start()
    try:
        while proc.poll() is None:
            if ctx.cancel.cancelled:
                raise Cancelled()
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                for r in readers:
                    r.join(5)
                raise CodecError(
                    f"{what}: timed out after {timeout_s:g} s: {' '.join(argv)}"
                    + (f"; stderr: {_tail(b''.join(err_chunks))}" if err_chunks else "")
                )
            time.sleep(_POLL_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for r in readers:
        r.join(5)
    stdout, stderr = b"".join(out_chunks), b"".join(err_chunks)
    if proc.returncode != 0:
        raise CodecError(
            f"{what}: {' '.join(argv)} failed with exit status {proc.returncode}; "
            f"stderr: {_tail(stderr) or '(empty)'}"
        )
    return stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")


class ExternalCodec:
    """A codec described entirely by ``[codec.external]`` in its manifest."""

    def __init__(self, info: CodecInfo) -> None:
        self.info = info
        cfg = info.extra.get("external")
        if not isinstance(cfg, dict):
            raise CodecError(f"codec {info.id!r}: no [codec.external] table")
        self.encode_argv: list[str] = list(cfg["encode"])
        self.decode_argv: list[str] = list(cfg["decode"])
        self.timeout_s = float(cfg.get("timeout_s", 120))
        self.version_argv: list[str] | None = cfg.get("version_argv")
        self.bitstream_suffix = str(cfg.get("bitstream_suffix", ".bin"))
        self.input_suffix = str(cfg.get("input_suffix", ".png"))
        self.output_suffix = str(cfg.get("output_suffix", ".png"))
        self.extra_env = {str(k): str(v) for k, v in dict(cfg.get("env", {})).items()}
        self._version: str | None = None
        self._lock = threading.Lock()

    def available(self) -> tuple[bool, str]:
        for argv in (self.encode_argv, self.decode_argv):
            if shutil.which(argv[0]) is None and not Path(argv[0]).is_file():
                return False, f"program {argv[0]!r} is not installed"
        return True, ""

    def tool_version(self) -> str:
        with self._lock:
            if self._version is None:
                self._version = self._query_version()
            return self._version

    def _query_version(self) -> str:
        if not self.version_argv:
            return "unknown (the pack declares no version_argv)"
        try:
            res = subprocess.run(
                list(self.version_argv), capture_output=True, timeout=20, stdin=subprocess.DEVNULL, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"unknown ({exc})"
        text = (res.stdout or b"").decode("utf-8", "replace") + (res.stderr or b"").decode("utf-8", "replace")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        return lines[0] if lines else f"unknown (exit status {res.returncode}, no output)"

    def run(self, image: np.ndarray, quality: int, options: RunOptions, ctx: TaskContext) -> Reconstruction:
        where = f"codec {self.info.id!r}"
        env = dict(os.environ)
        env.update(self.extra_env)
        height, width = image.shape[:2]
        with tempfile.TemporaryDirectory(prefix="examiner-codec-") as tmp:
            wd = Path(tmp)  # mkdtemp makes it 0700: private to this user
            inp = wd / f"input{self.input_suffix}"
            bit = wd / f"bitstream{self.bitstream_suffix}"
            outp = wd / f"output{self.output_suffix}"
            write_png(inp, image)
            values: dict[str, Any] = {
                **options.params,
                "input": str(inp),
                "bitstream": str(bit),
                "output": str(outp),
                "workdir": str(wd),
                "quality": quality,
                "width": width,
                "height": height,
                "seed": options.seed,
                "steps": options.steps,
            }
            enc = fill_argv(self.encode_argv, values, where)
            dec = fill_argv(self.decode_argv, values, where)
            ctx.progress(0, 2, f"{self.info.id}: encoding")
            t0 = time.perf_counter()
            _, enc_err = run_command(enc, self.timeout_s, ctx, wd, env, f"{where} encoder")
            encode_s = time.perf_counter() - t0
            if not bit.is_file() or bit.stat().st_size == 0:
                raise CodecError(
                    f"{where} encoder: {' '.join(enc)} wrote no bitstream; stderr: {_tail(enc_err) or '(empty)'}"
                )
            data = bit.read_bytes()
            ctx.progress(1, 2, f"{self.info.id}: decoding")
            t1 = time.perf_counter()
            _, dec_err = run_command(dec, self.timeout_s, ctx, wd, env, f"{where} decoder")
            decode_s = time.perf_counter() - t1
            if not outp.is_file():
                raise CodecError(
                    f"{where} decoder: {' '.join(dec)} wrote no output image; stderr: {_tail(dec_err) or '(empty)'}"
                )
            pixels = read_png(outp)
        notes: list[str] = []
        if pixels.shape[:2] != (height, width):
            raise CodecError(f"{where}: the decoder returned {pixels.shape[:2]}, expected {(height, width)}")
        if image.ndim == 2 and pixels.ndim == 3:
            if np.array_equal(pixels[:, :, 0], pixels[:, :, 1]) and np.array_equal(pixels[:, :, 0], pixels[:, :, 2]):
                pixels = np.ascontiguousarray(pixels[:, :, 0])
            else:
                notes.append("grey input came back as colour; kept as colour")
        if pixels.dtype != image.dtype:
            notes.append(f"the decoder wrote {pixels.dtype} samples for {image.dtype} input")
        return Reconstruction(
            codec_id=self.info.id,
            quality=quality,
            pixels=pixels,
            bitstream=data,
            bpp=bits_per_pixel(len(data), height, width),
            encode_s=encode_s,
            decode_s=decode_s,
            device="cpu",
            versions={self.encode_argv[0]: self.tool_version()},
            params={
                "encode_argv": [a.replace(str(wd), "<tmp>") for a in enc],
                "decode_argv": [a.replace(str(wd), "<tmp>") for a in dec],
            },
            notes=notes,
        )

