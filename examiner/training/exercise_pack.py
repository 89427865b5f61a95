"""Exercise packs: a case turned into a single-file training exercise with a hidden answer key.

A pack is a zip file holding

* ``manifest.json``: the pack format and version, a title, the instructor, the exercise items
  (image pairs, their size and the codec that made the reconstruction) and the SHA-256 and size
  of every other file in the pack;
* ``images/<item>-original.png`` and ``images/<item>-reconstruction.png``: the image pair of each
  item, as PNG;
* ``key.json``: the instructor's regions per item, the answer key.

Opening a pack verifies it: every listed file is present with its recorded hash and size, nothing
unlisted is present, the images decode to the recorded size, and the format version is one this
program reads. A tampered or damaged pack is refused with a message naming the file and problem.
The pack's *digest* is the SHA-256 of its manifest bytes; since the manifest holds the hashes of
everything else, it identifies the whole content. A training case records the digest it was
started from, and scoring refuses a pack with another digest (a key swapped after the start).
The hashes show damage and naive edits; they are not a signature, so someone able to rewrite the
whole pack consistently can make a new, valid one: keep the instructor's copy to compare digests.

Training mode (:func:`start_training_case`) builds an ordinary case from a pack with the
reconstructions as evidence and the originals as references, and without the key: the key stays
in the pack and is read only at scoring (:meth:`ExercisePack.read_key`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from examiner.core.atomic import write_atomically
from examiner.core.png import encode_png
from examiner.core.regions import Region
from examiner.core.tasks import TaskContext
from examiner.errors import ExaminerError
from examiner.training.provenance import EVIDENCE_ORIGIN_META_KEY

PACK_FORMAT = "miscompression-examiner-exercise-pack"
PACK_FORMAT_VERSION = 1
PACK_SUFFIX = ".mxpack"
MANIFEST_NAME = "manifest.json"
KEY_NAME = "key.json"
# A pack is opened before anything in it is trusted: refuse zip bombs and absurd member counts.
MAX_MEMBERS = 2000
MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
# What training cases keep about their pack in the case's meta table (never the key).
TRAINING_META_KEY = "training"


class PackError(ExaminerError):
    """An exercise pack that cannot be read or trusted."""


@dataclass
class PackImage:
    file: str
    sha256: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "sha256": self.sha256, "size": self.size}


@dataclass
class PackItem:
    """One exercise: an original, its reconstruction, and what made the reconstruction."""

    id: str
    title: str
    width: int
    height: int
    original: PackImage
    reconstruction: PackImage
    codec: dict[str, Any] | None = None  # {"codec", "quality", "bpp"} when known
    brief: str = ""  # what the trainee is told (never the answer)
    source: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "width": self.width,
            "height": self.height,
            "original": self.original.to_dict(),
            "reconstruction": self.reconstruction.to_dict(),
            "codec": self.codec,
            "brief": self.brief,
            "source": self.source,
        }


@dataclass
class ItemDraft:
    """An exercise item before it is written: pixels and the answer-key regions."""

    title: str
    original: np.ndarray
    reconstruction: np.ndarray
    key: list[Region]
    codec: dict[str, Any] | None = None
    brief: str = ""
    source: dict[str, Any] = field(default_factory=dict)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png_bytes(pixels: np.ndarray) -> bytes:
    """Lossless PNG of the pixels shown to trainees, in 8 bits (the shared encoder writes no
    timestamp, so the same exercise gives the same bytes)."""
    if pixels.dtype != np.uint8:
        from examiner.codecs.engine import to_8bit

        pixels = to_8bit(pixels)
    return encode_png(pixels)


def _canonical(data: Any) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _key_region_dict(r: Region) -> dict[str, Any]:
    d = r.to_dict()
    d["id"] = None
    d["evidence_id"] = 0
    d["locked"] = False
    return d


def write_pack(
    out: str | Path,
    items: list[ItemDraft],
    title: str,
    instructor: str,
    created_utc: str,
    source: dict[str, Any] | None = None,
    ctx: TaskContext | None = None,
) -> ExercisePack:
    """Write ``items`` as a pack at ``out`` (atomically; an existing file is refused) and
    return it opened (so verified)."""
    ctx = ctx or TaskContext()
    out = Path(out)
    if not items:
        raise PackError("an exercise pack needs at least one image pair")
    if out.exists():
        raise PackError(f"{out}: already exists; choose another file name")
    if not out.parent.is_dir():
        raise PackError(f"{out}: folder {out.parent} does not exist")
    files: dict[str, dict[str, Any]] = {}
    blobs: list[tuple[str, bytes]] = []
    manifest_items = []
    key: dict[str, list[dict[str, Any]]] = {}
    for n, draft in enumerate(items, start=1):
        ctx.progress(n - 1, len(items) + 1, f"writing item {n}")
        if draft.original.shape[:2] != draft.reconstruction.shape[:2]:
            raise PackError(f"item {n} ({draft.title}): original and reconstruction differ in size")
        item_id = f"{n:02d}"
        pair = {}
        for role, px in (("original", draft.original), ("reconstruction", draft.reconstruction)):
            data = png_bytes(px)
            if role == "reconstruction":
                from examiner.training.derived_xmp import annotate_png

                # Trainees' files travel on their own: each reconstruction says what made it.
                data = annotate_png(data, "training exercise reconstruction", pair["original"].sha256, draft.codec)
            name = f"images/{item_id}-{role}.png"
            blobs.append((name, data))
            files[name] = {"sha256": _sha(data), "size": len(data)}
            pair[role] = PackImage(name, _sha(data), len(data))
        h, w = draft.original.shape[:2]
        manifest_items.append(
            PackItem(item_id, draft.title, int(w), int(h), pair["original"], pair["reconstruction"],
                     draft.codec, draft.brief, draft.source).to_dict()
        )  # fmt: skip
        key[item_id] = [_key_region_dict(r) for r in draft.key]
    key_bytes = _canonical({"format": PACK_FORMAT + "-key", "format_version": PACK_FORMAT_VERSION, "items": key})
    blobs.append((KEY_NAME, key_bytes))
    files[KEY_NAME] = {"sha256": _sha(key_bytes), "size": len(key_bytes)}
    manifest = {
        "format": PACK_FORMAT,
        "format_version": PACK_FORMAT_VERSION,
        "title": title,
        "instructor": instructor,
        "created_utc": created_utc,
        "source": source or {},
        "items": manifest_items,
        "key": {"file": KEY_NAME, "regions": sum(len(v) for v in key.values())},
        "files": files,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        # Fixed member times: the same exercise gives the same pack bytes.
        for name, data in [(MANIFEST_NAME, _canonical(manifest)), *blobs]:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    write_atomically(out, buf.getvalue())
    ctx.progress(len(items) + 1, len(items) + 1, "pack written")
    return ExercisePack.open(out)


class ExercisePack:
    """A verified exercise pack (open with :meth:`open`)."""

    def __init__(self, path: Path, manifest: dict[str, Any], digest: str) -> None:
        self.path = path
        self.manifest = manifest
        self.digest = digest
        self.items = [_item_from_dict(d) for d in manifest["items"]]

    @property
    def title(self) -> str:
        return str(self.manifest.get("title", ""))

    @property
    def instructor(self) -> str:
        return str(self.manifest.get("instructor", ""))

    def item(self, item_id: str) -> PackItem:
        for it in self.items:
            if it.id == item_id:
                return it
        raise PackError(f"{self.path}: no item {item_id!r} in this pack")

    @classmethod
    def open(cls, path: str | Path) -> ExercisePack:
        """Open and verify a pack; :class:`PackError` names the file and the problem."""
        p = Path(path)
        if not p.is_file():
            raise PackError(f"{p}: no such exercise pack")
        try:
            with zipfile.ZipFile(p) as zf:
                return cls._verify(p, zf)
        except zipfile.BadZipFile as exc:
            raise PackError(f"{p}: not an exercise pack (not a readable zip file: {exc})") from None
        except OSError as exc:
            raise PackError(f"{p}: cannot read the pack ({exc.strerror or exc})") from None

    @classmethod
    def _verify(cls, p: Path, zf: zipfile.ZipFile) -> ExercisePack:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise PackError(f"{p}: refused: {len(infos)} files inside, more than a pack can hold ({MAX_MEMBERS})")
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise PackError(f"{p}: refused: a file name appears twice inside the pack")
        if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES or any(i.file_size > MAX_MEMBER_BYTES for i in infos):
            raise PackError(f"{p}: refused: the pack unpacks to more data than a pack may hold")
        if MANIFEST_NAME not in names:
            raise PackError(f"{p}: not an exercise pack (no {MANIFEST_NAME} inside)")
        manifest_bytes = zf.read(MANIFEST_NAME)
        try:
            manifest = json.loads(manifest_bytes.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise PackError(f"{p}: the pack manifest is not valid JSON ({str(exc)[:200]})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != PACK_FORMAT:
            raise PackError(f"{p}: not an exercise pack (unknown manifest format)")
        version = manifest.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise PackError(f"{p}: the pack manifest has no valid format version")
        if version > PACK_FORMAT_VERSION:
            raise PackError(
                f"{p}: pack format version {version} is newer than this program reads ({PACK_FORMAT_VERSION}); update the program"
            )
        files = manifest.get("files")
        if not isinstance(files, dict) or not isinstance(manifest.get("items"), list) or not manifest["items"]:
            raise PackError(f"{p}: the pack manifest lists no files or no items")
        for name in files:
            pp = PurePosixPath(name)
            if pp.is_absolute() or ".." in pp.parts or name == MANIFEST_NAME:
                raise PackError(f"{p}: refused: unsafe file name {name!r} in the manifest")
        extra = sorted(set(names) - set(files) - {MANIFEST_NAME})
        if extra:
            raise PackError(f"{p}: refused: file(s) not listed in the manifest: {', '.join(extra[:5])}")
        missing = sorted(set(files) - set(names))
        if missing:
            raise PackError(f"{p}: refused: file(s) listed in the manifest are missing: {', '.join(missing[:5])}")
        for name, rec in files.items():
            data = zf.read(name)
            if not isinstance(rec, dict) or rec.get("size") != len(data) or rec.get("sha256") != _sha(data):
                raise PackError(f"{p}: refused: {name} does not match its SHA-256 in the manifest (the pack was altered or damaged)")
        if KEY_NAME not in files:
            raise PackError(f"{p}: refused: the pack has no answer key")
        try:
            pack = cls(p, manifest, _sha(manifest_bytes))
        except (KeyError, TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise PackError(f"{p}: the pack manifest is malformed ({str(exc)[:200]})") from None
        ids = [it.id for it in pack.items]
        if len(set(ids)) != len(ids):
            raise PackError(f"{p}: refused: an item id appears twice in the manifest")
        for item in pack.items:
            for img in (item.original, item.reconstruction):
                if files.get(img.file, {}).get("sha256") != img.sha256:
                    raise PackError(f"{p}: refused: item {item.id} names {img.file} with a hash the file list does not hold")
                _check_png(p, img.file, zf.read(img.file), item.width, item.height)
        pack._parse_key(zf.read(KEY_NAME))
        return pack

    def read_bytes(self, name: str) -> bytes:
        """A member's bytes, checked again against the manifest (the file may have changed)."""
        rec = self.manifest["files"].get(name)
        if rec is None:
            raise PackError(f"{self.path}: no {name} in this pack")
        try:
            with zipfile.ZipFile(self.path) as zf:
                data = zf.read(name)
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise PackError(f"{self.path}: cannot read {name} ({exc})") from None
        if _sha(data) != rec["sha256"]:
            raise PackError(f"{self.path}: refused: {name} no longer matches its SHA-256 (the pack was altered)")
        return data

    def image(self, item: PackItem, role: str) -> np.ndarray:
        """Decoded pixels of an item's ``original`` or ``reconstruction``."""
        from PIL import Image

        img = item.original if role == "original" else item.reconstruction
        with Image.open(io.BytesIO(self.read_bytes(img.file))) as im:
            return np.asarray(im.convert("RGB") if im.mode not in ("RGB", "L") else im).copy()

    def _parse_key(self, data: bytes) -> dict[str, list[Region]]:
        try:
            doc = json.loads(data.decode("utf-8"))
            raw = doc["items"]
            key = {str(k): [Region.from_dict(r) for r in v] for k, v in raw.items()}
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError) as exc:
            raise PackError(f"{self.path}: the answer key is malformed ({exc})") from None
        unknown = set(key) - {it.id for it in self.items}
        if unknown:
            raise PackError(f"{self.path}: the answer key names unknown items: {', '.join(sorted(unknown))}")
        return key

    def read_key(self) -> dict[str, list[Region]]:
        """The answer key (item id -> regions); read from the pack only when scoring."""
        return self._parse_key(self.read_bytes(KEY_NAME))

    def summary(self) -> dict[str, Any]:
        """What a trainee may see: everything except the key's contents."""
        return {
            "path": str(self.path),
            "digest": self.digest,
            "format_version": self.manifest["format_version"],
            "title": self.title,
            "instructor": self.instructor,
            "created_utc": self.manifest.get("created_utc", ""),
            "items": [
                {"id": it.id, "title": it.title, "width": it.width, "height": it.height, "codec": it.codec, "brief": it.brief}
                for it in self.items
            ],
            "key_regions": int(self.manifest.get("key", {}).get("regions", 0)),
        }


_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def _safe_id(value: Any) -> str:
    """Item ids become file names in the trainee's folder: letters, digits, '-' and '_' only."""
    text = str(value)
    if not _SAFE_ID.fullmatch(text):
        raise ValueError(f"item id {text[:80]!r} is not a safe name (letters, digits, '-' and '_', at most 64)")
    return text


def _item_from_dict(d: dict[str, Any]) -> PackItem:
    def img(x: dict[str, Any]) -> PackImage:
        return PackImage(str(x["file"]), str(x["sha256"]), int(x["size"]))

    return PackItem(
        id=_safe_id(d["id"]), title=str(d.get("title", "")), width=int(d["width"]), height=int(d["height"]),
        original=img(d["original"]), reconstruction=img(d["reconstruction"]),
        codec=d.get("codec"), brief=str(d.get("brief", "")), source=dict(d.get("source") or {}),
    )  # fmt: skip


def _check_png(p: Path, name: str, data: bytes, width: int, height: int) -> None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format != "PNG":
                raise PackError(f"{p}: refused: {name} is not a PNG image")
            if im.size != (width, height):
                raise PackError(f"{p}: refused: {name} is {im.size[0]} x {im.size[1]}, the manifest says {width} x {height}")
            im.load()
    except PackError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure means a damaged image
        raise PackError(f"{p}: refused: {name} does not decode ({exc})") from None


# ---------------------------------------------------------------------------- from a case


def drafts_from_case(case_path: str | Path, ctx: TaskContext | None = None) -> tuple[list[ItemDraft], dict[str, Any], list[str]]:
    """Exercise items from a case: every evidence item with a reference original becomes an
    image pair, its regions the key. Returns the drafts, the case's details and notes on what
    was left out."""
    from examiner.core.case import Case
    from examiner.training.provenance import evidence_origin

    ctx = ctx or TaskContext()
    p = Path(case_path)
    if not p.is_file():
        raise PackError(f"{p}: no such case file")
    drafts: list[ItemDraft] = []
    notes: list[str] = []
    with Case.open(p, read_only=True) as case:
        if not case.integrity.ok:
            raise PackError(f"{p}: the case fails its integrity check: {'; '.join(case.integrity.problems())}")
        items = case.evidence()
        for n, item in enumerate(items):
            ctx.progress(n, max(1, len(items)), f"reading {item.name}")
            if not item.reference_path:
                notes.append(f"evidence {item.id} ({item.name}) has no reference original and was left out")
                continue
            ev = case.load_evidence(item.id)
            ref = case.load_reference(item.id)
            assert ref is not None
            if ref.shape[:2] != ev.pixels.shape[:2]:
                notes.append(f"evidence {item.id} ({item.name}) differs in size from its reference and was left out")
                continue
            drafts.append(
                ItemDraft(
                    title=item.name,
                    original=ref,
                    reconstruction=ev.pixels,
                    key=case.regions(item.id),
                    codec=evidence_origin(case, item.id),
                    source={"evidence_sha256": item.sha256, "reference_sha256": item.reference_sha256},
                )
            )
        details = case.details.to_dict()
    if not drafts:
        raise PackError(f"{p}: no evidence item with a reference original; a pack needs image pairs")
    return drafts, details, notes


def make_pack(case_path: str | Path, out: str | Path, title: str = "", instructor: str = "",
              ctx: TaskContext | None = None) -> tuple[ExercisePack, list[str]]:
    """Turn a case into an exercise pack; returns the opened pack and notes on what was left out."""
    from examiner.core.audit import utc_now

    drafts, details, notes = drafts_from_case(case_path, ctx)
    pack = write_pack(
        out,
        drafts,
        title=title or details.get("title") or f"Exercise from case {details.get('case_id', '')}",
        instructor=instructor or details.get("examiner", ""),
        created_utc=utc_now(),
        source={"case_id": details.get("case_id", ""), "case_file": Path(case_path).name},
        ctx=ctx,
    )
    return pack, notes


# ---------------------------------------------------------------------------- training mode


def _inside(folder: Path, name: str) -> Path:
    """``folder / name``, refused unless it resolves to a direct child of ``folder``."""
    target = (folder / name).resolve()
    if target.parent != folder.resolve():
        raise PackError(f"{folder}: refused: {name!r} would be written outside this folder")
    return target


def training_images_dir(case_path: str | Path) -> Path:
    p = Path(case_path)
    return p.with_name(p.stem + "-images")


def start_training_case(pack_path: str | Path, trainee: str, out: str | Path, ctx: TaskContext | None = None) -> Path:
    """A training-mode case from a pack: the reconstructions are the evidence, the originals
    their references, and the key is left in the pack. The images are written next to the case
    (``<case>-images/``), because a case refers to evidence files by path."""
    from examiner.core.case import Case

    ctx = ctx or TaskContext()
    pack = ExercisePack.open(pack_path)
    out = Path(out)
    if not trainee.strip():
        raise PackError("training needs the trainee's name (--trainee)")
    if out.exists():
        raise PackError(f"{out}: already exists; choose another case file name")
    if not out.parent.is_dir():
        raise PackError(f"{out}: folder {out.parent} does not exist")
    folder = training_images_dir(out)
    if folder.exists():
        raise PackError(f"{folder}: already exists; choose another case file name")
    folder.mkdir()
    written: list[Path] = []

    def _write_new(path: Path, data: bytes) -> None:
        # O_EXCL: never over an existing file (or through a link planted in the folder).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o444)
        written.append(path)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)

    items: dict[str, str] = {}
    origins: dict[str, Any] = {}
    try:
        with Case.create(out, case_id=f"TRAINING {pack.title}"[:200], examiner=trainee.strip(),
                         title=f"Training exercise: {pack.title}", actor=trainee.strip()) as case:  # fmt: skip
            for n, item in enumerate(pack.items):
                ctx.progress(n, len(pack.items), f"item {item.id}: {item.title}")
                rec = _inside(folder, f"{_safe_id(item.id)}-reconstruction.png")
                org = _inside(folder, f"{_safe_id(item.id)}-original.png")
                _write_new(rec, pack.read_bytes(item.reconstruction.file))
                _write_new(org, pack.read_bytes(item.original.file))
                ev = case.add_evidence(rec, reference=org)
                items[ev.sha256] = item.id
                if item.codec:
                    origins[ev.sha256] = item.codec
            case.set_meta(TRAINING_META_KEY, {
                "pack_digest": pack.digest,
                "pack_title": pack.title,
                "pack_file": pack.path.name,
                "format_version": pack.manifest["format_version"],
                "trainee": trainee.strip(),
                "items": items,
            })  # fmt: skip
            if origins:
                case.set_meta(EVIDENCE_ORIGIN_META_KEY, origins)
    except BaseException:
        out.unlink(missing_ok=True)
        for f in written:
            f.chmod(0o644)
            f.unlink(missing_ok=True)
        folder.rmdir()
        raise
    ctx.progress(len(pack.items), len(pack.items), "training case ready")
    return out


def training_info(case: Any) -> dict[str, Any] | None:
    """The training record of an open case (None for an ordinary case)."""
    info = case.get_meta(TRAINING_META_KEY)
    return info if isinstance(info, dict) else None
