"""What each SHA-256 in a case, a report or a JSON output is taken over.

Three digests, named for what they hash, and defined here only:

* ``pixels_sha256``: the decoded sample array (row-major, C order, native uint8/uint16 bytes,
  no header). Two images with the same pixels have the same value whatever file they came in.
* ``file_sha256``: the bytes of a file on disk (evidence at intake, an ``--out`` file).
* ``artefact_sha256``: the bytes of a blob stored in a case (a reconstruction PNG, a bitstream,
  a map). It is the key the blob is stored under, so the case can re-hash and check it.

Because every PNG is written by :func:`examiner.core.png.encode_png`, the ``--out`` file of a CLI
run and the artefact stored for the same run are the same bytes: their ``file_sha256`` and
``artefact_sha256`` are equal.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from examiner.core.safe_files import open_regular

# Files are hashed in pieces of this size, so memory stays flat whatever the file's size.
HASH_CHUNK_BYTES = 1 << 20


def pixels_sha256(pixels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()


def artefact_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path) -> str:
    """Streamed and read-only; a path that is not a regular file is refused (EvidenceError), not
    read, so a FIFO or device cannot hang the caller."""
    digest = hashlib.sha256()
    with open_regular(path) as fh:
        while chunk := fh.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
