"""The Qt-free examination state: setting what is shown emits events, closing resets it."""

from __future__ import annotations

import pytest

from examiner.errors import ExaminerError
from examiner.workflows.state import Event, ExaminationState, NothingOpen


def test_events_reach_subscribers_in_order_and_only_on_change() -> None:
    state = ExaminationState()
    seen: list[tuple[str, object]] = []
    state.events.session.connect(lambda s: seen.append(("session", s)))
    state.events.evidence.connect(lambda e: seen.append(("evidence", e)))
    state.events.comparison.connect(lambda k: seen.append(("comparison", k)))
    session = object()
    state.session = session
    state.session = session  # unchanged: no event
    state.evidence_id = 3
    state.evidence_id = 3
    state.comparison_key = "reference"
    assert seen == [("session", session), ("evidence", 3), ("comparison", "reference")]


def test_closing_the_session_resets_what_was_shown() -> None:
    state = ExaminationState()
    state.session = object()
    state.evidence_id, state.comparison_key, state.proposals, state.detection = 1, "finding:2", ["p"], "d"
    state.session = None
    assert (state.evidence_id, state.comparison_key, state.proposals, state.detection) == (None, "", [], None)
    with pytest.raises(ExaminerError, match="open or create a case"):
        state.require_session()
    with pytest.raises(ExaminerError, match="select an evidence item"):
        state.require_evidence()


def test_changes_the_case_made_announce_an_audit_entry_too() -> None:
    state = ExaminationState()
    log: list[str] = []
    state.events.recorded.connect(lambda: log.append("recorded"))
    state.events.findings.connect(lambda eid, f: log.append(f"finding {eid} {f}"))
    state.events.regions.connect(lambda select: log.append(f"regions {select}"))
    state.finding_recorded(1, "F7")
    state.regions_changed(4)
    state.case_changed()
    assert log == ["finding 1 F7", "recorded", "regions 4", "recorded", "recorded"]


def test_an_event_can_be_blocked_and_disconnected() -> None:
    e, calls = Event("x"), []
    cb = e.connect(lambda *a: calls.append(a))
    with e.blocked():
        e.emit(1)
    e.emit(2)
    e.disconnect(cb)
    e.emit(3)
    assert calls == [(2,)]


def test_showing_an_item_again_is_announced_again() -> None:
    state = ExaminationState()
    shown: list[int | None] = []
    state.events.evidence.connect(shown.append)
    state.evidence_id = 2
    state.evidence_id = 2  # unchanged: no event
    state.show_evidence(2)  # shown anew (its pixels were set again): its followers redraw
    assert shown == [2, 2] and state.evidence_id == 2


def test_nothing_open_is_an_examiner_error_of_its_own() -> None:
    state = ExaminationState()
    with pytest.raises(NothingOpen) as raised:
        state.require_evidence("open a case and an evidence item before marking regions")
    assert isinstance(raised.value, ExaminerError) and "before marking regions" in raised.value.message
    state.session = object()
    with pytest.raises(NothingOpen):
        state.require_evidence()
    assert state.require_session() is state.session
