"""What runs on the Dask workers. Plain module-level functions, so Dask sends them by reference.

Every function turns each file's problem into an outcome (refused or error, with the reason);
only the loss of the worker process itself fails a task, and Dask retries that elsewhere. The
detector model is loaded once per worker process (:class:`DetectorPlugin`) and kept in
:data:`_STATE`. Workers never write anything: the client records what they return.
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from distributed.diagnostics.plugin import WorkerPlugin

from examiner import __version__
from examiner.core.hashes import HASH_CHUNK_BYTES
from examiner.core.json_values import plain_json
from examiner.errors import EvidenceError, ExaminerError
from examiner.screening.ranking import rank_value, uncapped_value

if TYPE_CHECKING:
    from examiner.core.settings import Settings

THUMBNAIL_PX = 160
# What a worker reports of its environment (recorded in the log; the allocator setting is warned about).
WORKER_ENV_KEYS = ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# Per-process cache: the detector model and how often it was loaded (tests read this).
_STATE: dict[str, Any] = {"model": None, "key": None, "loads": 0, "versions": None}


def default_model_file() -> Path:
    from examiner.analysis import detector

    return Path(detector.__file__).resolve().parents[1] / "data" / detector.MODEL_FILE


def model_versions(model_path: str | None) -> dict[str, str]:
    """Tool version, model version and the SHA-256 of the model file, as this process sees them."""
    from examiner.analysis.detector import load_model

    f = Path(model_path) if model_path else default_model_file()
    try:
        sha = hashlib.sha256(f.read_bytes()).hexdigest()
    except OSError as exc:
        raise ExaminerError(f"{f}: cannot read the detector model ({exc.strerror or exc})") from None
    return {"tool_version": __version__, "model_version": str(load_model(model_path).version), "model_sha256": sha,
            "model_file": str(f)}  # fmt: skip


def ensure_model(model_path: str | None) -> Any:
    key = model_path or ""
    if _STATE["model"] is None or _STATE["key"] != key:
        from examiner.analysis.detector import load_model

        _STATE["model"] = load_model(model_path)
        _STATE["versions"] = model_versions(model_path)
        _STATE["key"] = key
        _STATE["loads"] += 1
    return _STATE["model"]


class DetectorPlugin(WorkerPlugin):
    """Loads the detector model (and the analysis code) once when a worker starts, including
    workers that join or restart later."""

    name = "examiner-detector"

    def __init__(self, model_path: str | None) -> None:
        self.model_path = model_path

    def setup(self, worker: Any) -> None:
        import examiner.analysis.detector  # noqa: F401 - import the analysis code once, up front

        single_threaded_maths()
        ensure_model(self.model_path)


def single_threaded_maths() -> None:
    """One thread of OpenCV per worker, as the nanny gives numpy's BLAS: the cluster's
    parallelism is its workers, and a second pool per worker only competes with the others."""
    import cv2

    cv2.setNumThreads(1)


def worker_info(model_path: str | None) -> dict[str, Any]:
    """Who this worker is and what it would analyse with (checked by the client before a run)."""
    ensure_model(model_path)
    return {"worker": worker_name(), **_STATE["versions"], "model_loads": _STATE["loads"],
            "environment": {k: os.environ.get(k) for k in WORKER_ENV_KEYS}}  # fmt: skip


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def jsonable(value: Any) -> Any:
    """Plain JSON for the results store; non-finite floats kept as text (a capped LR reads "inf")."""
    return plain_json(value, non_finite="text")


# ---------------------------------------------------------------------- hashing


def hash_one(path: str) -> dict[str, Any]:
    """SHA-256 of the file, read once, read-only; and the intake's refusal when its first bytes
    show it is no allowed image (so such files never need an analysis task)."""
    from examiner.core.formats import describe_unknown, detect_format

    try:
        # O_NONBLOCK: a path that became a FIFO after the walk must not hang the worker.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return {"sha256": None, "reason": "file not found (it vanished after the walk)"}
    except OSError as exc:
        return {"sha256": None, "reason": f"cannot be read ({exc.strerror or exc})"}
    sha = hashlib.sha256()
    head = b""
    size = 0
    try:
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return {"sha256": None, "reason": "is no longer a regular file; not read"}
            while chunk := fh.read(HASH_CHUNK_BYTES):
                if len(head) < 512:
                    head += chunk[: 512 - len(head)]
                sha.update(chunk)
                size += len(chunk)
    except OSError as exc:
        return {"sha256": None, "reason": f"cannot be read ({exc.strerror or exc})"}
    refusal = None if detect_format(head[:64]) is not None else describe_unknown(head)
    return {"sha256": sha.hexdigest(), "size": size, "refusal": refusal}


def hash_batch(items: list[tuple[int, str]]) -> list[dict[str, Any]]:
    name = worker_name()
    return [{"id": fid, "worker": name, **hash_one(path)} for fid, path in items]


# ---------------------------------------------------------------------- detection


def _intake_facts(ev: Any) -> dict[str, Any]:
    f = ev.facts
    return {"format": f.format, "width": f.width, "height": f.height, "md5": f.md5, "mode": f.mode,
            "bit_depth": f.bit_depth, "channels": f.channels, "conversions": list(f.conversions),
            "warnings": list(f.warnings), "trailing_bytes": f.trailing_bytes, "frames": f.frames}  # fmt: skip


def _open_checked(path: str, sha: str, max_pixels: int | None) -> Any:
    from examiner.core.evidence import open_evidence

    ev = open_evidence(path, max_pixels=max_pixels)
    if ev.sha256 != sha:
        raise ExaminerError(f"the file changed after it was hashed (SHA-256 {sha[:16]}... then, "
                            f"{ev.sha256[:16]}... now); not analysed")  # fmt: skip
    return ev


def analyse_one(sha: str, path: str, model_path: str | None, max_pixels: int | None) -> dict[str, Any]:
    from examiner.analysis.detector import detect_pixels

    model = ensure_model(model_path)
    out: dict[str, Any] = {"sha256": sha, **_STATE["versions"]}
    out.pop("model_file", None)
    t0 = time.perf_counter()
    try:
        ev = _open_checked(path, sha, max_pixels)
        det = detect_pixels(ev.pixels, path, model=model)
        d = det.to_dict()
        d.pop("error_rates", None)  # the same for every row: kept once, in the file's meta
        d.pop("path", None)
        lr = d.get("lr", getattr(det, "lr", None))
        verbal = d.get("verbal_scale", getattr(det, "verbal_scale", None))
        kind, rank = rank_value(d if "lr" in d else det)
        out.update(status="result", verdict=d.get("verdict"), score=float(d.get("score", det.score)),
                   lr=None if lr is None else float(lr), verbal_scale=None if verbal is None else str(verbal),
                   rank_kind=kind, rank=rank, rank_uncapped=uncapped_value(model, det),
                   data=jsonable({"detection": d, "intake": _intake_facts(ev)}))  # fmt: skip
    except EvidenceError as exc:
        out.update(status="refused", reason=exc.problem)
    except ExaminerError as exc:
        out.update(status="error", reason=exc.message)
    except MemoryError:
        out.update(status="error", reason="ran out of memory while analysing this image")
    except ValueError as exc:  # what the analysis code raises for images it cannot measure (too small)
        out.update(status="error", reason=f"cannot be analysed: {exc}")
    except Exception as exc:  # noqa: BLE001 - one bad file must not end the batch
        out.update(status="error", reason=f"internal error: {type(exc).__name__}: {exc}")
    out["seconds"] = time.perf_counter() - t0
    out["worker"] = worker_name()
    return out


def analyse_batch(items: list[tuple[str, str]], model_path: str | None, max_pixels: int | None) -> list[dict[str, Any]]:
    return [analyse_one(sha, path, model_path, max_pixels) for sha, path in items]


# ---------------------------------------------------------------------- follow-ups on the top-ranked


def _display_rgb8(pixels: np.ndarray) -> np.ndarray:
    px = pixels
    if px.dtype == np.uint16:
        px = (px >> 8).astype(np.uint8)
    if px.ndim == 2:
        px = np.repeat(px[:, :, None], 3, axis=2)
    return np.ascontiguousarray(px[:, :, :3].astype(np.uint8))


def thumbnail_jpeg(pixels: np.ndarray, size: int = THUMBNAIL_PX) -> bytes:
    from PIL import Image

    img = Image.fromarray(_display_rgb8(pixels))
    img.thumbnail((size, size))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def followup(kind: str, sha: str, path: str, params: dict[str, Any], max_pixels: int | None) -> dict[str, Any]:
    """A thumbnail, a codec identification or a seed-variability map of one top-ranked image."""
    out: dict[str, Any] = {"sha256": sha, "kind": kind, "tool_version": __version__, "worker": worker_name()}
    try:
        ev = _open_checked(path, sha, max_pixels)
        if kind == "thumbnail":
            out.update(status="result", blob=thumbnail_jpeg(ev.pixels), data={"max_px": THUMBNAIL_PX})
        elif kind == "identify":
            from examiner.analysis import identify

            codecs = params.get("codecs", "auto")
            ident = identify.identify(ev.pixels, None if codecs == "auto" else list(codecs),
                                      settings=_codec_settings(params))
            out.update(status="result", data=jsonable(ident.to_dict()))
        elif kind == "variability":
            out.update(_variability(ev.pixels, params))
        else:
            out.update(status="error", reason=f"unknown follow-up {kind!r}")
    except EvidenceError as exc:
        out.update(status="refused", reason=exc.problem)
    except ExaminerError as exc:
        out.update(status="error", reason=exc.message)
    except Exception as exc:  # noqa: BLE001 - a follow-up that fails is recorded, the run goes on
        out.update(status="error", reason=f"internal error: {type(exc).__name__}: {exc}")
    return out


def _codec_settings(params: dict[str, Any]) -> Settings:
    """The settings a follow-up runs codecs under: the screen's codec folders, default tiling."""
    from examiner.core.settings import Settings

    return Settings(extra_codec_dirs=[str(d) for d in params.get("codec_dirs") or []])


def _variability(pixels: np.ndarray, params: dict[str, Any]) -> dict[str, Any]:
    from examiner.analysis.variability import seed_variability
    from examiner.codecs.api import RunOptions
    from examiner.codecs.registry import get_codec

    codec = get_codec(str(params["codec"]), _codec_settings(params))
    quality = int(params.get("quality") or codec.info.qualities[0])
    result = seed_variability(codec, pixels, quality, RunOptions(seed=0), int(params.get("seeds", 8)))
    return {"status": "result", "data": jsonable({"codec": codec.info.id, "quality": quality, **result.summary()}),
            "blob": thumbnail_jpeg(result.map_uint8(), 256)}  # fmt: skip
