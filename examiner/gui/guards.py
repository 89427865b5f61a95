"""What an action does when nothing is open or the case refuses, decided once for the window.

Actions ask the examination state for what they need (``state.require_session()``,
``state.require_evidence()``); when it is not there the state raises
:class:`~examiner.workflows.state.NothingOpen` with the sentence to show. Two decorators turn that
into behaviour: :func:`reported` for what the examiner asked for (any problem becomes a message,
never a crash) and :func:`when_open` for refreshes and follow-ups, which have nothing to do
without a case and stay silent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from examiner.errors import ExaminerError
from examiner.workflows.state import ExaminationState, NothingOpen

P = ParamSpec("P")
T = TypeVar("T")


class Reports(Protocol):
    """Whatever shows the examiner a problem: the window, or a controller that forwards to it."""

    def show_error(self, message: str) -> None: ...


class Host(Reports, Protocol):
    """What the controllers need from the window they serve, and nothing more."""

    def info(self, message: str) -> None: ...

    def set_tool(self, tool: str) -> None: ...


R = TypeVar("R", bound=Reports)


class Controller:
    """Base of the window's controllers: the examination state they act on and the host they
    report to (so the decorators below can show what went wrong)."""

    def __init__(self, state: ExaminationState, host: Host) -> None:
        self.state = state
        self.host = host

    def show_error(self, message: str) -> None:
        self.host.show_error(message)


def reported(fallback: T) -> Callable[[Callable[Concatenate[R, P], T]], Callable[Concatenate[R, P], T]]:
    """An action the examiner asked for: a problem (no case open included) is shown, and the
    action returns ``fallback`` instead of raising into Qt's event loop."""

    def wrap(fn: Callable[Concatenate[R, P], T]) -> Callable[Concatenate[R, P], T]:
        @functools.wraps(fn)
        def run(self: R, /, *args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return fn(self, *args, **kwargs)
            except ExaminerError as exc:
                self.show_error(exc.message)
                return fallback

        return run

    return wrap


def when_open(fallback: T) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """A refresh or follow-up that has nothing to do without a case or evidence item: it returns
    ``fallback`` quietly then. Any other problem still propagates, to be shown by its caller."""

    def wrap(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return fn(*args, **kwargs)
            except NothingOpen:
                return fallback

        return run

    return wrap


def attempt(reporter: Reports, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
    """Run one case operation; a user-facing problem becomes a message and the result None."""
    try:
        return fn(*args, **kwargs)
    except ExaminerError as exc:
        reporter.show_error(exc.message)
    return None
