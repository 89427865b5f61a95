"""The examination as a Qt-free, evented state: what is open, what is shown, what changed.

Panels subscribe to the events they show and never ask each other to refresh; whoever changes
the state (a menu action, a finished job, an undo) changes it here and the subscribers follow,
as napari's viewer model does. Nothing here knows of Qt, so the state and its events are tested
without a window, and a second front end could drive the same state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from examiner.errors import ExaminerError

if TYPE_CHECKING:
    from examiner.analysis.symbols.proposals import Proposal
    from examiner.workflows.detect import DetectionOutcome
    from examiner.workflows.session import CaseSession

# Each event's subscribers take the arguments listed in ExaminationEvents.
Callback = Callable[..., None]


class NothingOpen(ExaminerError):
    """An action needs an open case or a shown evidence item and there is none.

    A separate class so a front end can tell "nothing to act on yet" (often answered by doing
    nothing) from a real problem with the case, which it must always show.
    """


class Event:
    """Callbacks called in the order they connected, with the arguments ``emit`` was given."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callback] = []
        self._blocked = 0

    def connect(self, callback: Callback) -> Callback:
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callback) -> None:
        self._callbacks = [c for c in self._callbacks if c is not callback]

    def emit(self, *args: object) -> None:
        if self._blocked:
            return
        for callback in list(self._callbacks):
            callback(*args)

    @contextmanager
    def blocked(self) -> Iterator[None]:
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1


class ExaminationEvents:
    """One event per thing a panel may show. Arguments: see :class:`ExaminationState`."""

    def __init__(self) -> None:
        self.session = Event("session")  # (session or None): a case was opened or closed
        self.evidence = Event("evidence")  # (evidence id or None): another item is shown
        self.comparison = Event("comparison")  # (key): another comparison image ("" for none)
        self.recorded = Event("recorded")  # (): something was written to the case (audit grew)
        self.findings = Event("findings")  # (evidence id, finding): a finding was recorded
        self.regions = Event("regions")  # (region id to select or None): regions changed
        self.proposals = Event("proposals")  # (proposals): the pending suggestions changed
        self.detection = Event("detection")  # (outcome or None): the detection shown changed


class ExaminationState:
    """The open case session, the evidence and comparison shown, and the pending proposals.

    Setting a property to a new value emits its event; announcing a change the case made
    (:meth:`finding_recorded`, :meth:`regions_changed`, :meth:`case_changed`) emits ``recorded``
    too, because every such change is also an audit entry.
    """

    def __init__(self) -> None:
        self.events = ExaminationEvents()
        self._session: CaseSession | None = None
        self._evidence_id: int | None = None
        self._comparison_key = ""
        self._proposals: list[Proposal] = []
        self._detection: DetectionOutcome | None = None

    # -- what is open and shown ----------------------------------------------------------------
    @property
    def session(self) -> CaseSession | None:
        return self._session

    @session.setter
    def session(self, value: CaseSession | None) -> None:
        if value is self._session:
            return
        self._session = value
        if value is None:
            self._evidence_id, self._comparison_key, self._proposals, self._detection = None, "", [], None
        self.events.session.emit(value)

    @property
    def evidence_id(self) -> int | None:
        return self._evidence_id

    @evidence_id.setter
    def evidence_id(self, value: int | None) -> None:
        if value != self._evidence_id:
            self._evidence_id = value
            self.events.evidence.emit(value)

    def show_evidence(self, evidence_id: int) -> None:
        """Announce the evidence item shown, even when it is the one shown already: showing it
        again puts its pixels back in the view, so whatever is drawn over them must follow."""
        self._evidence_id = evidence_id
        self.events.evidence.emit(evidence_id)

    @property
    def comparison_key(self) -> str:
        return self._comparison_key

    @comparison_key.setter
    def comparison_key(self, value: str) -> None:
        if value != self._comparison_key:
            self._comparison_key = value
            self.events.comparison.emit(value)

    @property
    def proposals(self) -> list[Proposal]:
        return self._proposals

    @proposals.setter
    def proposals(self, value: list[Proposal]) -> None:
        self._proposals = list(value)
        self.events.proposals.emit(self._proposals)

    @property
    def detection(self) -> DetectionOutcome | None:
        return self._detection

    @detection.setter
    def detection(self, value: DetectionOutcome | None) -> None:
        self._detection = value
        self.events.detection.emit(value)

    # -- guards --------------------------------------------------------------------------------
    # The one place that decides what "no case open" means and says so; front ends let the
    # NothingOpen through to whatever shows messages, or catch it where there is nothing to do.
    def require_session(self, what: str = "open or create a case first") -> CaseSession:
        if self._session is None:
            raise NothingOpen(what)
        return self._session

    def require_evidence(self, what: str = "open a case and select an evidence item first") -> tuple[CaseSession, int]:
        if self._session is None or self._evidence_id is None:
            raise NothingOpen(what)
        return self._session, self._evidence_id

    # -- changes the case made -----------------------------------------------------------------
    def case_changed(self) -> None:
        self.events.recorded.emit()

    def finding_recorded(self, evidence_id: int, finding: object) -> None:
        """``finding``: whatever the workflow's record step returned, passed on to subscribers."""
        self.events.findings.emit(evidence_id, finding)
        self.events.recorded.emit()

    def regions_changed(self, select: int | None = None) -> None:
        self.events.regions.emit(select)
        self.events.recorded.emit()
