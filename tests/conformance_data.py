"""Where the conformance data for the generative codecs lives ($EXAMINER_CONFORMANCE_DIR, by
default ../shared/conformance next to the repository); tests skip with a reason without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def conformance_dir(*parts: str) -> Path:
    base = Path(os.environ.get("EXAMINER_CONFORMANCE_DIR", REPO_ROOT.parent / "shared" / "conformance"))
    p = base.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs the conformance data at {p} (set EXAMINER_CONFORMANCE_DIR), which is absent")
    return p
