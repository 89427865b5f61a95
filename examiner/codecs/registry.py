"""Find codecs by id and list them with their availability.

Listing reads pack manifests only (no adapter import, no torch). :func:`get_codec` imports the
pack's adapter and calls its ``create(info)``; codec objects are cached per process.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass

from examiner.codecs import weights as weight_store
from examiner.codecs.api import Codec, CodecFamily, CodecInfo
from examiner.codecs.packs import Pack, PackProblem, discover_packs, load_adapter
from examiner.core.settings import Settings
from examiner.errors import CodecError


@dataclass(frozen=True)
class CodecEntry:
    info: CodecInfo
    pack: Pack
    available: bool
    reason: str  # why not available (empty when it is)
    weights_installed: tuple[int, ...] | None  # qualities with weights; None: needs none

    def to_record(self) -> dict[str, object]:
        info = self.info
        return {
            "id": info.id,
            "name": info.name,
            "family": info.family.value,
            "qualities": list(info.qualities),
            "devices": list(info.devices),
            "citations": list(info.citations),
            "demonstration": info.demonstration,
            "stochastic": info.stochastic,
            "available": self.available,
            "reason": self.reason,
            "weights_required": self.weights_installed is not None,
            "weights_installed": None if self.weights_installed is None else list(self.weights_installed),
            "pack": self.pack.name,
            "pack_dir": str(self.pack.directory),
            "origin": self.pack.origin,
            "description": info.description,
        }


def _catalogue(settings: Settings | None) -> tuple[dict[str, tuple[CodecInfo, Pack]], list[PackProblem]]:
    packs, problems = discover_packs(settings)
    found: dict[str, tuple[CodecInfo, Pack]] = {}
    for pack in packs:
        for info in pack.codecs:
            if info.id in found:
                first = found[info.id][1]
                problems.append(
                    PackProblem(
                        pack.manifest,
                        f"codec id {info.id!r} is already provided by {first.manifest}; this one is ignored",
                    )
                )
                continue
            found[info.id] = (info, pack)
    return found, problems


def static_availability(info: CodecInfo) -> tuple[bool, str, tuple[int, ...] | None]:
    """Whether a codec can run here, judged from its manifest alone."""
    feature = info.extra.get("pil_feature")
    if feature:
        from PIL import features

        try:
            ok = bool(features.check(str(feature)))
        except ValueError:
            ok = False
        if not ok:
            return False, f"this Pillow build lacks {feature} support", None
    if info.family is CodecFamily.EXTERNAL:
        ext = info.extra.get("external", {})
        for key in ("encode", "decode"):
            tool = ext.get(key, [""])[0]
            if tool and shutil.which(tool) is None:
                return False, f"program {tool!r} is not installed (see the pack's README)", None
    if info.extra.get("weights"):
        installed = tuple(weight_store.installed_qualities(info))
        if not installed:
            return False, "no weight files installed (examiner codecs import FILE...)", installed
        return True, "", installed
    return True, "", None


def list_codecs(settings: Settings | None = None) -> tuple[list[CodecEntry], list[PackProblem]]:
    found, problems = _catalogue(settings)
    entries = []
    for info, pack in found.values():
        try:
            ok, reason, installed = static_availability(info)
        except CodecError as exc:
            ok, reason, installed = False, str(exc), None
        if installed == () and pack.runner == "compressai":
            # CompressAI publishes these files: say how to get them.
            reason = f"no weight files installed (examiner codecs fetch {info.id}; offline: codecs urls, then codecs import)"
        entries.append(CodecEntry(info, pack, ok, reason, installed))
    return entries, problems


def codec_infos(settings: Settings | None = None) -> list[CodecInfo]:
    return [info for info, _ in _catalogue(settings)[0].values()]


def catalogue_with_packs(settings: Settings | None = None) -> list[tuple[CodecInfo, Pack]]:
    """Every codec with the pack that provides it."""
    return list(_catalogue(settings)[0].values())


def get_info(codec_id: str, settings: Settings | None = None) -> tuple[CodecInfo, Pack]:
    found, problems = _catalogue(settings)
    if codec_id not in found:
        known = ", ".join(sorted(found)) or "none"
        hint = f"; unreadable packs: {'; '.join(map(str, problems))}" if problems else ""
        raise CodecError(f"unknown codec {codec_id!r} (known: {known}){hint}")
    return found[codec_id]


_cache: dict[tuple[str, str, str], Codec] = {}
_cache_lock = threading.Lock()


def get_codec(codec_id: str, settings: Settings | None = None) -> Codec:
    """The runnable codec for ``codec_id``; imports its pack's adapter on first use."""
    info, pack = get_info(codec_id, settings)
    # The manifest's state is part of the key: a long-lived worker process must not keep using
    # a codec object built from a manifest that has since been changed.
    try:
        st = pack.manifest.stat()
        stamp = f"{st.st_mtime_ns}:{st.st_size}"
    except OSError:
        stamp = ""
    key = (codec_id, str(pack.directory), stamp)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    module = load_adapter(pack)
    factory = getattr(module, "create", None)
    if factory is None:
        raise CodecError(f"{pack.manifest}: the adapter defines no create(info)")
    try:
        codec = factory(info)
    except CodecError:
        raise
    except Exception as exc:
        raise CodecError(f"{pack.manifest}: create() failed for {codec_id!r} ({type(exc).__name__}: {exc})") from exc
    if not isinstance(codec, Codec):
        raise CodecError(f"{pack.manifest}: create() for {codec_id!r} did not return a codec object")
    with _cache_lock:
        _cache[key] = codec
    return codec


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
