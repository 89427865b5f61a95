"""``examiner codecs fetch`` and ``codecs urls`` against a loopback HTTP server this test starts:
a good file, a wrong hash, a download cut short and a server that stalls. No other network."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from examiner.cli import main
from examiner.codecs.fetch import BASE_URL_ENV, DEFAULT_BASE_URL, WeightSource, fetch
from examiner.codecs.weights import installed_files, store_dir
from examiner.errors import WeightsError

OFFICIAL_Q1 = "bmshj2018-factorized-prior-1-446d5c7f.pth.tar"


def state_dict_bytes(seed: int = 0) -> bytes:
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save({"weight": torch.arange(6, dtype=torch.float32) + seed}, buf)
    return buf.getvalue()


class Server:
    """Serves ``files[path] = (body, mode)``; mode is ``good``, ``short`` (announces more bytes
    than it sends) or ``stall`` (sends the headers and some bytes, then nothing)."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.requests: list[str] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                outer.requests.append(self.path)
                name = self.path.rsplit("/", 1)[-1]
                if name not in outer.files:
                    self.send_error(404)
                    return
                body, mode = outer.files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) + (1000 if mode == "short" else 0)))
                self.end_headers()
                if mode == "stall":
                    self.wfile.write(body[:10])
                    self.wfile.flush()
                    outer.release.wait(30)
                    return
                self.wfile.write(body)
                self.wfile.flush()
                if mode == "short":
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/models/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    s = Server()
    monkeypatch.setenv(BASE_URL_ENV, s.base)
    yield s
    s.close()


def named(data: bytes, stem: str = "tiny-1") -> str:
    return f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}.pth.tar"


def source(server: Server, name: str) -> WeightSource:
    return WeightSource("tiny", 1, name, f"{server.base}/{name}", name.rsplit("-", 1)[1][:8])


def leftovers() -> list[Path]:
    """Anything in or beside the store that a failed fetch could have left."""
    base = store_dir().parent
    return [p for p in base.rglob("*") if p.name.startswith(".fetch-") or p.name.startswith(".import-")] if base.exists() else []


def test_good_file_is_checked_stored_and_not_fetched_twice(server: Server) -> None:
    data = state_dict_bytes()
    name = named(data)
    server.files[name] = (data, "good")
    seen: list[tuple[int, int | None]] = []
    [r] = fetch([source(server, name)], progress=lambda done, total, _f: seen.append((done, total)))
    assert not r.already_present and r.sha256 == hashlib.sha256(data).hexdigest()
    assert (store_dir() / name).read_bytes() == data
    assert installed_files()[name]["sha256"] == r.sha256
    assert seen and seen[-1] == (len(data), len(data))
    [again] = fetch([source(server, name)])
    assert again.already_present and len(server.requests) == 1
    assert not leftovers()


def test_wrong_hash_is_refused_and_nothing_is_kept(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    # The official name promises a SHA-256 starting 446d5c7f; these bytes do not have it.
    server.files[OFFICIAL_Q1] = (state_dict_bytes(1), "good")
    code = main(["codecs", "fetch", "bmshj2018-factorized-mse", "--quality", "1"])
    err = capsys.readouterr().err
    assert code != 0
    assert "refused" in err and "446d5c7f" in err and f"{server.base}/{OFFICIAL_Q1}" in err
    assert server.requests == [f"/models/v1/{OFFICIAL_Q1}"]
    assert not (store_dir() / OFFICIAL_Q1).exists() and OFFICIAL_Q1 not in installed_files()
    assert not leftovers()


def test_download_cut_short_is_refused(server: Server) -> None:
    data = state_dict_bytes(2)
    name = named(data)
    server.files[name] = (data, "short")
    with pytest.raises(WeightsError, match="cut short"):
        fetch([source(server, name)], timeout=5)
    assert not (store_dir() / name).exists() and not leftovers()


def test_stalled_server_times_out_with_a_clear_message(server: Server) -> None:
    data = state_dict_bytes(3)
    name = named(data)
    server.files[name] = (data, "stall")
    with pytest.raises(WeightsError, match="no data for 0.5 s") as err:
        fetch([source(server, name)], timeout=0.5)
    assert "codecs urls" in str(err.value)
    assert not (store_dir() / name).exists() and not leftovers()


def test_unknown_model_and_quality_are_refused_before_any_download(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codecs", "fetch", "no-such-codec"]) != 0
    assert "bmshj2018-factorized-mse" in capsys.readouterr().err
    assert main(["codecs", "fetch", "bmshj2018-factorized-mse", "--quality", "99"]) != 0
    assert "has no quality 99" in capsys.readouterr().err
    assert server.requests == []


def test_urls_prints_names_addresses_and_hash_prefixes(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(BASE_URL_ENV, raising=False)
    assert main(["codecs", "urls", "bmshj2018-factorized-mse", "--quality", "1"]) == 0
    out = capsys.readouterr().out
    assert f"{DEFAULT_BASE_URL}/{OFFICIAL_Q1}" in out and "446d5c7f" in out
    monkeypatch.setenv(BASE_URL_ENV, "http://mirror.lab.example/w/")
    assert main(["codecs", "urls", "--json"]) == 0
    out = capsys.readouterr().out
    assert f"http://mirror.lab.example/w/{OFFICIAL_Q1}" in out
    # Demonstration codecs ship their weights and are never fetched.
    assert "examiner-demo" not in out


def test_codecs_without_an_action_lists_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codecs"]) == 0
    out = capsys.readouterr().out
    assert "bmshj2018-factorized-mse" in out and "examiner codecs fetch bmshj2018-factorized-mse" in out
