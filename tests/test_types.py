"""The type checker passes over the Qt-free packages, under the configuration in pyproject.toml.

mypy keeps its cache in .mypy_cache (ignored by git): the first run on a fresh clone takes about
20-40 s on two shared cores, later runs recheck only what changed (about a second)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from typing import Any

from conftest import REPO_ROOT

CHECKED = {
    "examiner/core",
    "examiner/findings",
    "examiner/workflows",
    "examiner/report",
    "examiner/screening",
    "examiner/codecs",
}


def _config() -> dict[str, Any]:
    with open(REPO_ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["mypy"]


def test_mypy_checks_the_qt_free_packages_strictly() -> None:
    config = _config()
    assert set(config["files"]) >= CHECKED
    assert config["strict"] is True
    # Every relaxation names the modules it applies to; none switches checking off wholesale.
    for override in config.get("overrides", []):
        assert override.get("module"), override
        assert not override.get("ignore_errors"), override


def test_mypy_passes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir", str(REPO_ROOT / ".mypy_cache")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
