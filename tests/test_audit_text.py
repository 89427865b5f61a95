"""The audit log in sentences: wording, escaping, which openings fold together in the window, and
the same sentence in the window's panel and the report's appendix."""

from __future__ import annotations

from examiner.core.audit import AuditEntry
from examiner.core.audit_words import sentence, what
from examiner.report.audit_section import audit_rows
from examiner.workflows.audit_text import fold


def _e(seq: int, action: str, ok: bool = True, actor: str = "Ada", **params: object) -> AuditEntry:
    p = dict(params)
    if action == "case.opened":
        p["ok"] = ok
    return AuditEntry(seq, f"2026-12-07T10:00:{seq:02d}.000Z", actor, action, p, "0" * 64, "1" * 64)


def test_consecutive_successful_openings_fold_and_a_failed_one_stands_out() -> None:
    entries = [_e(1, "case.created", details={"case_id": "C-1", "examiner": "Ada"})]
    entries += [_e(i, "case.opened") for i in (2, 3, 4)]
    entries += [_e(5, "case.opened", ok=False, chain="audit chain BROKEN at entry 3")]
    entries += [_e(6, "case.opened"), _e(7, "region.added", region={"id": 1, "category": "Geometry"})]
    rows, _ = fold(entries)
    texts = [r.text() for r in rows]
    assert texts[0] == "Ada created case C-1 with Ada as its examiner."
    assert texts[1].startswith("Ada opened the case 3 times (first 2026-12-07 10:00:02 UTC, last 2026-12-07 10:00:04 UTC)")
    assert "PROBLEM" in texts[2] and rows[2].seq_text == "5"
    assert texts[3].startswith("Ada opened the case; integrity verified")
    assert texts[4] == "Ada marked region R1 (Geometry)."
    # Shown incrementally: a new opening joins the last row only when that row is openings.
    more, joined = fold([_e(8, "case.opened"), _e(9, "case.opened")], rows)
    assert not joined and more[-1].folded and more[-1].seq_text == "8-9"
    again, joined = fold([_e(10, "case.opened")], more)
    assert joined and again[-1].seq_text == "8-10" and len(again) == len(more)


def test_untrusted_text_is_escaped_and_unknown_actions_still_read() -> None:
    s = what("evidence.added", {"evidence_id": 1, "path": "/tmp/a\u202egpj.exe", "sha256": "ab" * 32})
    assert "\\u202e" in s and "\u202e" not in s
    assert what("plugin.did_something", {"x": 1}) == "recorded the action \u201cplugin.did_something\u201d"
    assert what("meta.set", {"key": "report.summary"}) == "set the report's summary"
    assert what("region.added", {"region": "not a dict"}).startswith("marked")
    rows, _ = fold([_e(1, "meta.set", actor="Eve\x1b[2J", key="x")])
    assert "\\x1b" in rows[0].text() and "\x1b" not in rows[0].raw()


def test_a_failed_opening_names_what_failed() -> None:
    text = what("case.opened", {"ok": False, "chain": "audit chain intact (9 entries)", "rows": "1 table row problem(s): region 2",
                                "files": [{"evidence_id": 1, "role": "evidence", "status": "ok"},
                                          {"evidence_id": 2, "role": "reference", "status": "missing"}]})  # fmt: skip
    assert text == "opened the case; integrity PROBLEM: 1 table row problem(s): region 2; E2 reference missing"


def test_the_window_and_the_report_word_an_entry_the_same_way() -> None:
    entries = [
        _e(1, "case.created", details={"case_id": "C-1", "examiner": "Ada"}),
        _e(2, "evidence.added", evidence_id=4, path="/x/photo.png", sha256="cd" * 32),
        _e(3, "region.added", region={"id": 2, "evidence_id": 4, "categories": ["Shape", "Text"]}),
        _e(4, "meta.set", key="report.conclusion", value_sha256="ef" * 32),
    ]
    window = [r.text() for r in fold(entries)[0]]
    report = [r.sentence for r in audit_rows(entries, 200, {4: "E1"})]
    assert window[0] == report[0] == sentence(entries[0])
    assert window[3] == report[3] == "Ada set the report's conclusion (value SHA-256 efefefefefefefef...)."
    # The report numbers evidence in its own order; the window by the item's id. Otherwise the same words.
    assert report[2] == "Ada marked region R2 (Shape, Text) on evidence item E1."
    assert window[2] == report[2].replace("E1", "E4")
    assert window[1] == "Ada took in evidence item E4, photo.png (SHA-256 cdcdcdcdcdcdcdcd..., read-only)."
