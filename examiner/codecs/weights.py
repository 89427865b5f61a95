"""Model weights: the user's offline weight store, import checks and safe loading.

Official CompressAI files are named ``<model>-<quality>-<8 hex>.pth.tar``, the 8 hex being the
start of the file's SHA-256. Import copies such a file into ``<data dir>/codecs/weights`` after
checking that prefix and after loading it once the safe way; the full hash is recorded then in
``index.json`` and checked again at every load. Loading reads the bytes once, hashes exactly
those bytes and unpickles them with ``torch.load(weights_only=True)`` (or reads safetensors), so
a file that would run code is refused and nothing can swap the file between check and load.

Nothing here imports torch at module level: listing codecs must stay light.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from examiner.codecs.api import CodecInfo
from examiner.core.atomic import write_atomically
from examiner.core.hashes import file_sha256
from examiner.core.settings import user_codec_dir
from examiner.errors import WeightsError

# <stem>-<8 hex>.<ext>; the stem itself ends in -<quality> for the CompressAI zoo.
WEIGHT_NAME_RE = re.compile(r"^(?P<stem>[A-Za-z0-9][A-Za-z0-9_.-]*?)-(?P<prefix>[0-9a-f]{8})\.(?P<ext>pth\.tar|pth|pt|safetensors)$")
INDEX_NAME = "index.json"


@dataclass(frozen=True)
class WeightName:
    stem: str
    prefix: str
    ext: str

    @property
    def is_safetensors(self) -> bool:
        return self.ext == "safetensors"


def parse_weight_name(name: str) -> WeightName | None:
    m = WEIGHT_NAME_RE.fullmatch(name)
    return None if m is None else WeightName(m["stem"], m["prefix"], m["ext"])


def store_dir() -> Path:
    return user_codec_dir() / "weights"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# The weight store's name for the one file digest (core.hashes), kept for its callers.
sha256_file = file_sha256


def _read_index() -> dict[str, dict[str, Any]]:
    p = store_dir() / INDEX_NAME
    if not p.exists():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WeightsError(f"{p}: the weight store index is unreadable ({exc})") from exc
    if not isinstance(data, dict):
        raise WeightsError(f"{p}: the weight store index is not a JSON object")
    return data


def _write_index(index: dict[str, dict[str, Any]]) -> None:
    d = store_dir()
    d.mkdir(parents=True, exist_ok=True)
    write_atomically(d / INDEX_NAME, json.dumps(index, indent=2, sort_keys=True))


def installed_files() -> dict[str, dict[str, Any]]:
    """Imported weight files that are still present: name -> index record."""
    d = store_dir()
    return {name: rec for name, rec in _read_index().items() if (d / name).is_file()}


# --- safe loading -------------------------------------------------------------------------


def _tensor_dict(obj: Any, where: str) -> dict[str, Any]:
    import torch

    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj:
        raise WeightsError(f"{where}: does not hold a state dict of tensors")
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise WeightsError(f"{where}: holds entries that are not tensors ({bad[:3]})")
    return obj


def load_state_dict_bytes(data: bytes, where: str, safetensors: bool = False) -> dict[str, Any]:
    """Unpickle tensors only; anything that would run code or build objects is refused."""
    import pickle

    import torch

    if safetensors:
        from safetensors.torch import load as st_load

        try:
            return _tensor_dict(st_load(data), where)
        except WeightsError:
            raise
        except Exception as exc:  # safetensors raises its own error types
            raise WeightsError(f"{where}: not a valid safetensors file ({exc})") from exc
    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(
            f"{where}: refused: the file is a pickle that would build objects or run code, "
            f"not plain tensors ({first})"
        ) from exc
    except Exception as exc:  # torch raises RuntimeError, EOFError, zip errors ...
        raise WeightsError(f"{where}: not a readable PyTorch weight file ({type(exc).__name__}: {exc})") from exc
    return _tensor_dict(obj, where)


def check_digest(path: Path, digest: str, expected_sha256: str | None, expected_prefix: str | None = None) -> None:
    """Raise unless ``digest`` (of ``path``) is the recorded SHA-256 and has the named prefix."""
    if expected_sha256 and digest != expected_sha256:
        raise WeightsError(f"{path}: SHA-256 {digest} does not match the recorded {expected_sha256}; the file changed")
    if expected_prefix and not digest.startswith(expected_prefix):
        raise WeightsError(f"{path}: SHA-256 starts with {digest[:8]}, not {expected_prefix} as its name says")


def load_verified(
    path: str | Path, expected_sha256: str | None = None, expected_prefix: str | None = None
) -> tuple[dict[str, Any], str]:
    """Read ``path``, check its SHA-256, then load it safely; returns (state dict, sha256).

    At least one of the expected values must be given: weights are never loaded unchecked.
    """
    p = Path(path)
    if not expected_sha256 and not expected_prefix:
        raise WeightsError(f"{p}: no known SHA-256 to check the weights against; refusing to load them")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise WeightsError(f"{p}: cannot read weight file ({exc.strerror or exc})") from exc
    digest = sha256_bytes(data)
    check_digest(p, digest, expected_sha256, expected_prefix)
    name = parse_weight_name(p.name)
    is_st = p.name.endswith(".safetensors") or (name is not None and name.is_safetensors)
    return load_state_dict_bytes(data, str(p), safetensors=is_st), digest


# --- import -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    source: str
    name: str
    sha256: str
    size: int
    already_present: bool
    used_by: tuple[str, ...]  # codec-id@quality entries whose manifest lists this stem


def _manifest_users(stem: str, infos: list[CodecInfo] | None) -> tuple[str, ...]:
    users: list[str] = []
    for info in infos or []:
        for w in info.extra.get("weights", []):
            wn = parse_weight_name(w["file"])
            if wn is not None and wn.stem == stem:
                users.append(f"{info.id}@{w['quality']}")
    return tuple(users)


def _checkpoint_users(name: str, infos: list[CodecInfo] | None) -> tuple[str, ...]:
    """Codecs whose manifest names ``name`` exactly as a whole training checkpoint
    (``whole_checkpoint = true``: HiFiC, CDC), whose authors publish neither hashes nor hash
    prefixes; such files are imported by name and their hash is recorded here."""
    users: list[str] = []
    for info in infos or []:
        if not info.extra.get("whole_checkpoint"):
            continue
        for w in info.extra.get("weights", []):
            if w.get("file") == name:
                users.append(f"{info.id}@{w['quality']}")
    return tuple(users)


def _check_checkpoint_bytes(data: bytes, where: str) -> None:
    """A whole checkpoint (tensors plus plain Python values such as ``args``) must unpickle with
    ``weights_only=True``; anything that would build objects or run code is refused."""
    import pickle

    import torch

    try:
        torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"{where}: refused: the checkpoint would build objects or run code ({first})") from exc
    except Exception as exc:  # torch raises RuntimeError, EOFError, zip errors ...
        raise WeightsError(f"{where}: not a readable PyTorch checkpoint ({type(exc).__name__}: {exc})") from exc


def import_weights(files: list[str | Path], infos: list[CodecInfo] | None = None) -> list[ImportResult]:
    """Check and copy weight files into the user store. All files are checked before any is
    copied, so a bad file in a batch leaves the store untouched."""
    checked: list[tuple[Path, WeightName | None, str, int]] = []
    for f in files:
        p = Path(f)
        if not p.is_file():
            raise WeightsError(f"{p}: no such weight file")
        wn = parse_weight_name(p.name)
        if wn is None and _checkpoint_users(p.name, infos):
            data = p.read_bytes()
            _check_checkpoint_bytes(data, str(p))
            checked.append((p, None, sha256_bytes(data), len(data)))
            continue
        if wn is None:
            raise WeightsError(
                f"{p}: refused: weight files must be named <model>-<quality>-<8 hex of SHA-256>.pth.tar "
                "(or .pth, .pt, .safetensors), as CompressAI names its official files"
            )
        data = p.read_bytes()
        digest = sha256_bytes(data)
        if not digest.startswith(wn.prefix):
            raise WeightsError(
                f"{p}: refused: its SHA-256 starts with {digest[:8]}, not {wn.prefix} as its name says "
                "(a corrupted, altered or renamed file)"
            )
        # Load once the safe way now, so a file that cannot be loaded never enters the store.
        load_state_dict_bytes(data, str(p), safetensors=wn.is_safetensors)
        checked.append((p, wn, digest, len(data)))
    results: list[ImportResult] = []
    d = store_dir()
    d.mkdir(parents=True, exist_ok=True)
    index = _read_index()
    for p, wn, digest, size in checked:
        target = d / p.name
        present = target.is_file() and index.get(p.name, {}).get("sha256") == digest
        if not present:
            fd, tmp = tempfile.mkstemp(dir=d, prefix=".import-")
            os.close(fd)
            shutil.copyfile(p, tmp)
            if sha256_file(Path(tmp)) != digest:
                os.unlink(tmp)
                raise WeightsError(f"{p}: the file changed while it was being imported")
            os.replace(tmp, target)
            index[p.name] = {
                "sha256": digest,
                "size": size,
                "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "source": str(p.resolve()),
            }
            _write_index(index)
        users = _checkpoint_users(p.name, infos) if wn is None else _manifest_users(wn.stem, infos)
        results.append(ImportResult(str(p), p.name, digest, size, present, users))
    return results


# --- resolution for a codec ---------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedWeights:
    path: Path
    expected_sha256: str | None
    expected_prefix: str | None
    official: bool  # the very file the manifest names (same name, same hash)
    origin: str  # explicit | bundled | store
    note: str = ""


def manifest_entry(info: CodecInfo, quality: int) -> dict[str, Any] | None:
    for w in info.extra.get("weights", []):
        if isinstance(w, dict) and w.get("quality") == quality:
            return w
    return None


def resolve(info: CodecInfo, quality: int, explicit: str | Path | None = None) -> ResolvedWeights:
    """Find the weight file for ``info`` at ``quality``: an explicit file, a file bundled in the
    pack, the manifest's file in the user store, or another correctly named file of the same
    model and quality in the store (recorded as not the published file)."""
    entry = manifest_entry(info, quality)
    if explicit is not None:
        p = Path(explicit)
        if not p.is_file():
            raise WeightsError(f"{p}: no such weight file")
        wn = parse_weight_name(p.name)
        full = None
        if entry is not None and entry.get("file") == p.name and entry.get("sha256"):
            full = entry["sha256"]
        if wn is None and full is None:
            raise WeightsError(
                f"{p}: an explicit weight file must be named <model>-<quality>-<8 hex of SHA-256>.pth.tar "
                "so that its hash can be checked"
            )
        official = entry is not None and entry.get("file") == p.name
        return ResolvedWeights(p, full, None if wn is None else wn.prefix, official, "explicit")
    if entry is None:
        raise WeightsError(f"codec {info.id!r} lists no weight file for quality {quality}")
    name = entry["file"]
    if not isinstance(name, str) or name in ("", ".", "..") or Path(name).name != name or "\\" in name:
        # The name is joined to the pack folder and the store: it must not lead out of them.
        raise WeightsError(f"{info.pack_dir}: the manifest's weight file name {str(name)[:100]!r} is not a plain file name")
    bundled = Path(info.pack_dir) / name
    if bundled.is_file():
        sha = entry.get("sha256") or None
        wn = parse_weight_name(name)
        if sha is None and wn is None:
            raise WeightsError(f"{bundled}: the pack bundles this file but its manifest records no sha256")
        return ResolvedWeights(bundled, sha, None if wn is None else wn.prefix, True, "bundled")
    installed = installed_files()
    d = store_dir()
    wn = parse_weight_name(name)
    if name in installed:
        rec_sha = installed[name].get("sha256")
        expected = entry.get("sha256") or rec_sha
        if entry.get("sha256") and rec_sha and rec_sha != entry["sha256"]:
            raise WeightsError(f"{d / name}: recorded SHA-256 differs from the pack manifest's")
        return ResolvedWeights(d / name, expected, None if wn is None else wn.prefix, True, "store")
    if wn is not None:
        for other, rec in sorted(installed.items()):
            own = parse_weight_name(other)
            if own is not None and own.stem == wn.stem and own.ext == wn.ext:
                return ResolvedWeights(
                    d / other,
                    rec.get("sha256"),
                    own.prefix,
                    False,
                    "store",
                    note=(
                        f"weights {other} are not the published file {name} "
                        f"(hash prefix {own.prefix}, published {wn.prefix})"
                    ),
                )
    raise WeightsError(
        f"codec {info.id!r} quality {quality}: weight file {name} is not installed; "
        f"import it with `examiner codecs import {name}`"
    )


def installed_qualities(info: CodecInfo) -> list[int]:
    """Qualities of ``info`` whose weights resolve, without reading or loading any file."""
    out: list[int] = []
    for q in info.qualities:
        try:
            resolve(info, q)
        except WeightsError:
            continue
        out.append(q)
    return out
