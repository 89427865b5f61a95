"""The documentation site: it builds with --strict, the CLI page lists every command, the README
stays a front page, and Help > User guide opens the built site or says how to build it."""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_cli_reference", REPO / "packaging" / "gen_cli_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_site_builds_strict_without_warnings(tmp_path: Path) -> None:
    """Broken links, missing anchors, pages missing from the nav or nav entries without a page fail."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(REPO / "mkdocs.yml"),
         "--site-dir", str(tmp_path / "site")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "WARNING" not in output, output
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    # Offline: no web fonts and no script or stylesheet from another host.
    assert "fonts.googleapis" not in index and "fonts.gstatic" not in index
    assert not re.search(r'<script[^>]+src="https?:', index)
    assert not re.search(r'<link[^>]+rel="stylesheet"[^>]+href="https?:', index)


def test_cli_reference_lists_every_command_and_option() -> None:
    gen = _generator()
    from examiner.cli import build_parser

    page = (REPO / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    sections = re.split(r"^#+ `examiner ", page, flags=re.MULTILINE)
    by_name = {s.split("`", 1)[0]: s for s in sections[1:]}
    stale = "docs/reference/cli.md is out of date: run python packaging/gen_cli_reference.py"
    found = gen.commands(build_parser())
    assert len(found) > 20
    for path, sub in found:
        name = " ".join(path)
        assert name in by_name, f"`examiner {name}` missing; {stale}"
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            for option in action.option_strings:
                assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", by_name[name]), (
                    f"`examiner {name}` {option} missing; {stale}"
                )


def test_readme_is_a_front_page_with_working_links() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode("utf-8")) <= 10_240
    for target in re.findall(r"\]\(([^)#]+)", readme):
        if not re.match(r"[a-z]+:", target):
            assert (REPO / target).exists(), f"README links to missing {target}"
    for step in ("examiner gui", "examiner detect", "examiner recompress", "examiner case add-region", "examiner report"):
        assert step in readme


def test_help_user_guide_opens_the_built_index(qtbot: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QMessageBox, QWidget

    from examiner.gui import user_guide

    parent = QWidget()
    qtbot.addWidget(parent)  # type: ignore[attr-defined]
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: shown.append(text))
    opened: list[str] = []

    assert not user_guide.open_user_guide(parent, root=tmp_path, open_url=lambda url: opened.append(url) or True)
    assert opened == [] and "make docs" in shown[0] and str(tmp_path / "docs") in shown[0]

    index = tmp_path / "build" / "site" / "index.html"
    index.parent.mkdir(parents=True)
    index.write_text("<html></html>", encoding="utf-8")
    assert user_guide.open_user_guide(parent, root=tmp_path, open_url=lambda url: opened.append(url.toLocalFile()) or True)
    assert opened == [str(index)] and len(shown) == 1


def test_help_menu_has_the_user_guide(qtbot: object) -> None:
    from examiner.gui.main_window import MainWindow

    w = MainWindow(interactive=False)
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    help_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Help")
    assert "&User guide" in [a.text() for a in help_menu.actions()]
    w.close()
