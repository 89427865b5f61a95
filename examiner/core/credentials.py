"""C2PA Content Credentials at intake, read with the official c2pa-python library, offline.

The library fetches a manifest stored at a remote address, and certificate status (OCSP), by
default; both are turned off here, so intake makes no network access. A manifest stored remotely
is recorded with its address and never fetched. No trust list is fetched or configured either, so
a credential whose signature and hashes check out is reported as signed by an *untrusted* signer:
the report says so instead of pretending to know who the signer is.

The validation status is one of:

* ``valid``: signature and hashes check out and the signer is trusted (only with a configured
  trust list, which the tool does not have; listed for completeness);
* ``untrusted signer``: signature and hashes check out; the signer is on no trust list;
* ``hash mismatch``: the image data (or an assertion) changed after signing;
* ``signature broken``: the claim's signature does not verify or its certificate is unusable;
* ``invalid``: other validation failures (listed by code);
* ``remote manifest not fetched`` and ``unreadable`` for the two cases with nothing to validate.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

from examiner.core.text_safety import safe_text

READER_SETTINGS: dict[str, Any] = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_after_reading": True},
}
MIME = {"jpeg": "image/jpeg", "png": "image/png", "tiff": "image/tiff", "webp": "image/webp",
        "avif": "image/avif", "heif": "image/heic", "jxl": "image/jxl"}  # fmt: skip
TRUST_NOTE = (
    "No trust list is fetched or configured (the tool works offline): a signer is reported as "
    "untrusted even when the signature is intact; who the signer is must be judged from the certificate."
)
SIGNATURE_CODES = ("claimSignature.mismatch", "claimSignature.missing", "claimSignature.outsideValidity",
                   "signingCredential.invalid", "signingCredential.revoked", "signingCredential.expired",
                   "timeStamp.mismatch", "algorithm.unsupported")  # fmt: skip
HASH_CODES = ("assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch",
              "assertion.collectionHash.mismatch", "assertion.hashedURI.mismatch", "assertion.hashedURI.missing",
              "assertion.dataHash.malformed")  # fmt: skip
LEARNED = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicallyEnhanced")
MAX_LIST = 64


def _context() -> Any:
    import c2pa

    return c2pa.Context(settings=c2pa.Settings.from_dict(READER_SETTINGS))


def might_hold_credentials(data: bytes) -> bool:
    """Cheap byte test before the native reader is involved: the JUMBF label, or the XMP
    property that points at a remote manifest."""
    return b"c2pa" in data or b"dcterms:provenance" in data or b"/dc/terms/" in data


def read_credentials(data: bytes, fmt: str) -> dict[str, Any] | None:
    """The active Content Credential of the bytes, or None when the file carries none."""
    mime = MIME.get(fmt)
    if mime is None or not might_hold_credentials(data):
        return None
    try:
        import c2pa
    except Exception as exc:  # noqa: BLE001 - the native library may be missing on a machine
        return {"status": "unreadable", "error": f"c2pa-python is not usable here ({safe_text(exc, 160)})"}
    try:
        reader = c2pa.Reader(mime, io.BytesIO(data), context=_context())
    except c2pa.C2paError as exc:
        text = " ".join(str(exc).split())
        if "ManifestNotFound" in type(exc).__name__ or "no JUMBF" in text or "not found" in text.lower():
            return None
        if "Remote" in type(exc).__name__ or text.startswith("Remote"):
            url = text.rsplit("url ", 1)[-1] if "url " in text else ""
            return {"status": "remote manifest not fetched", "remote_url": safe_text(url, 400),
                    "note": "the file points at a manifest stored elsewhere; the tool makes no network access",
                    "trust": TRUST_NOTE}  # fmt: skip
        return {"status": "unreadable", "error": safe_text(text, 300)}
    with reader:
        try:
            store = json.loads(reader.json())
            results = reader.get_validation_results() or {}
            state = reader.get_validation_state()
            cr = json.loads(reader.crjson())
        except Exception as exc:  # noqa: BLE001 - a malformed store is reported, not raised
            return {"status": "unreadable", "error": safe_text(exc, 300)}
    return summarise(store, results, state, cr, data)


def summarise(store: dict[str, Any], results: dict[str, Any], state: str | None, cr: dict[str, Any], data: bytes) -> dict[str, Any]:
    label = store.get("active_manifest")
    manifest = (store.get("manifests") or {}).get(label) or {}
    active = results.get("activeManifest") or {}
    failures = [str(f.get("code", "")) for f in active.get("failure") or []]
    status = _status(failures)
    sig = manifest.get("signature_info") or {}
    cert_info = _crjson_certificate(cr, label)
    return {
        "status": status,
        "validation_state": safe_text(state or "", 40),
        "failure_codes": [safe_text(c, 80) for c in failures][:MAX_LIST],
        "failures": [safe_text(f"{f.get('code')}: {f.get('explanation', '')}", 300) for f in active.get("failure") or []][:MAX_LIST],
        "manifest_label": safe_text(label or "", 200),
        "manifests": len(store.get("manifests") or {}),
        "claim_generator": _claim_generator(manifest),
        "title": safe_text(manifest.get("title") or "", 200),
        "signer": {
            "common_name": safe_text(sig.get("common_name") or "", 200),
            "issuer": safe_text(sig.get("issuer") or "", 200),
            "algorithm": safe_text(sig.get("alg") or "", 40),
            "serial_number": safe_text(sig.get("cert_serial_number") or "", 80),
            "certificate": cert_info,
        },
        "signing_time": safe_text(sig["time"], 80) if sig.get("time") else None,
        "certificate_chain": certificate_chain(data, label or ""),
        "actions": _actions(manifest),
        "ingredients": _ingredients(manifest),
        "assertions": [safe_text(a.get("label", ""), 120) for a in manifest.get("assertions") or []][:MAX_LIST],
        "trust": TRUST_NOTE,
    }


def _status(failures: list[str]) -> str:
    if any(c in SIGNATURE_CODES or c.startswith("claimSignature.") for c in failures):
        return "signature broken"
    if any(c in HASH_CODES or c.endswith("Hash.mismatch") for c in failures):
        return "hash mismatch"
    rest = [c for c in failures if c != "signingCredential.untrusted"]
    if rest:
        return "invalid"
    if failures:
        return "untrusted signer"
    return "valid"


def _claim_generator(manifest: dict[str, Any]) -> list[str]:
    out = []
    for info in manifest.get("claim_generator_info") or []:
        if isinstance(info, dict):
            out.append(safe_text(" ".join(str(info.get(k, "")) for k in ("name", "version")).strip(), 200))
    if manifest.get("claim_generator"):
        out.append(safe_text(manifest["claim_generator"], 200))
    return out[:MAX_LIST]


def _agent(value: Any) -> str:
    if isinstance(value, dict):
        return safe_text(" ".join(str(value.get(k, "")) for k in ("name", "version")).strip(), 200)
    return safe_text(value or "", 200)


def _actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for assertion in manifest.get("assertions") or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for act in (assertion.get("data") or {}).get("actions") or []:
            if len(out) >= MAX_LIST:
                return out
            dst = str(act.get("digitalSourceType") or "")
            out.append({
                "action": safe_text(act.get("action", ""), 120),
                "digital_source_type": safe_text(dst, 200) or None,
                "learned": dst.rsplit("/", 1)[-1] in LEARNED,
                "software_agent": _agent(act.get("softwareAgent")) or None,
                "when": safe_text(act.get("when"), 80) if act.get("when") else None,
                "description": safe_text(act.get("description"), 300) if act.get("description") else None,
            })  # fmt: skip
    return out


def _ingredients(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for ing in (manifest.get("ingredients") or [])[:MAX_LIST]:
        out.append({
            "title": safe_text(ing.get("title", ""), 200),
            "format": safe_text(ing.get("format", ""), 80),
            "relationship": safe_text(ing.get("relationship", ""), 40),
            "instance_id": safe_text(ing.get("instance_id", ""), 200),
            "has_manifest": bool(ing.get("active_manifest") or ing.get("manifest_data")),
        })  # fmt: skip
    return out


def _crjson_certificate(cr: dict[str, Any], label: str | None) -> dict[str, Any] | None:
    for m in cr.get("manifests") or []:
        if isinstance(m, dict) and m.get("label") == label:
            info = (m.get("signature") or {}).get("certificateInfo") or {}
            return {
                "subject": {safe_text(k, 20): safe_text(v, 200) for k, v in (info.get("subject") or {}).items()},
                "issuer": {safe_text(k, 20): safe_text(v, 200) for k, v in (info.get("issuer") or {}).items()},
                "not_before": safe_text((info.get("validity") or {}).get("notBefore", ""), 40),
                "not_after": safe_text((info.get("validity") or {}).get("notAfter", ""), 40),
            }
    return None


def certificate_chain(data: bytes, label: str, limit: int = 8) -> list[dict[str, Any]]:
    """The certificates (x5chain) in the active manifest's signature box, leaf first. The box is
    found after the manifest's label; DER certificates in it are parsed with ``cryptography``."""
    from cryptography import x509

    start = data.find(label.encode("utf-8")) if label else -1
    at = data.find(b"c2pa.signature", max(start, 0))
    if start < 0 or at < 0:
        return []
    window = data[at : at + 65536]
    chain: list[dict[str, Any]] = []
    pos = 0
    while len(chain) < limit:
        pos = window.find(b"\x30\x82", pos)
        if pos < 0:
            break
        length = int.from_bytes(window[pos + 2 : pos + 4], "big") + 4
        try:
            cert = x509.load_der_x509_certificate(window[pos : pos + length])
        except ValueError:
            pos += 1
            continue
        chain.append({
            "subject": safe_text(cert.subject.rfc4514_string(), 300),
            "issuer": safe_text(cert.issuer.rfc4514_string(), 300),
            "serial_number": format(cert.serial_number, "x"),
            "not_before": cert.not_valid_before_utc.isoformat(),
            "not_after": cert.not_valid_after_utc.isoformat(),
            "sha256": hashlib.sha256(window[pos : pos + length]).hexdigest(),
        })  # fmt: skip
        pos += length
    return chain


def credential_statements(cred: dict[str, Any] | None) -> list[str]:
    """What a credential declares, worded as the file's claim and with its validation status."""
    if not cred:
        return []
    status = cred.get("status", "")
    if status == "remote manifest not fetched":
        return [f"this file points at a Content Credential stored at {cred.get('remote_url')} (not fetched: offline)"]
    if status == "unreadable":
        return ["this file carries a Content Credential that could not be read"]
    out = []
    for act in cred.get("actions") or []:
        if act.get("digital_source_type"):
            name = str(act["digital_source_type"]).rsplit("/", 1)[-1]
            learned = " (a trained model made or changed the pixels)" if act.get("learned") else ""
            out.append(f"a Content Credential ({status}) declares the action {act['action']} with digital source type {name}{learned}")
    if not out:
        gen = ", ".join(cred.get("claim_generator") or []) or "an unnamed tool"
        out.append(f"a Content Credential ({status}) made by {gen} declares no digital source type")
    return out
