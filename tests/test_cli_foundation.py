"""The foundation's command-line contracts: inspect and case, JSON output, clear errors."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from imagegen import encode, hostile_jpeg, jpeg_bytes, pattern, png_bomb

from examiner.cli import main

CLI = [sys.executable, "-m", "examiner"]


def run_cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=120)


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object]:
    rc = main([*args, "--json"])
    out = capsys.readouterr().out
    return rc, json.loads(out)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    d = {
        "jpg": (tmp_path / "evidence.jpg", jpeg_bytes(quality=85)),
        "png": (tmp_path / "evidence2.png", encode(pattern(seed=4), "PNG")),
        "ref": (tmp_path / "original.png", encode(pattern(), "PNG")),
        "truncated": (tmp_path / "truncated.jpg", jpeg_bytes()[:300]),
        "crc": (tmp_path / "crc.png", None),
        "text": (tmp_path / "notes.jpg", b"Dear examiner,\nthis is a text file.\n"),
        "tiff_png": (tmp_path / "scan.png", encode(pattern(), "TIFF")),
        "bomb": (tmp_path / "bomb.png", png_bomb(20000, 20000)),
        "hostile": (tmp_path / "hostile.jpg", hostile_jpeg()),
    }
    png = bytearray(encode(pattern(), "PNG"))
    png[png.index(b"IDAT") + 6] ^= 0x40
    d["crc"] = (d["crc"][0], bytes(png))
    # 16-bit colour goes through a second decoder whose C library prints to stderr: damage the
    # compressed data but keep the CRC valid, so only the decoder can notice.
    png16 = bytearray(cv2.imencode(".png", pattern().astype(np.uint16) * 257)[1].tobytes())
    i = png16.index(b"IDAT")
    n = int.from_bytes(png16[i - 4 : i], "big")
    png16[i + 4 + n // 2 : i + 4 + n // 2 + 8] = b"\xff" * 8
    png16[i + 4 + n : i + 8 + n] = zlib.crc32(bytes(png16[i : i + 4 + n])).to_bytes(4, "big")
    d["png16"] = (tmp_path / "deep.png", bytes(png16))
    out = {}
    for key, (path, data) in d.items():
        path.write_bytes(data)
        os.utime(path, (1_500_000_000, 1_500_000_000))
        out[key] = path
    return out


def snapshot(paths: dict[str, Path]) -> dict[str, tuple[bytes, int]]:
    return {k: (p.read_bytes(), p.stat().st_mtime_ns) for k, p in paths.items()}


# ---------------------------------------------------------------- inspect


def test_inspect_json_contract(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    rc, r = cli_json(capsys, "inspect", str(files["jpg"]))
    assert rc == 0 and isinstance(r, dict)
    for key in ("sha256", "md5", "format", "width", "height", "mode", "bit_depth", "exif", "jpeg"):
        assert key in r
    assert r["sha256"] == hashlib.sha256(files["jpg"].read_bytes()).hexdigest()
    if shutil.which("sha256sum"):
        out = subprocess.run(["sha256sum", str(files["jpg"])], capture_output=True, text=True, check=True).stdout
        assert r["sha256"] == out.split()[0]
    assert (r["format"], r["width"], r["height"], r["mode"], r["bit_depth"]) == ("jpeg", 40, 32, "RGB", 8)
    j = r["jpeg"]
    assert j["quality_estimate"] == 85 and j["subsampling"] == "4:2:0" and j["progressive"] is False
    assert len(j["quant_tables"]) == 2 and len(j["quant_tables"][0]["values"]) == 64
    assert isinstance(r["exif"], dict)
    rc, r = cli_json(capsys, "inspect", str(files["png"]))
    assert rc == 0 and r["jpeg"] is None and r["format"] == "png"


def test_inspect_text_output(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(files["jpg"])]) == 0
    out = capsys.readouterr().out
    assert hashlib.sha256(files["jpg"].read_bytes()).hexdigest() in out
    assert "quality estimate 85" in out and "4:2:0" in out


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("truncated", "truncated"),
        ("crc", "CRC"),
        ("text", "text, not an image"),
        ("bomb", "20000 x 20000"),
        ("png16", "PNG"),
    ],
)
def test_bad_inputs_fail_with_one_clear_line(files: dict[str, Path], key: str, fragment: str) -> None:
    before = snapshot(files)
    res = run_cli("inspect", str(files[key]))
    assert res.returncode != 0
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("examiner: error: ") and str(files[key]) in lines[0] and fragment in lines[0]
    assert "Traceback" not in res.stderr
    assert snapshot(files) == before


def test_tiff_named_png_is_reported_as_mismatch(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    rc, r = cli_json(capsys, "inspect", str(files["tiff_png"]))
    assert rc == 4 and r["format"] == "tiff" and r["extension_mismatch"] is True
    res = run_cli("inspect", str(files["tiff_png"]))
    assert res.returncode == 4 and "MISMATCH" in res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not match" in lines[0] and str(files["tiff_png"]) in lines[0]
    assert main(["inspect", "--lenient", str(files["tiff_png"])]) == 0


def test_hostile_metadata_jpeg(files: dict[str, Path]) -> None:
    # The pixels are intact, so the image is still examinable; the metadata is shown as escaped,
    # bounded text, and the exit status plus a one-line error flag the hostile metadata.
    lenient = run_cli("inspect", "--lenient", str(files["hostile"]))
    assert lenient.returncode == 0 and "Traceback" not in lenient.stderr
    res = run_cli("inspect", str(files["hostile"]))
    assert "\x00" not in res.stdout and "\x1b" not in res.stdout and len(res.stdout) < 100_000
    assert "Metadata notice" in res.stdout
    strict = res
    assert strict.returncode == 4
    lines = strict.stderr.strip().splitlines()
    assert len(lines) == 1 and "suspicious metadata" in lines[0] and str(files["hostile"]) in lines[0]
    assert "Traceback" not in strict.stderr


def test_bad_evidence_in_case_create_fails_cleanly(files: dict[str, Path], tmp_path: Path) -> None:
    case = tmp_path / "x.mcase"
    res = run_cli("case", "create", str(case), "--case-id", "1", "--examiner", "E", "--evidence", str(files["truncated"]))
    assert res.returncode != 0 and len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not case.exists()  # nothing half-made is left behind


# ---------------------------------------------------------------- case commands


def test_case_workflow_and_json(files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(files)
    case = str(tmp_path / "job.mcase")
    rc, s = cli_json(capsys, "case", "create", case, "--case-id", "2026-17", "--examiner", "A. Examiner",
                     "--requester", "Police", "--lab", "Lab", "--evidence", str(files["jpg"]),
                     "--reference", str(files["ref"]))  # fmt: skip
    assert rc == 0 and s["case_id"] == "2026-17"
    rc, e = cli_json(capsys, "case", "add-evidence", case, str(files["png"]))
    assert rc == 0 and e["id"] == 2 and e["reference"] is None
    rc, e = cli_json(capsys, "case", "set-reference", case, "2", str(files["ref"]))
    assert rc == 0 and e["reference"] == str(files["ref"].resolve())
    rc, r = cli_json(capsys, "case", "add-region", case, "--evidence", "1", "--rect", "2,3,10,12", "--category",
                     "shape", "--category", "amplitude", "--symbol", "--evidence-says", "8",
                     "--comparison-says", "3", "--confidence", "high", "--notes", "<i>n</i>")  # fmt: skip
    assert rc == 0 and r["kind"] == "rect" and r["points"] == [[2.0, 3.0], [12.0, 15.0]]
    assert r["categories"] == ["shape", "amplitude"] and r["symbol"] is True and r["confidence"] == "high"
    rc, r = cli_json(capsys, "case", "add-region", case, "--evidence", "2", "--polygon", "1,1,20,1,10,15",
                     "--category", "geometry", "--evidence-says", "arrow", "--comparison-says", "disc", "--lock")  # fmt: skip
    assert rc == 0 and r["kind"] == "polygon" and len(r["points"]) == 3 and r["locked"] is True
    rc, r = cli_json(capsys, "case", "add-region", case, "--evidence", "2", "--ellipse", "5,5,10,6",
                     "--category", "amplitude", "--evidence-says", "dark", "--comparison-says", "lit")  # fmt: skip
    assert rc == 0 and r["kind"] == "ellipse"

    rc, s = cli_json(capsys, "case", "show", case)
    assert rc == 0
    assert s["case_id"] == "2026-17" and s["examiner"] == "A. Examiner"
    assert [(x["id"], x["path"], x["sha256"], x["reference"]) for x in s["evidence"]] == [
        (1, str(files["jpg"].resolve()), hashlib.sha256(files["jpg"].read_bytes()).hexdigest(), str(files["ref"].resolve())),
        (2, str(files["png"].resolve()), hashlib.sha256(files["png"].read_bytes()).hexdigest(), str(files["ref"].resolve())),
    ]
    assert len(s["regions"]) == 3 and s["findings"]["count"] == 0
    assert s["integrity"]["ok"] is True

    rc, v = cli_json(capsys, "case", "verify", case)
    assert rc == 0 and v["ok"] is True and v["chain"]["ok"] is True
    rc, log = cli_json(capsys, "case", "log", case)
    assert rc == 0 and log["chain"]["ok"]
    acts = [x["action"] for x in log["entries"]]
    assert acts[0] == "case.created" and acts.count("region.added") == 3 and "case.opened" in acts

    assert main(["case", "show", case]) == 0
    text = capsys.readouterr().out
    assert "2026-17" in text and "Integrity: OK" in text
    assert main(["case", "log", case]) == 0
    assert "audit chain intact" in capsys.readouterr().out
    assert main(["case", "verify", case]) == 0
    assert "case verified" in capsys.readouterr().out
    assert snapshot(files) == before  # no command touched the evidence


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--rect", "1,2,3"], "X,Y,W,H"),
        (["--rect", "1,2,-3,4"], "positive"),
        (["--polygon", "1,2,3,4"], "three"),
        (["--rect", "a,b,c,d"], "numbers"),
        (["--rect", "0,0,400,5"], "outside"),
    ],
)
def test_add_region_errors(files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str) -> None:
    case = str(tmp_path / "r.mcase")
    assert main(["case", "create", case, "--case-id", "R", "--examiner", "E", "--evidence", str(files["jpg"])]) == 0
    capsys.readouterr()
    rc = main(["case", "add-region", case, "--evidence", "1", *args, "--category", "shape",
               "--evidence-says", "a", "--comparison-says", "b"])  # fmt: skip
    err = capsys.readouterr().err
    assert rc != 0 and fragment in err and err.count("\n") == 1


def test_verify_names_changed_and_missing_files(files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ev = tmp_path / "copy.jpg"
    ev.write_bytes(files["jpg"].read_bytes())
    ev2 = tmp_path / "copy2.png"
    ev2.write_bytes(files["png"].read_bytes())
    case = str(tmp_path / "v.mcase")
    assert main(["case", "create", case, "--case-id", "V", "--examiner", "E", "--evidence", str(ev), "--evidence", str(ev2)]) == 0
    data = bytearray(ev.read_bytes())
    data[len(data) // 2] ^= 1
    ev.write_bytes(bytes(data))
    capsys.readouterr()
    rc = main(["case", "verify", case])
    out, err = capsys.readouterr()
    assert rc == 3 and "MISMATCH" in out and str(ev) in err and err.count("\n") == 1
    ev2.unlink()
    rc = main(["case", "verify", case])
    out, err = capsys.readouterr()
    assert rc == 3 and "MISSING" in out and "2 problem(s)" in err
    rc, s = cli_json(capsys, "case", "show", case)  # the case still opens and shows the problem
    assert rc == 0 and [x["integrity"] for x in s["evidence"]] == ["mismatch", "missing"]
    assert main(["case", "show", case]) == 0
    out, err = capsys.readouterr()
    assert "** MISMATCH **" in out and "** MISSING **" in out
    assert "WARNING" in err and "SHA-256 MISMATCH" in err and "MISSING" in err


def test_case_errors_are_one_line(tmp_path: Path) -> None:
    res = run_cli("case", "show", str(tmp_path / "absent.mcase"))
    assert res.returncode != 0 and res.stderr.count("\n") == 1 and "not found" in res.stderr
    junk = tmp_path / "junk.mcase"
    junk.write_bytes(b"\x00" * 200)
    res = run_cli("case", "verify", str(junk))
    assert res.returncode != 0 and res.stderr.count("\n") == 1 and "not a case file" in res.stderr
