"""Settings are read by the front ends only and passed down; the core runs on what it is given."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from imagegen import encode, pattern
from test_codecs_packs import IDENTITY_ADAPTER, IDENTITY_TOML, _write_pack

from examiner.cli import main
from examiner.core.case import Case
from examiner.core.settings import Settings
from examiner.errors import EvidenceError

PACKAGE = Path(__file__).resolve().parents[1] / "examiner"
# The front ends: the command line's one door to the file, the GUI, and the file's own module.
MAY_READ = ("commands/_settings.py", "gui/", "core/settings.py")


def _calls_settings_load(tree: ast.AST) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "load"
        and isinstance(node.value, ast.Name | ast.Attribute)
        and (node.value.id if isinstance(node.value, ast.Name) else node.value.attr) == "Settings"
    ]


def test_only_the_front_ends_read_the_settings_file() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(MAY_READ):
            continue
        lines = _calls_settings_load(ast.parse(path.read_text(encoding="utf-8")))
        offenders += [f"{rel}:{n}" for n in lines]
    assert offenders == [], f"Settings.load() below the front ends: {offenders}"
    # The scan itself finds what it is looking for.
    assert _calls_settings_load(ast.parse("from x import Settings\nSettings.load()\n")) == [2]


def _png(folder: Path, name: str = "ev.png") -> Path:
    p = folder / name
    p.write_bytes(encode(pattern(40, 40), "PNG"))
    return p


def test_the_command_line_applies_the_settings_pixel_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = _png(tmp_path)
    case = tmp_path / "c.mcase"
    assert main(["case", "create", str(case), "--case-id", "X1", "--examiner", "A. Examiner", "--evidence", str(img)]) == 0
    capsys.readouterr()
    Settings(max_pixels=1000).save()
    for argv in (["inspect", str(img)], ["detect", str(img)],
                 ["case", "add-evidence", str(case), str(_png(tmp_path, "second.png"))]):  # fmt: skip
        assert main(argv) != 0, argv
        out = capsys.readouterr()
        assert "over the limit of 1,000" in out.out + out.err, argv
    # An explicit --max-pixels still wins over the setting.
    assert main(["inspect", str(img), "--max-pixels", "5000", "--json"]) == 0


def test_the_case_decodes_under_the_limit_it_was_opened_with(tmp_path: Path) -> None:
    img = _png(tmp_path)
    with Case.create(tmp_path / "a.mcase", "A1", "A. Examiner", max_pixels=1000) as case, \
            pytest.raises(EvidenceError, match="over the limit of 1,000"):
        case.add_evidence(img)
    with Case.create(tmp_path / "b.mcase", "B1", "A. Examiner") as case:
        item = case.add_evidence(img)
    with Case.open(tmp_path / "b.mcase", max_pixels=1000) as case, pytest.raises(EvidenceError, match="over the limit"):
        case.load_evidence(item.id)
    with Case.open(tmp_path / "b.mcase") as case:
        assert case.load_evidence(item.id).pixels.shape[:2] == (40, 40)


def test_work_in_a_case_is_credited_to_its_examiner_or_the_named_actor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = _png(tmp_path)
    path = tmp_path / "c.mcase"
    with Case.create(path, "C1", "A. Examiner"):
        pass
    # The settings' name is whoever uses this machine: it never takes over someone's case.
    Settings(examiner_name="B. Settings-Name").save()
    with Case.open(path) as case:  # the core alone reads no settings file
        assert case.actor == "A. Examiner"
    assert main(["case", "add-evidence", str(path), str(img)]) == 0
    assert main(["case", "set", str(path), "--summary", "S.", "--actor", "C. Colleague"]) == 0
    capsys.readouterr()
    with Case.open(path, read_only=True) as case:
        actors = {e.action: e.actor for e in case.audit.entries() if e.action in ("evidence.added", "meta.set")}
    assert actors == {"evidence.added": "A. Examiner", "meta.set": "C. Colleague"}


def test_extra_codec_folders_reach_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = tmp_path / "lab-packs"
    _write_pack(extra, "ident9", IDENTITY_TOML.format(cid="ident-lab"), IDENTITY_ADAPTER)
    assert main(["codecs", "list", "--json"]) == 0
    assert "ident-lab" not in {c["id"] for c in json.loads(capsys.readouterr().out)["codecs"]}
    Settings(extra_codec_dirs=[str(extra)]).save()
    assert main(["codecs", "list", "--json"]) == 0
    assert "ident-lab" in {c["id"] for c in json.loads(capsys.readouterr().out)["codecs"]}


def test_the_report_states_the_settings_it_was_given(tmp_path: Path) -> None:
    from report_cases import make_case

    from examiner.report.builder import BuildOptions, build_report_model

    path = make_case(tmp_path, n_regions=1)
    with Case.open(path, read_only=True) as case:
        given = dict(build_report_model(case, BuildOptions(settings=Settings(max_pixels=1234))).settings)
        missing = dict(build_report_model(case, BuildOptions()).settings)
    assert given["Pixel limit at intake (now)"] == "1,234 pixels"
    assert "Pixel limit at intake (now)" not in missing and "not given" in missing["Settings"]
