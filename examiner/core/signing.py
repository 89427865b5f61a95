"""Ed25519 signatures over audit-chain heads, made with an examiner's own key.

A signature binds a head (entry number and hash, see :mod:`examiner.core.anchor`) to a key that
only the examiner holds, so a case rewritten by someone without the key no longer carries a
valid signature by that key. Signatures are kept in the case's audit log (action
:data:`SIGN_ACTION`, or inside a report export's entry) and printed in reports. They prove
something only when checked against a public key obtained from outside the case file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from examiner.core.anchor import AnchorReport, ChainHead
from examiner.core.audit import AuditEntry
from examiner.core.safe_files import open_regular
from examiner.errors import ExaminerError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGN_ACTION = "audit.head_signed"
SIGNATURE_PARAM = "head_signature"
_MAX_KEY_FILE = 16 * 1024


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:  # pragma: no cover - a declared dependency
        raise ExaminerError("signing needs the 'cryptography' package, which is not installed") from None
    return ed25519


def fingerprint(public_raw: bytes) -> str:
    """Short name of a public key: the first 16 hex digits of the SHA-256 of its 32 bytes."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def _public_raw(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def generate_key(out: str | Path) -> tuple[Path, Path, str]:
    """Write a new private key to ``out`` (mode 0600, never overwriting) and its public key
    to ``out.pub``; returns both paths and the fingerprint."""
    from cryptography.hazmat.primitives import serialization

    ed = _crypto()
    priv_path = Path(out)
    pub_path = priv_path.with_name(priv_path.name + ".pub")
    for p in (priv_path, pub_path):
        if p.exists() or p.is_symlink():
            raise ExaminerError(f"{p}: already exists; keys are never overwritten")
    if not priv_path.parent.is_dir():
        raise ExaminerError(f"{priv_path}: folder {priv_path.parent} does not exist")
    key = ed.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    raw = _public_raw(key.public_key())
    _write_new(priv_path, pem, 0o600)
    _write_new(pub_path, (raw.hex() + "\n").encode("ascii"), 0o644)
    return priv_path, pub_path, fingerprint(raw)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise ExaminerError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _read_small(path: Path) -> bytes:
    try:
        with open_regular(path) as fh:
            data = fh.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise ExaminerError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > _MAX_KEY_FILE:
        raise ExaminerError(f"{path}: too large to be a key file")
    return data


def load_private_key(path: str | Path) -> Any:
    from cryptography.hazmat.primitives import serialization

    ed = _crypto()
    p = Path(path)
    try:
        key = serialization.load_pem_private_key(_read_small(p), password=None)
    except (ValueError, TypeError) as exc:
        raise ExaminerError(f"{p}: not an unencrypted examiner private key ({exc})") from None
    if not isinstance(key, ed.Ed25519PrivateKey):
        raise ExaminerError(f"{p}: not an Ed25519 key")
    return key


def load_public_key(spec: str) -> bytes:
    """A public key as 64 hex digits, or the path of a ``.pub`` file holding them."""
    text = spec.strip()
    if not _is_hex_key(text):
        text = _read_small(Path(spec)).decode("ascii", "replace").strip()
        if not _is_hex_key(text):
            raise ExaminerError(f"{spec}: not an examiner public key (64 hex digits)")
    return bytes.fromhex(text)


def _is_hex_key(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text)


def sign_head(private_key: Any, head: ChainHead) -> dict[str, Any]:
    """The signature record kept in the log and printed in reports (deterministic: Ed25519)."""
    raw = _public_raw(private_key.public_key())
    return {
        "seq": head.seq,
        "entry_hash": head.entry_hash,
        "public_key": raw.hex(),
        "fingerprint": fingerprint(raw),
        "signature": private_key.sign(head.message()).hex(),
    }


def signature_valid(record: dict[str, Any]) -> bool:
    from cryptography.exceptions import InvalidSignature

    ed = _crypto()
    try:
        head = ChainHead(int(record["seq"]), str(record["entry_hash"]))
        pub = ed.Ed25519PublicKey.from_public_bytes(bytes.fromhex(str(record["public_key"])))
        pub.verify(bytes.fromhex(str(record["signature"])), head.message())
    except (InvalidSignature, KeyError, TypeError, ValueError):
        return False
    return True


def signatures_in(entries: list[AuditEntry]) -> list[tuple[int, dict[str, Any]]]:
    """(seq of the entry holding it, record) for every head signature in the log."""
    out = []
    for e in entries:
        rec = e.params.get(SIGNATURE_PARAM)
        if isinstance(rec, dict):
            out.append((e.seq, rec))
    return out


def check_signatures(entries: list[AuditEntry], trusted: list[bytes]) -> AnchorReport:
    """Every signature in the log must be valid and match the entry it names; with trusted
    keys, at least one valid signature must be by one of them."""
    out = AnchorReport()
    by_seq = {e.seq: e.entry_hash for e in entries}
    trusted_hex = {k.hex() for k in trusted}
    newest_trusted = 0
    for where, rec in signatures_in(entries):
        label = f"signature in entry {where} (key {rec.get('fingerprint', '?')}) over head {rec.get('seq')}:{rec.get('entry_hash')}"
        if not signature_valid(rec):
            out.problems.append(f"{label}: the signature is not valid (forged or altered)")
            continue
        seq = rec.get("seq")
        if (by_seq.get(seq) if isinstance(seq, int) else None) != rec.get("entry_hash"):
            out.problems.append(f"{label}: that entry no longer has that hash (the log was rewritten after signing)")
            continue
        if rec.get("public_key") in trusted_hex:
            newest_trusted = max(newest_trusted, int(rec["seq"]))
        elif trusted:
            out.notes.append(f"{label}: valid, but by a key that was not given as trusted")
    last = entries[-1].seq if entries else 0
    if trusted:
        names = ", ".join(fingerprint(k) for k in trusted)
        if not newest_trusted:
            out.problems.append(f"no valid signature by the trusted key(s) {names} in the log (removed, or never signed)")
        else:
            after = last - newest_trusted
            out.notes.append(
                f"entries 1-{newest_trusted} are signed by the trusted key(s) {names}"
                + (f"; the {after} entries after it are not covered by a signature" if after else "")
            )
    elif signatures_in(entries):
        out.notes.append("signatures found but not checked against a trusted key (give --public-key): anyone can sign")
    out.ok = not out.problems
    return out
