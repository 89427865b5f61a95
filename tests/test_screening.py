"""Screening without worker processes: the walk, the ranking, the results file and its log, the
HTML report, a case made from a row, and the CLI's refusals (an in-process Dask cluster)."""

from __future__ import annotations

import base64
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from detection_images import decoder_output, natural, png_bytes
from screening_fixtures import every_entry

from examiner.cli import main


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def _folder(root: Path) -> Path:
    root.mkdir(parents=True)
    for i in range(4):
        (root / f"p{i}.png").write_bytes(png_bytes(natural(128, 128, seed=i)))
    (root / "gen.png").write_bytes(png_bytes(decoder_output(256, 256, seed=3)))
    (root / "sub").mkdir()
    (root / "sub" / "again.png").write_bytes((root / "gen.png").read_bytes())
    (root / "sub" / "<img src=x onerror=alert(1)>.png").write_bytes(png_bytes(natural(128, 136, seed=7)))
    (root / "readme.txt").write_text("not an image\n")
    return root


def _run(tmp_path: Path, client: Any, **kw: Any) -> Path:
    from examiner.screening import run as screening
    from examiner.screening.engine import ScreenOptions

    src = _folder(tmp_path / "src")
    out = tmp_path / "r.mscreen"
    rf = screening.create(out, [str(src)], ScreenOptions(top=5, **kw), "tester")
    try:
        screening.screen(rf, client)
    finally:
        rf.close()
    return out


def _verify(out: Path) -> Any:
    from examiner.screening.custody import verify
    from examiner.screening.store import ResultsFile

    with ResultsFile.open(out, read_only=True) as rf:
        return verify(rf)


# ------------------------------------------------------------------------------------ walk


def test_walk_names_what_it_does_not_screen_and_is_stable(tmp_path: Path) -> None:
    from examiner.screening.walk import FILE, REFUSED, walk

    src = tmp_path / "src"
    (src / "b").mkdir(parents=True)
    (src / "a.png").write_bytes(b"x")
    (src / "b" / "c.png").write_bytes(b"y")
    (tmp_path / "secret").write_bytes(b"z")
    os.symlink(tmp_path / "secret", src / "out")
    os.symlink(src / "a.png", src / "b" / "in.png")
    os.symlink(src / "b", src / "loop")
    os.symlink(tmp_path / "missing", src / "dangling")
    os.mkfifo(src / "fifo")
    entries = list(walk([str(src), str(src / "b")]))  # a nested source is not walked twice
    assert entries == list(walk([str(src)]))
    got = {Path(e.path).name: e for e in entries}
    assert sorted(got) == sorted(Path(p).name for p in every_entry(src))
    assert got["a.png"].kind == FILE and got["in.png"].kind == FILE
    assert got["out"].kind == REFUSED and "outside the sources" in got["out"].reason
    assert got["loop"].kind == REFUSED and "not followed" in got["loop"].reason
    assert got["dangling"].kind == REFUSED and "dangling" in got["dangling"].reason
    assert got["fifo"].kind == REFUSED and "FIFO" in got["fifo"].reason


# ------------------------------------------------------------------------------------ ranking


def test_ranking_uses_the_likelihood_ratio_when_present_else_the_score() -> None:
    from examiner.screening.ranking import rank_value

    class Old:
        score = 0.7

    class New:
        score = 0.1
        lr = 1000.0

    assert rank_value(Old()) == ("score", 0.7)
    assert rank_value(New()) == ("lr", 3.0)
    assert rank_value({"score": 0.2}) == ("score", 0.2)
    assert rank_value({"score": 0.9, "lr": 0.01}) == ("lr", -2.0)
    assert rank_value({"score": 0.9, "lr": float("inf")})[1] == float("inf")


def test_the_uncapped_strength_orders_the_images_at_the_cap() -> None:
    from examiner.analysis.likelihood import LrCalibration
    from examiner.screening.ranking import rank_value, uncapped_value

    class Model:
        def branch(self, _features: dict[str, float]) -> Any:
            return self

        lr_calibration = LrCalibration(a=1.0, b=0.0, cap=100.0)

    class Det:
        def __init__(self, score: float) -> None:
            self.score = score
            self.lr = Model.lr_calibration.lr(score)

    strong, stronger = Det(0.999), Det(0.99999)
    assert rank_value(strong) == rank_value(stronger) == ("lr", 2.0)  # both at the cap
    assert uncapped_value(Model(), stronger) > uncapped_value(Model(), strong) > 2.0  # type: ignore[operator]


def test_top_breaks_ties_by_the_uncapped_strength_not_by_hash(tmp_path: Path) -> None:
    from examiner.screening.store import ResultsFile

    versions = {"tool_version": "t", "model_version": "m", "model_sha256": "s"}
    rf = ResultsFile.create(tmp_path / "r.mscreen", "tester", {"sources": [str(tmp_path)], "versions": versions})
    try:
        ids = rf.add_found([(str(tmp_path / f"{n}.png"), str(tmp_path), 1, 0.0, "pending", None) for n in "abc"])
        shas = ["0" * 64, "f" * 64, "8" * 64]
        rf.record_hashes([{"id": i, "sha256": h, "size": 1} for i, h in zip(ids, shas, strict=True)], versions)
        rf.record_analyses([{"sha256": h, "status": "result", "verdict": "neural", "lr": 100.0, "rank_kind": "lr",
                             "rank": 2.0, "rank_uncapped": u, **versions} for h, u in zip(shas, (3.1, 5.2, 1.0), strict=True)])
        assert [r["sha256"] for r in rf.top(3)] == [shas[1], shas[0], shas[2]]
    finally:
        rf.close()


def test_the_main_trace_is_the_strongest_named_in_the_explanation() -> None:
    from examiner.screening.ranking import main_trace

    text = ("Score 0.95 on a 0-1 scale; verdict: neural. The score is driven by period-4 (k/4) peaks in the luma "
            "residual spectrum (451.6 times the local spectral floor); chroma autocorrelation. Such traces ...")
    assert main_trace(text) == "period-4 (k/4) peaks in the luma residual spectrum (451.6 times the local spectral floor)"
    assert main_trace("Score 0.2. No single trace stands out; the score comes from many weak ones together.") == (
        "No single trace stands out; the score comes from many weak ones together")
    assert main_trace(None) == ""


# ------------------------------------------------------------------------------------ results file


def test_a_run_records_every_file_once_and_verifies(tmp_path: Path, client: Any) -> None:
    from examiner.screening.store import ResultsFile, counts, iter_rows

    out = _run(tmp_path, client)
    with ResultsFile.open(out, read_only=True) as rf:
        rows = list(iter_rows(rf.conn))
        c = counts(rf.conn)
        top = rf.top(5)
    assert sorted(r["path"] for r in rows) == every_entry(tmp_path / "src")
    by_name = {Path(r["path"]).name: r for r in rows}
    assert by_name["again.png"]["duplicate_of"] == by_name["gen.png"]["id"]
    assert by_name["gen.png"]["verdict"] == "neural" and by_name["readme.txt"]["outcome"] == "refused"
    assert c["files"] == 8 and c["duplicates"] == 1 and c["distinct_images_analysed"] == 6
    assert top[0]["sha256"] == by_name["gen.png"]["sha256"]  # ranked first
    report = _verify(out)
    assert report.ok, report.summary()
    assert report.rows_checked == 8 + 7 + 5


def test_resuming_a_finished_run_changes_no_row(tmp_path: Path, client: Any) -> None:
    from screening_fixtures import comparable_rows

    from examiner.screening import run as screening
    from examiner.screening.store import ResultsFile

    out = _run(tmp_path, client)
    before = comparable_rows(out)
    with ResultsFile.open(out, actor="tester") as rf:
        screening.check_resumable(rf)
        summary = screening.screen(rf, client)
    assert summary["files"] == 8 and comparable_rows(out) == before
    assert _verify(out).ok


def _tamper(out: Path, sql: str, *args: Any) -> None:
    conn = sqlite3.connect(out)
    conn.execute(sql, args)
    conn.commit()
    conn.close()


@pytest.mark.parametrize("change, expected", [
    ("UPDATE files SET reason = 'looks fine' WHERE path LIKE '%readme.txt'", "readme.txt) differs from what log entry"),
    ("UPDATE analyses SET verdict = 'not-neural' WHERE verdict = 'neural'", "the analysis of {src}/gen.png"),
    ("DELETE FROM files WHERE path LIKE '%p1.png'", "p1.png), recorded in log entry"),
    ("DELETE FROM analyses WHERE sha256 = (SELECT sha256 FROM files WHERE path LIKE '%p2.png')",
     "the analysis of {src}/p2.png"),
    ("INSERT INTO files (path_bytes, path, source, size, mtime, status) VALUES (x'00', 'planted.png', '', 1, 0, 'pending')",
     "(planted.png) is not recorded in the log"),
    ("UPDATE followups SET blob = x'00' WHERE kind = 'thumbnail'", "does not match its recorded SHA-256"),
    ("UPDATE meta SET value = '[\"/elsewhere\"]' WHERE key = 'sources'", "meta key 'sources' differs"),
    ("DELETE FROM meta WHERE key = 'error_rates'", "meta key 'error_rates', recorded in log entry 1, is missing"),
    ("DELETE FROM meta WHERE key = 'walk_complete'", "meta key 'walk_complete'"),
    ("INSERT INTO meta (key, value) VALUES ('note', '1')", "meta key 'note' is not recorded in the log"),
    # Damage that used to end in an internal error: a BLOB where text belongs, a dropped table.
    ("UPDATE files SET reason = CAST('x' AS BLOB) WHERE path LIKE '%readme.txt'", "a type the program never writes"),
    ("DROP TABLE analyses", "no such table: analyses"),
])  # fmt: skip
def test_verify_names_a_row_changed_outside_the_program(tmp_path: Path, client: Any, change: str, expected: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = _run(tmp_path, client)
    _tamper(out, change)
    report = _verify(out)
    assert not report.ok and expected.format(src=tmp_path / "src") in report.summary(), report.summary()
    assert main(["screen", "--verify", str(out)]) == 3
    # Nothing is built on it: no report, no case, each saying why, with no traceback.
    capsys.readouterr()
    assert main(["screen", "--report", str(out), "--html", str(tmp_path / "again.html")]) == 3
    err = capsys.readouterr().err
    assert "does not verify, so no report" in err and "Traceback" not in err and not (tmp_path / "again.html").exists()
    assert main(["screen", "--open", str(out), "1", "--case", str(tmp_path / "c.mcase")]) == 3
    assert "does not verify, so no case" in capsys.readouterr().err and not (tmp_path / "c.mcase").exists()


def _row_of(out: Path, name: str) -> dict[str, Any]:
    from examiner.screening.store import iter_rows

    conn = sqlite3.connect(out)
    try:
        return next(r for r in iter_rows(conn) if r["path"].endswith("/" + name))
    finally:
        conn.close()


def test_a_changed_verdict_gives_no_case(tmp_path: Path, client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(tmp_path, client)
    gen = _row_of(out, "gen.png")
    _tamper(out, "UPDATE analyses SET verdict = 'not-neural' WHERE sha256 = ?", gen["sha256"])
    assert main(["screen", "--open", str(out), str(gen["id"]), "--case", str(tmp_path / "gen.mcase")]) == 3
    err = capsys.readouterr().err
    assert f"the analysis of {tmp_path / 'src' / 'gen.png'}" in err and "(altered)" in err
    assert not (tmp_path / "gen.mcase").exists()


def test_a_row_pointed_at_a_planted_copy_is_named_and_refused(tmp_path: Path, client: Any,
                                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = _run(tmp_path, client)
    gen = _row_of(out, "gen.png")
    planted = tmp_path / "elsewhere" / "gen.png"
    planted.parent.mkdir()
    planted.write_bytes((tmp_path / "src" / "gen.png").read_bytes())  # byte-identical: the SHA-256 still matches
    _tamper(out, "UPDATE files SET path_bytes = ? WHERE id = ?", os.fsencode(str(planted)), gen["id"])
    report = _verify(out)
    assert not report.ok
    assert f"file row {gen['id']} ({tmp_path / 'src' / 'gen.png'}) differs from what log entry" in report.summary()
    assert main(["screen", "--open", str(out), str(gen["id"]), "--case", str(tmp_path / "gen.mcase")]) == 3
    assert "does not verify" in capsys.readouterr().err and not (tmp_path / "gen.mcase").exists()


def test_entries_cut_off_the_end_are_found_by_the_expected_head(tmp_path: Path, client: Any,
                                                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from examiner.screening.store import ResultsFile

    out = _run(tmp_path, client)
    with ResultsFile.open(out, read_only=True) as rf:
        head = rf.head()
    assert head is not None
    assert main(["screen", "--verify", str(out), "--expect-head", head]) == 0
    assert f"log head: {head}" in capsys.readouterr().out
    last = int(head.split(":")[0])
    conn = sqlite3.connect(out)
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit WHERE seq = ?", (last,))
    conn.execute("UPDATE audit_head SET seq = seq - 1, entry_hash = (SELECT entry_hash FROM audit WHERE seq = ?)",
                 (last - 1,))  # fmt: skip
    conn.commit()
    conn.close()
    assert _verify(out).ok  # consistent with itself: only an anchor from outside shows the cut
    assert main(["screen", "--verify", str(out), "--expect-head", head]) == 3
    assert f"the log has only {last - 1} entries, so entries were removed" in capsys.readouterr().out
    assert main(["screen", "--report", str(out), "--html", str(tmp_path / "r2.html"), "--expect-head", head]) == 3
    assert "entries were removed" in capsys.readouterr().err


def test_a_signed_head_is_checked_against_the_trusted_key(tmp_path: Path, client: Any,
                                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    pytest.importorskip("cryptography")
    out = _run(tmp_path, client)
    key = tmp_path / "examiner.key"
    assert main(["case", "key-generate", "--out", str(key)]) == 0
    other = tmp_path / "other.key"
    assert main(["case", "key-generate", "--out", str(other)]) == 0
    assert main(["screen", "--sign-head", str(out), "--key", str(key)]) == 0
    capsys.readouterr()
    assert main(["screen", "--verify", str(out), "--public-key", str(key) + ".pub"]) == 0
    assert "signed by the trusted key" in capsys.readouterr().out
    assert main(["screen", "--verify", str(out), "--public-key", str(other) + ".pub"]) == 3
    assert "no valid signature by the trusted key" in capsys.readouterr().out


def test_a_results_file_of_the_previous_version_is_refused_clearly(tmp_path: Path, client: Any,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = _run(tmp_path, client)
    _tamper(out, "PRAGMA user_version = 1")
    for mode in (["--verify", str(out)], ["--report", str(out)], ["--resume", str(out)], ["--open", str(out), "1"]):
        assert main(["screen", *mode]) == 2
        err = capsys.readouterr().err
        assert "earlier version of this program (results file version 1)" in err and "Screen the sources again" in err


def test_verify_finds_an_altered_log_entry_and_resume_refuses_it(tmp_path: Path, client: Any,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = _run(tmp_path, client)
    conn = sqlite3.connect(out)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 3")
    conn.commit()
    conn.close()
    report = _verify(out)
    assert not report.ok and "entry 3" in report.summary()
    assert main(["screen", "--resume", str(out), "--no-progress"]) == 2
    assert "not continued" in capsys.readouterr().err


def test_verify_rehash_notices_a_changed_input(tmp_path: Path, client: Any) -> None:
    out = _run(tmp_path, client)
    assert main(["screen", "--verify", str(out), "--rehash"]) == 0
    (tmp_path / "src" / "p2.png").write_bytes(png_bytes(natural(128, 128, seed=99)))
    report = _verify(out)
    assert report.ok  # the file itself is intact ...
    from examiner.screening.custody import verify
    from examiner.screening.store import ResultsFile

    with ResultsFile.open(out, read_only=True) as rf:
        again = verify(rf, rehash=True)
    assert not again.ok and "p2.png" in again.summary() and "has changed" in again.summary()  # ... the input is not


# ------------------------------------------------------------------------------------ report and case


def _attribute_names(text: str) -> set[str]:
    from html.parser import HTMLParser

    names: set[str] = set()

    class Names(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            names.update(k for k, _v in attrs)

    Names().feed(text)
    return names


def test_the_html_report_is_self_contained_and_escapes_file_names(tmp_path: Path, client: Any) -> None:
    import hashlib
    import re

    from examiner.screening import html_report
    from examiner.screening.store import ResultsFile

    out = _run(tmp_path, client)
    with ResultsFile.open(out, actor="tester") as rf:
        info = html_report.write(rf, tmp_path / "report.html", 10)
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;.png" in text
    assert "http://" not in text and "https://" not in text and " src=\"data:" in text
    uris = text.count('src="data:image/jpeg;base64,')
    assert uris == 5
    first = text.split('src="data:image/jpeg;base64,')[1].split('"')[0]
    assert base64.b64decode(first)[:3] == b"\xff\xd8\xff"
    # The one inline script is admitted by its hash, and by nothing else.
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)
    assert csp is not None and "default-src 'none'" in csp.group(1) and "script-src 'unsafe-inline'" not in csp.group(1)
    scripts = re.findall(r"<script>(.*?)</script>", text, re.S)
    assert len(scripts) == 1 and "<script src" not in text
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode("ascii")
    assert f"script-src 'sha256-{digest}'" in csp.group(1)
    assert not _attribute_names(text) & {"onerror", "onclick", "onload"}  # no inline handlers (the policy blocks them)
    # A compact table: one row with folded details per image, the validation said once.
    assert text.count("<details><summary>details</summary>") == 6 and text.count('class="validation"') == 1
    assert text.count("Leave-one-family-out validation of model") <= 1
    assert 'id="filter-text"' in text and 'data-key="lr"' in text and 'data-verdict="neural"' in text
    assert "localisation:" in text and "period-" in text  # why the decoder output ranks high
    assert len(info["sha256"]) == 64 and _verify(out).ok


def test_a_row_becomes_a_case_with_the_screening_finding(tmp_path: Path, client: Any,
                                                         capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from examiner.core.case import Case
    from examiner.screening.store import ResultsFile, iter_rows

    out = _run(tmp_path, client)
    with ResultsFile.open(out, read_only=True) as rf:
        gen = next(r for r in iter_rows(rf.conn) if r["path"].endswith("/gen.png"))
    case_path = tmp_path / "gen.mcase"
    assert main(["screen", "--open", str(out), str(gen["id"]), "--case", str(case_path), "--examiner", "E. X."]) == 0
    with Case.open(case_path, read_only=True) as case:
        assert case.integrity.ok
        (item,) = case.evidence()
        assert item.sha256 == gen["sha256"]
        (finding,) = case.findings(kind="screening")
        assert finding.data["row"] == gen["id"] and finding.data["verdict"] == "neural"
    with ResultsFile.open(out, read_only=True) as rf:
        assert [e.action for e in rf.log.entries()][-1] == "screening.case_made"
    assert _verify(out).ok
    # A file that changed since the screening gives no case.
    p0 = next(r for r in iter_rows(sqlite3.connect(out)) if r["path"].endswith("/p0.png"))
    Path(p0["path"]).write_bytes(png_bytes(natural(128, 128, seed=42)))
    assert main(["screen", "--open", str(out), str(p0["id"]), "--case", str(tmp_path / "p0.mcase")]) == 2
    assert "changed since it was screened" in capsys.readouterr().err
    assert not (tmp_path / "p0.mcase").exists()
    # Nothing is written into the evidence folder.
    assert main(["screen", "--open", str(out), str(gen["id"]), "--case", str(tmp_path / "src" / "x.mcase")]) == 2
    assert "inside the source" in capsys.readouterr().err


def test_the_cli_refuses_outputs_inside_the_sources_and_bad_combinations(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    src = _folder(tmp_path / "src")
    assert main(["screen", str(src), "--out", str(src / "r.mscreen")]) == 2
    assert "inside the source" in capsys.readouterr().err
    assert main(["screen", str(src)]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["screen", "--resume", str(tmp_path / "none.mscreen")]) == 2
    assert "not found" in capsys.readouterr().err
    (tmp_path / "fake.mscreen").write_bytes(b"SQLite format 3\x00" + bytes(200))
    assert main(["screen", "--verify", str(tmp_path / "fake.mscreen")]) == 2
    assert "not a screening results file" in capsys.readouterr().err
    assert main(["screen", str(tmp_path / "nothing-here"), "--out", str(tmp_path / "r.mscreen")]) == 2
    assert "source not found" in capsys.readouterr().err
    assert not list(src.glob("*.mscreen")) and not (tmp_path / "r.mscreen").exists()


def test_progress_line_shows_rate_and_time_left() -> None:
    import io

    from examiner.screening.progress import ScreenProgress

    bar = ScreenProgress(io.StringIO())
    assert "still walking" in bar.line(0, 10, False, now=100.0)
    line = bar.line(50, 100, True, now=110.0)
    assert "50/100 files" in line and "5.0 files/s" in line and "ETA 0:00:10" in line


def test_top_ranked_images_get_identification_and_a_variability_attempt(tmp_path: Path, client: Any) -> None:
    import json

    from examiner.screening.store import ResultsFile

    out = _run(tmp_path, client, identify_top=1, codecs=["examiner-demo-mbt2018-mean"], variability_top=1,
               variability_codec="examiner-demo-mbt2018-mean")  # fmt: skip
    with ResultsFile.open(out, read_only=True) as rf:
        (best,) = rf.top(1)
        ident = rf.followup(best["sha256"], "identify")
        var = rf.followup(best["sha256"], "variability")
    assert ident is not None and ident["status"] == "result"
    assert json.loads(ident["data"])["candidates"][0]["codec"] == "examiner-demo-mbt2018-mean"
    # The demonstration codec decodes deterministically: the attempt is recorded with its reason.
    assert var is not None and var["status"] == "error" and "deterministically" in var["reason"]
    assert _verify(out).ok


def test_a_file_that_keeps_killing_workers_becomes_an_error_row_and_a_lost_scheduler_stops_the_run(
    tmp_path: Path, client: Any
) -> None:
    from distributed import KilledWorker

    from examiner.errors import ExaminerError
    from examiner.screening import run as screening
    from examiner.screening import store
    from examiner.screening.engine import Screening, _Job
    from examiner.screening.store import ResultsFile

    out = _run(tmp_path, client)
    poison = tmp_path / "src" / "poison.png"
    poison.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with ResultsFile.open(out, actor="tester") as rf:
        (fid,) = rf.add_found([(str(poison), str(tmp_path / "src"), 72, 0.0, store.PENDING, None)])
        s = Screening(rf, client, screening.options_of(rf))
        killed = KilledWorker("hash_batch-x", None, 3)  # type: ignore[arg-type]
        s._failed(_Job("hash", [(fid, str(poison)), (1, "other")]), killed)
        assert sorted(j.items for j in s.resubmits) == [[(1, "other")], [(fid, str(poison))]]  # split, one by one
        s._failed(_Job("hash", [(fid, str(poison))]), killed)
        r = store.row(rf.conn, fid)
        assert r is not None and r["outcome"] == "error" and "worker process was lost" in r["reason"]
        with pytest.raises(ExaminerError, match="--resume"):
            s._failed(_Job("analyse", [("0" * 64, str(poison))]), OSError("connection closed"))
        # What the client raises when the scheduler is killed: one line, no Dask jargon about re-running.
        from distributed.client import FutureCancelledError

        lost = FutureCancelledError("analyse_batch-1", reason="scheduler-connection-lost",
                                    msg="Client lost the connection to the scheduler. Please check your connection.")  # fmt: skip
        with pytest.raises(ExaminerError) as info:
            s._failed(_Job("analyse", [("0" * 64, str(poison))]), lost)
        assert "lost the connection to the Dask scheduler" in info.value.message and "\n" not in info.value.message
        assert f"examiner screen --resume {out}" in info.value.message
    assert _verify(out).ok


def test_dask_log_records_stay_out_of_the_terminal_while_the_tool_drives_the_cluster() -> None:
    import logging

    from examiner.screening.cluster import quiet_dask_logs

    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Keep()
    logging.getLogger("distributed.client").addHandler(handler)  # Dask's client logger has its own handler
    try:
        with quiet_dask_logs():
            logging.getLogger("distributed.client").error("a 35-line traceback")
        logging.getLogger("distributed.client").error("after the run")
    finally:
        logging.getLogger("distributed.client").removeHandler(handler)
    assert seen == ["after the run"]


def test_a_worker_with_dasks_allocator_setting_is_warned_about(tmp_path: Path, client: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from examiner.screening import run as screening
    from examiner.screening.engine import Screening, ScreenOptions

    src = _folder(tmp_path / "src")
    rf = screening.create(tmp_path / "w.mscreen", [str(src)], ScreenOptions(), "tester")
    events: list[dict[str, Any]] = []
    try:
        s = Screening(rf, client, screening.options_of(rf), events.append)
        monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
        infos = s.check_workers()
        assert not events and infos[0]["environment"]["MALLOC_TRIM_THRESHOLD_"] is None
        monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")  # the in-process worker shares this environment
        s.check_workers()
    finally:
        rf.close()
    (warning,) = events
    assert warning["event"] == "warning" and "pre-spawn-environ.MALLOC_TRIM_THRESHOLD_ to null" in warning["message"]
