"""Shared fixtures. Tests never touch the user's real config or data directories."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("EXAMINER_SHARED_DIR", REPO_ROOT.parent / "shared"))


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path_factory.mktemp("userdirs")
    monkeypatch.setenv("EXAMINER_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("EXAMINER_DATA_DIR", str(base / "data"))


def shared_path(*parts: str) -> Path:
    """A path inside ../shared; tests that need it skip with a reason when it is absent."""
    p = SHARED_DIR.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs {p} (the shared data folder), which is absent")
    return p


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_gui_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """GUI tests collect cycles on the GUI thread only, as the application does (see main_thread_gc).

    Set up before qtbot and torn down after it, so the widgets qtbot closes are collected here,
    on the GUI thread, before automatic collection (which may run in any thread) is back on.
    """
    if not {"qtbot", "qapp"} & set(request.fixturenames):
        yield
        return
    qapp = request.getfixturevalue("qapp")
    from examiner.gui.main_thread_gc import MainThreadCollector

    collector = MainThreadCollector(qapp)
    yield
    collector.uninstall()
    collector.deleteLater()
