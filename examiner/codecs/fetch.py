"""Fetching the official CompressAI weight files from their published addresses, on an explicit
command only.

The addresses are CompressAI's own: ``compressai/zoo/image.py`` (CompressAI 1.2.8) publishes
every model file as ``<root_url>/<file name>`` with ``root_url`` below, and the file names are
those the ``compressai`` pack's manifest lists (``<model>-<quality>-<8 hex>.pth.tar``, the 8 hex
being the start of the file's SHA-256). A fetched file is written into a private temporary
folder, then brought into the weight store by :func:`examiner.codecs.weights.import_weights`:
the very checks ``examiner codecs import`` makes (name, SHA-256 prefix, safe load), and the same
atomic copy. A download that fails, stalls, is cut short or has the wrong hash leaves nothing
behind. ``EXAMINER_WEIGHTS_BASE_URL`` replaces the address, for a lab's own mirror.
"""

from __future__ import annotations

import http.client
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from examiner.codecs.api import CodecInfo
from examiner.codecs.weights import ImportResult, import_weights, parse_weight_name, store_dir
from examiner.errors import WeightsError

# compressai/zoo/image.py, CompressAI 1.2.8: root_url = "https://compressai.s3.amazonaws.com/models/v1"
DEFAULT_BASE_URL = "https://compressai.s3.amazonaws.com/models/v1"
BASE_URL_ENV = "EXAMINER_WEIGHTS_BASE_URL"
FETCH_RUNNER = "compressai"  # packs whose files CompressAI publishes
DEFAULT_TIMEOUT_S = 30.0
CHUNK = 1 << 16


@dataclass(frozen=True)
class WeightSource:
    """One published weight file: which codec and quality use it, and where it is."""

    codec_id: str
    quality: int
    file: str
    url: str
    sha256_prefix: str
    sha256: str = ""  # the full hash where the manifest records one


def base_url(override: str = "") -> str:
    """The address the files are fetched from: ``override``, else the environment variable, else
    CompressAI's published one."""
    return (override.strip() or os.environ.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL).rstrip("/")


def weight_sources(
    infos: list[CodecInfo], models: list[str] | None = None, qualities: list[int] | None = None, base: str = ""
) -> list[WeightSource]:
    """The files for codecs ``models`` (every fetchable codec when empty) at ``qualities`` (all
    when empty). ``infos`` are the fetchable codecs (those of a CompressAI pack). An unknown
    model or quality is refused with the valid ones named."""
    by_id = {info.id: info for info in infos}
    wanted = list(dict.fromkeys(models or by_id))
    unknown = [m for m in wanted if m not in by_id]
    if unknown:
        raise WeightsError(
            f"no published weight files for: {', '.join(unknown)}; codecs that can be fetched: "
            f"{', '.join(sorted(by_id)) or 'none'}"
        )
    root = base_url(base)
    out: list[WeightSource] = []
    for mid in wanted:
        info = by_id[mid]
        if qualities:
            bad = [q for q in qualities if q not in info.qualities]
            if bad:
                raise WeightsError(f"{mid} has no quality {', '.join(map(str, bad))}; it has {', '.join(map(str, info.qualities))}")
        for w in info.extra.get("weights", []):
            q = int(w.get("quality", -1))
            wn = parse_weight_name(str(w.get("file", "")))
            if wn is None or (qualities and q not in qualities):
                continue
            out.append(WeightSource(mid, q, str(w["file"]), f"{root}/{w['file']}", wn.prefix, str(w.get("sha256") or "")))
    return out


Progress = Callable[[int, int | None, str], None]  # (bytes so far, bytes expected or None, file)


def _opener(proxy: str | None) -> urllib.request.OpenerDirector:
    # An explicit --proxy wins; otherwise the usual http(s)_proxy variables apply.
    handlers: list[urllib.request.BaseHandler] = []
    if proxy:
        handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
    return urllib.request.build_opener(*handlers)


def download(source: WeightSource, target: Path, proxy: str | None = None, timeout: float = DEFAULT_TIMEOUT_S,
             progress: Progress | None = None) -> int:
    """Write ``source`` to ``target`` and return its size. Refuses a download that stalls for
    ``timeout`` seconds, or that ends before its announced length."""
    started = time.monotonic()
    try:
        with _opener(proxy).open(source.url, timeout=timeout) as resp, target.open("wb") as out:
            length_text = resp.headers.get("Content-Length")
            expected = int(length_text) if length_text and length_text.isdigit() else None
            done = 0
            while True:
                try:
                    chunk = resp.read(CHUNK)
                except http.client.IncompleteRead as exc:
                    done += len(exc.partial)
                    chunk = b""
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, expected, source.file)
    except urllib.error.HTTPError as exc:
        raise WeightsError(f"{source.url}: the server answered {exc.code} {exc.reason}") from None
    except TimeoutError:
        waited = time.monotonic() - started
        raise WeightsError(
            f"{source.url}: no data for {timeout:g} s (gave up after {waited:.0f} s); the server or the network stalls. "
            "Try again later, use --proxy, or fetch the file on another machine ('examiner codecs urls') and import it"
        ) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise WeightsError(f"{source.url}: cannot download ({reason})") from None
    if expected is not None and done != expected:
        raise WeightsError(f"{source.url}: the download was cut short ({done:,} of {expected:,} bytes); nothing was kept")
    return done


def fetch(
    sources: list[WeightSource],
    infos: list[CodecInfo] | None = None,
    proxy: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    progress: Progress | None = None,
) -> list[ImportResult]:
    """Download each file and import it exactly as ``codecs import`` does. Files already in the
    store with their recorded hash are not downloaded again."""
    from examiner.codecs.weights import installed_files

    results: list[ImportResult] = []
    have = installed_files()
    store = store_dir()
    store.mkdir(parents=True, exist_ok=True)
    for src in sources:
        if src.file in have and (store / src.file).is_file():
            rec = have[src.file]
            results.append(ImportResult(src.url, src.file, str(rec.get("sha256", "")), int(rec.get("size", 0)), True,
                                        (f"{src.codec_id}@{src.quality}",)))  # fmt: skip
            continue
        # A private folder beside the store: the file keeps its published name, which the
        # import checks, and whatever happens the folder goes.
        tmp = Path(tempfile.mkdtemp(prefix=".fetch-", dir=store.parent))
        try:
            part = tmp / src.file
            download(src, part, proxy, timeout, progress)
            if src.sha256:
                from examiner.codecs.weights import sha256_file

                if sha256_file(part) != src.sha256:
                    raise WeightsError(f"{src.url}: refused: its SHA-256 is not the one the codec pack records")
            try:
                imported = import_weights([part], infos)
            except WeightsError as exc:
                raise WeightsError(str(exc).replace(str(part), src.url)) from None
            results.extend(replace(r, source=src.url) for r in imported)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return results
