"""Codec packs: a folder with a ``codec.toml`` manifest and an adapter module.

Packs are found in the project's top-level ``codecs/`` folder (next to the installed
``examiner`` package in a source or editable install), in ``examiner/data/codecs`` when a
wheel ships them, in the user codec directory (``<data dir>/codecs/packs``) and in every
folder listed in ``Settings.extra_codec_dirs``. Listing reads manifests with :mod:`tomllib`
only: nothing a pack ships is imported (and torch is never loaded) until a codec is run.
A pack names either an in-tree runner (:mod:`examiner.codecs.runners`) or an adapter file, which
is then imported from its file path and defines ``create(info) -> Codec``.

The manifest format is documented in ``codecs/README.md``.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from examiner.codecs.api import CodecFamily, CodecInfo
from examiner.codecs.runners import RUNNERS
from examiner.core.settings import Settings, user_codec_dir
from examiner.errors import CodecError

MANIFEST_NAME = "codec.toml"
# The manifest format this build reads. A manifest without the key predates it and is format 1;
# a newer one is refused by name rather than half-understood.
MANIFEST_VERSION = 1
CODEC_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
KNOWN_DEVICES = ("cpu", "cuda")
# Manifest keys of a [[codec]] table that map onto CodecInfo fields; everything else lands in
# CodecInfo.extra untouched, so packs can carry adapter-specific settings.
_CODEC_KEYS = {
    "id",
    "name",
    "family",
    "qualities",
    "range",
    "citations",
    "devices",
    "demonstration",
    "stochastic",
    "description",
}


@dataclass(frozen=True)
class Pack:
    """One pack folder as read from its manifest."""

    name: str
    directory: Path
    adapter: str | None
    licence: str
    origin: str  # built-in | package | user | extra
    codecs: tuple[CodecInfo, ...]
    runner: str | None = None
    manifest_version: int = MANIFEST_VERSION

    @property
    def manifest(self) -> Path:
        return self.directory / MANIFEST_NAME


@dataclass(frozen=True)
class PackProblem:
    """A pack that could not be read; listing goes on without it."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def builtin_codecs_dir() -> Path | None:
    """The project's ``codecs/`` folder next to the ``examiner`` package, in a source checkout or
    editable install only (recognised by the ``pyproject.toml`` beside it), so that an unrelated
    ``codecs`` folder in site-packages is never taken for it. Wheels carry the packs in
    ``examiner/data/codecs`` instead."""
    import examiner

    root = Path(examiner.__file__).resolve().parent.parent
    return root / "codecs" if (root / "pyproject.toml").is_file() else None


def packaged_codecs_dir() -> Path:
    """Packs copied into the package data when they ship inside a wheel."""
    import examiner

    return Path(examiner.__file__).resolve().parent / "data" / "codecs"


def user_packs_dir() -> Path:
    return user_codec_dir() / "packs"


def search_dirs(settings: Settings | None = None) -> list[tuple[Path, str]]:
    """Folders whose sub-folders are packs, in priority order (earlier wins on id clashes).

    ``settings`` add the user's extra folders; None means the built-in defaults (none).
    """
    if settings is None:
        settings = Settings()
    builtin = builtin_codecs_dir()
    dirs: list[tuple[Path, str]] = [(builtin, "built-in")] if builtin is not None else []
    dirs += [(packaged_codecs_dir(), "package"), (user_packs_dir(), "user")]
    dirs += [(Path(d).expanduser(), "extra") for d in settings.extra_codec_dirs]
    seen: set[Path] = set()
    unique: list[tuple[Path, str]] = []
    for d, origin in dirs:
        key = d.resolve() if d.exists() else d
        if key not in seen:
            seen.add(key)
            unique.append((d, origin))
    return unique


def _require(table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in table:
        raise CodecError(f"{where}: missing required key {key!r}")
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CodecError(f"{where}: key {key!r} has the wrong type ({type(value).__name__})")
    return value


def _str_tuple(table: dict[str, Any], key: str, where: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = table.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CodecError(f"{where}: {key!r} must be a list of strings")
    return tuple(value)


def _qualities(table: dict[str, Any], where: str) -> tuple[int, ...]:
    raw = _require(table, "qualities", list, where)
    if not raw or not all(isinstance(q, int) and not isinstance(q, bool) for q in raw):
        raise CodecError(f"{where}: 'qualities' must be a non-empty list of integers")
    if table.get("range", False):
        if len(raw) != 2 or raw[0] > raw[1]:
            raise CodecError(f"{where}: with range = true, 'qualities' must be [min, max]")
        return tuple(range(raw[0], raw[1] + 1))
    if sorted(set(raw)) != list(raw):
        raise CodecError(f"{where}: 'qualities' must be strictly increasing")
    return tuple(raw)


def _codec_info(table: dict[str, Any], pack_dir: Path, pack_table: dict[str, Any], where: str) -> CodecInfo:
    codec_id = _require(table, "id", str, where)
    if not CODEC_ID_RE.fullmatch(codec_id):
        raise CodecError(f"{where}: codec id {codec_id!r} must be lower-case letters, digits, '.', '_' or '-'")
    where = f"{where} (codec {codec_id!r})"
    family_raw = _require(table, "family", str, where)
    try:
        family = CodecFamily(family_raw)
    except ValueError:
        allowed = ", ".join(f.value for f in CodecFamily)
        raise CodecError(f"{where}: family {family_raw!r} is not one of {allowed}") from None
    devices = _str_tuple(table, "devices", where, ("cpu",))
    unknown = [d for d in devices if d not in KNOWN_DEVICES]
    if unknown or not devices:
        raise CodecError(f"{where}: devices must be taken from {KNOWN_DEVICES}, got {list(devices)}")
    for flag in ("demonstration", "stochastic", "range"):
        if not isinstance(table.get(flag, False), bool):
            raise CodecError(f"{where}: {flag!r} must be true or false")
    qualities = _qualities(table, where)
    weights = table.get("weights", [])
    if not isinstance(weights, list) or not all(isinstance(w, dict) for w in weights):
        raise CodecError(f"{where}: 'weights' must be an array of tables ([[codec.weights]])")
    for w in weights:
        q = w.get("quality")
        if not isinstance(w.get("file"), str) or not w["file"]:
            raise CodecError(f"{where}: every [[codec.weights]] entry needs a 'file'")
        if q not in qualities:
            raise CodecError(f"{where}: weights {w['file']!r} are for quality {q!r}, not one of the codec's")
        if "/" in w["file"] or "\\" in w["file"] or w["file"].startswith("."):
            raise CodecError(f"{where}: weight file names must be plain names, got {w['file']!r}")
        sha = w.get("sha256", "")
        if not isinstance(sha, str) or (sha and not re.fullmatch(r"[0-9a-f]{64}", sha)):
            raise CodecError(f"{where}: sha256 of {w['file']!r} must be 64 lower-case hex digits or empty")
        if "decoder_file" in w:
            # A decoder overlay (a fine-tuned g_s over the base file) is bundled and always checked.
            dec = w["decoder_file"]
            if not isinstance(dec, str) or not dec or "/" in dec or "\\" in dec or dec.startswith("."):
                raise CodecError(f"{where}: decoder_file must be a plain file name, got {dec!r}")
            dsha = w.get("decoder_sha256")
            if not isinstance(dsha, str) or not re.fullmatch(r"[0-9a-f]{64}", dsha) or not sha:
                raise CodecError(f"{where}: {dec!r} needs decoder_sha256 (64 lower-case hex digits) and the base file's sha256")
    if family is CodecFamily.EXTERNAL:
        ext = table.get("external")
        if not isinstance(ext, dict):
            raise CodecError(f"{where}: the external family needs a [codec.external] table")
        for key in ("encode", "decode"):
            argv = ext.get(key)
            if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
                raise CodecError(f"{where}: [codec.external] {key!r} must be a non-empty list of strings")
    extra = {k: v for k, v in table.items() if k not in _CODEC_KEYS}
    extra.setdefault("weights", [])
    extra["pack_name"] = pack_table.get("name", pack_dir.name)
    extra["licence"] = pack_table.get("licence", "")
    return CodecInfo(
        id=codec_id,
        name=str(table.get("name", codec_id)),
        family=family,
        qualities=qualities,
        citations=_str_tuple(table, "citations", where, ()),
        devices=devices,
        description=str(table.get("description", "")),
        demonstration=bool(table.get("demonstration", False)),
        stochastic=bool(table.get("stochastic", False)),
        pack_dir=str(pack_dir),
        extra=extra,
    )


def read_pack(pack_dir: Path, origin: str = "extra") -> Pack:
    """Read and validate one pack's manifest; raises :class:`CodecError` naming the file."""
    manifest = pack_dir / MANIFEST_NAME
    try:
        with manifest.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise CodecError(f"{manifest}: no codec.toml in this pack folder") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CodecError(f"{manifest}: unreadable manifest ({exc})") from exc
    where = str(manifest)
    pack_table = data.get("pack")
    if not isinstance(pack_table, dict):
        raise CodecError(f"{where}: missing [pack] table")
    name = _require(pack_table, "name", str, where)
    version = pack_table.get("manifest_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CodecError(f"{where}: 'manifest_version' must be a positive integer")
    if version > MANIFEST_VERSION:
        raise CodecError(
            f"{where}: manifest_version {version} is newer than this build reads ({MANIFEST_VERSION}); "
            "update Miscompression Examiner to use this pack"
        )
    adapter = pack_table.get("adapter")
    runner = pack_table.get("runner")
    if adapter is not None and runner is not None:
        raise CodecError(f"{where}: name either 'runner' or 'adapter', not both")
    if runner is not None and (not isinstance(runner, str) or runner not in RUNNERS):
        raise CodecError(f"{where}: runner {runner!r} is not one of {', '.join(sorted(RUNNERS))}")
    if adapter is not None:
        if not isinstance(adapter, str) or not adapter.endswith(".py"):
            raise CodecError(f"{where}: 'adapter' must name a .py file in the pack folder")
        target = (pack_dir / adapter).resolve()
        if pack_dir.resolve() not in target.parents:
            raise CodecError(f"{where}: adapter {adapter!r} lies outside the pack folder")
    codec_tables = data.get("codec")
    if not isinstance(codec_tables, list) or not codec_tables:
        raise CodecError(f"{where}: a pack needs at least one [[codec]] table")
    codecs = tuple(_codec_info(t, pack_dir, pack_table, where) for t in codec_tables)
    if adapter is None and runner is None and any(c.family is not CodecFamily.EXTERNAL for c in codecs):
        raise CodecError(f"{where}: only packs of external codecs may name neither 'runner' nor 'adapter'")
    ids = [c.id for c in codecs]
    if len(set(ids)) != len(ids):
        raise CodecError(f"{where}: codec ids repeat within the pack")
    return Pack(
        name=name,
        directory=pack_dir,
        adapter=adapter,
        licence=str(pack_table.get("licence", "")),
        origin=origin,
        codecs=codecs,
        runner=runner,
        manifest_version=version,
    )


# Parsed manifests by path and origin, with the file's stat stamp when read: listing runs on
# every get_codec call and in every GUI refresh, and re-parsing unchanged TOML is wasted work.
_manifest_cache: dict[tuple[Path, str], tuple[tuple[int, ...], Pack | CodecError]] = {}
_manifest_cache_lock = threading.Lock()


def _stamp(path: Path) -> tuple[int, ...] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    # ctime and inode as well as mtime: an atomic replace that preserves mtime still counts.
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def _read_pack_cached(pack_dir: Path, origin: str) -> Pack:
    manifest = pack_dir / MANIFEST_NAME
    stamp = _stamp(manifest)
    key = (manifest, origin)
    with _manifest_cache_lock:
        hit = _manifest_cache.get(key)
    if stamp is not None and hit is not None and hit[0] == stamp:
        outcome = hit[1]
    else:
        try:
            outcome = read_pack(pack_dir, origin)
        except CodecError as exc:
            outcome = exc
        if stamp is not None:
            with _manifest_cache_lock:
                _manifest_cache[key] = (stamp, outcome)
    if isinstance(outcome, CodecError):
        raise outcome
    return outcome


def discover_packs(settings: Settings | None = None) -> tuple[list[Pack], list[PackProblem]]:
    """Every readable pack, and a problem entry for each folder that is not one."""
    packs: list[Pack] = []
    problems: list[PackProblem] = []
    for base, origin in search_dirs(settings):
        if not base.is_dir():
            continue
        for sub in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
            if not (sub / MANIFEST_NAME).exists():
                continue
            try:
                packs.append(_read_pack_cached(sub, origin))
            except CodecError as exc:
                problems.append(PackProblem(sub / MANIFEST_NAME, str(exc).split(": ", 1)[-1]))
    return packs, problems


_adapter_lock = threading.Lock()
ADAPTER_API = "examiner.codecs.api"


def _check_adapter_imports(path: Path) -> None:
    """Refuse an adapter that reaches past the codec API into the examiner's internals: such a
    pack breaks silently when those internals change. In-tree engines are named as runners."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError) as exc:
        raise CodecError(f"{path}: the adapter cannot be read as Python ({exc})") from exc
    for node in ast.walk(tree):
        # (what the line names, whether it is the API itself)
        names: list[tuple[str, bool]] = []
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Import):
            names = [(a.name, a.name == ADAPTER_API) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [
                (f"{node.module}.{a.name}", ADAPTER_API in (node.module, f"{node.module}.{a.name}"))
                for a in node.names
            ]
        for name, is_api in names:
            if (name == "examiner" or name.startswith("examiner.")) and not is_api:
                raise CodecError(
                    f"{path}: the adapter imports {name} (line {node.lineno}); a pack adapter may import "
                    f"only {ADAPTER_API} from this program. For a built-in engine name it in the manifest "
                    f"instead: runner = one of {', '.join(sorted(RUNNERS))}"
                )


def load_adapter(pack: Pack) -> ModuleType | SimpleNamespace:
    """What makes the pack's codecs: its in-tree runner, or its adapter module imported from its
    file (once per file per process). Either has ``create(info)``."""
    if pack.runner is not None:
        return SimpleNamespace(create=RUNNERS[pack.runner])
    if pack.adapter is None:
        return SimpleNamespace(create=RUNNERS["external"])
    path = (pack.directory / pack.adapter).resolve()
    if not path.is_file():
        raise CodecError(f"{pack.manifest}: adapter file {path} does not exist")
    _check_adapter_imports(path)
    module_name = "examiner_pack_" + re.sub(r"\W", "_", str(path))
    with _adapter_lock:
        module = sys.modules.get(module_name)
        if module is not None:
            return module
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise CodecError(f"{path}: cannot be imported as a codec adapter")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[module_name]
            raise CodecError(f"{path}: the adapter failed to import ({type(exc).__name__}: {exc})") from exc
    if not callable(getattr(module, "create", None)):
        raise CodecError(f"{path}: the adapter defines no create(info) function")
    return module
