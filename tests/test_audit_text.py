"""The audit log in sentences: wording, escaping, and which openings fold together."""

from __future__ import annotations

from examiner.core.audit import AuditEntry
from examiner.workflows.audit_text import fold, sentence


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
    assert texts[0] == "Ada created the case C-1 for examiner Ada"
    assert texts[1].startswith("Ada opened the case 3 times (first 2026-12-07 10:00:02 UTC, last 2026-12-07 10:00:04 UTC)")
    assert "PROBLEM" in texts[2] and rows[2].seq_text == "5"
    assert texts[3] == "Ada opened the case; integrity verified"
    assert texts[4] == "Ada marked region R1 (Geometry)"
    # Shown incrementally: a new opening joins the last row only when that row is openings.
    more, joined = fold([_e(8, "case.opened"), _e(9, "case.opened")], rows)
    assert not joined and more[-1].folded and more[-1].seq_text == "8-9"
    again, joined = fold([_e(10, "case.opened")], more)
    assert joined and again[-1].seq_text == "8-10" and len(again) == len(more)


def test_untrusted_text_is_escaped_and_unknown_actions_still_read() -> None:
    s = sentence("evidence.added", {"evidence_id": 1, "path": "/tmp/a\u202egpj.exe", "sha256": "ab" * 32})
    assert "\\u202e" in s and "\u202e" not in s
    assert sentence("plugin.did_something", {"x": 1}) == "recorded plugin.did_something"
    assert sentence("meta.set", {"key": "report.summary"}) == "set the report's summary"
    assert sentence("region.added", {"region": "not a dict"}).startswith("marked")
    rows, _ = fold([_e(1, "meta.set", actor="Eve\x1b[2J", key="x")])
    assert "\\x1b" in rows[0].text() and "\x1b" not in rows[0].raw()
