"""C2PA Content Credentials at intake: recorded, validated offline, never fetched."""

from __future__ import annotations

import contextlib
import http.server
import io
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from c2pa_signing import TRAINED, SuiteSigner, make_signer, sign
from imagegen import pattern
from PIL import Image

from examiner.core.credentials import read_credentials
from examiner.core.evidence import open_evidence
from examiner.core.inspection import inspect_image

pytest.importorskip("c2pa")


@pytest.fixture(scope="module")
def signer() -> SuiteSigner:
    return make_signer()


def jpeg(seed: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pattern(48, 64, seed)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pattern(48, 64)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Python-level guard: any socket connection attempt from this process is recorded and fails."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network access during intake")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield attempts


@pytest.mark.parametrize(("fmt", "mime", "make"), [("jpeg", "image/jpeg", jpeg), ("png", "image/png", png)])
def test_signed_image_shows_its_manifest(tmp_path: Path, signer: SuiteSigner, no_network: list[object],
                                         fmt: str, mime: str, make: object) -> None:  # fmt: skip
    p = tmp_path / f"signed.{fmt}"
    p.write_bytes(sign(make(), mime, signer))  # type: ignore[operator]
    report = inspect_image(p)
    cred = report["provenance"]["c2pa"]
    assert cred["status"] == "untrusted signer"  # intact, but no trust list is configured
    assert "No trust list is fetched" in cred["trust"]
    assert cred["claim_generator"] == ["suite-neural-codec 1.0"]
    assert cred["signer"]["common_name"] == "Suite Test Signer"
    assert [c["subject"] for c in cred["certificate_chain"]] == [
        "O=Suite Test Lab,CN=Suite Test Signer", "O=Suite Test Lab,CN=Suite Test Root CA"]
    act = cred["actions"][0]
    assert (act["action"], act["digital_source_type"], act["learned"]) == ("c2pa.created", TRAINED, True)
    assert any("declares the action c2pa.created with digital source type trainedAlgorithmicMedia" in s
               for s in report["provenance"]["statements"])  # fmt: skip
    assert no_network == []


def test_pixels_changed_after_signing_show_a_hash_mismatch(tmp_path: Path, signer: SuiteSigner) -> None:
    signed = sign(jpeg(), "image/jpeg", signer)
    sos = signed.rindex(b"\xff\xda")
    tampered = bytearray(signed)
    tampered[sos + 200] ^= 0x01
    cred = read_credentials(bytes(tampered), "jpeg")
    assert cred is not None and cred["status"] == "hash mismatch"
    assert "assertion.dataHash.mismatch" in cred["failure_codes"]


def test_altered_claim_shows_a_broken_signature(tmp_path: Path, signer: SuiteSigner) -> None:
    signed = sign(jpeg(), "image/jpeg", signer, generator="suite-neural-codeX")
    assert signed.count(b"suite-neural-codeX") >= 1
    altered = signed.replace(b"suite-neural-codeX", b"suite-neural-codeY")
    cred = read_credentials(altered, "jpeg")
    assert cred is not None and cred["status"] == "signature broken", cred["failure_codes"]


def test_stripped_copy_and_plain_file_show_no_credential(tmp_path: Path, signer: SuiteSigner) -> None:
    signed = sign(jpeg(), "image/jpeg", signer)
    stripped = io.BytesIO()
    Image.open(io.BytesIO(signed)).save(stripped, "JPEG", quality=90)
    assert read_credentials(stripped.getvalue(), "jpeg") is None
    p = tmp_path / "plain.jpg"
    p.write_bytes(jpeg())
    prov = inspect_image(p)["provenance"]
    assert prov["c2pa"] is None and "evidence of nothing by itself" in prov["inference"]


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_remote_manifest_is_recorded_and_never_fetched(tmp_path: Path, signer: SuiteSigner) -> None:
    import c2pa

    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.hits = []
    try:
        url = f"http://127.0.0.1:{server.server_port}/manifest.c2pa"
        p = tmp_path / "remote.jpg"
        p.write_bytes(sign(jpeg(), "image/jpeg", signer, remote_url=url))
        ev = open_evidence(p)
        assert ev.pixels.shape == (48, 64, 3)
        cred = inspect_image(p)["provenance"]["c2pa"]
        assert cred["status"] == "remote manifest not fetched" and cred["remote_url"] == url
        assert _Recorder.hits == []  # the native library made no request
        # The library's default does fetch: the server above would have seen it (the guard can fail).
        with contextlib.suppress(c2pa.C2paError):
            c2pa.Reader("image/jpeg", io.BytesIO(p.read_bytes()))
        assert _Recorder.hits == ["/manifest.c2pa"]
    finally:
        server.shutdown()


def test_signed_pixels_are_examined_unchanged(tmp_path: Path, signer: SuiteSigner) -> None:
    plain = jpeg(3)
    p = tmp_path / "signed.jpg"
    p.write_bytes(sign(plain, "image/jpeg", signer))
    q = tmp_path / "plain.jpg"
    q.write_bytes(plain)
    assert np.array_equal(open_evidence(p).pixels, open_evidence(q).pixels)


def test_signed_heic_and_jxl_are_taken_in_with_their_credentials(tmp_path: Path, signer: SuiteSigner) -> None:
    from provenance_images import heic_8bit, jxl_lossless

    files = {"heic": (heic_8bit(pattern(48, 64)), "image/heic"),
             "jxl": (jxl_lossless(tmp_path, pattern(48, 64), container=True), "image/jxl")}  # fmt: skip
    for ext, (data, mime) in files.items():
        p = tmp_path / f"signed.{ext}"
        p.write_bytes(sign(data, mime, signer))
        before = p.read_bytes()
        report = inspect_image(p)
        assert p.read_bytes() == before
        assert report["provenance"]["c2pa"]["status"] == "untrusted signer", ext
        assert report["provenance"]["c2pa"]["actions"][0]["learned"] is True
    heic = (tmp_path / "signed.heic").read_bytes()
    mdat = heic.index(b"mdat")
    tampered = bytearray(heic)
    tampered[mdat + 40] ^= 0x01
    cred = read_credentials(bytes(tampered), "heif")
    assert cred is not None and cred["status"] == "hash mismatch", cred and cred["failure_codes"]
